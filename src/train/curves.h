// Training curves as a self-contained SVG 1.1 image (`--curves`, default MODEL.curves.svg):
// two panels side by side, log loss and AUC per epoch, train and validation in two colours,
// the best epoch marked with a vertical dashed line, a legend and a title.
//
//   History h = ...;  // one EpochRecord per epoch
//   write_curves_svg("model.dcn.curves.svg", h, "deepcross — matrix cross, stacked");
//   std::string svg = render_curves_svg(h, "title");  // the same text, in memory
//
// The SVG opens in any browser: no scripts, no external fonts (generic "sans-serif"), a white
// background, every point a circle whose tooltip (<title>) names epoch, series and value.
// The title is escaped (& < > " ') and cleaned of what XML 1.0 forbids (control characters,
// invalid UTF-8 become U+FFFD). Axes: x = epoch with integer ticks 1-2-5 × 10^k apart; y spans
// the finite values of both series, widened to whole "nice" ticks (1, 2 or 5 × 10^k apart),
// kept within [0, 1] for AUC and at or above 0 for loss when the data are. NaN and infinite
// values are skipped: the line breaks there. A panel without a finite value says "no data".
// An empty history gives the frame with "no data" in both panels.
#pragma once

#include <string>

#include "picture/svg.h"  // escape_xml_text, for the title
#include "train/history.h"

namespace deepcross {

std::string render_curves_svg(const History& history, const std::string& title);

// Writes render_curves_svg() to `path` atomically; DataError naming the path on failure.
void write_curves_svg(const std::string& path, const History& history, const std::string& title);

// Tick placement, exposed for tests. Ticks run from lo to hi in steps of `step`; `decimals`
// is enough to print each tick exactly (0.775 -> 3).
struct NiceAxis {
  double lo = 0, hi = 1, step = 0.2;
  int decimals = 1;
};
// An axis covering [min, max] (min <= max, both finite) with about `target_ticks` ticks.
NiceAxis nice_axis(double min, double max, int target_ticks = 5);


}  // namespace deepcross
