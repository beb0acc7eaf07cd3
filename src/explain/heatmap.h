// Heatmap: the field × field interaction strengths of an Explanation as a standalone SVG.
//
//   Explanation e = explain_model(model, fields, &sample);
//   write_file("model.explain.svg", render_heatmap_svg(e, "criteo matrix cross"));
//
// Rows are the receiving field i, columns the field j it reads (the directed matrix
// M[i][j], explain.h); field names on both axes (column names rotated), one colour per cell
// from the viridis scale between the smallest and largest off-diagonal value (colour position
// √((v − min) / (max − min)), so that one dominant pair leaves contrast for the rest), and a
// colour bar with the initial level marked. Diagonal (self) cells are outlined; a value above the
// scale is drawn at its top colour. Every cell carries its exact value, and its pair
// strength, in a tooltip (<title>), and a side panel lists the strongest pairs. Readable at
// 39 x 39 fields (Criteo) in a browser; the cell size adapts to the field count.
#pragma once

#include <string>

#include "explain/explain.h"

namespace deepcross {

std::string render_heatmap_svg(const Explanation& e, const std::string& title);


}  // namespace deepcross
