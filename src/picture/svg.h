// What the SVG pictures (train/curves.h learning curves, explain/heatmap.h interaction
// heatmap) share: text made safe for XML.
//
//   out += "<title>" + escape_xml_text(name) + "</title>";  // & < > " ' escaped
#pragma once

#include <string>

namespace deepcross {

// Escapes `text` for XML character data and attribute values: & < > " ' as entities, and
// what XML 1.0 forbids (control characters, invalid UTF-8, U+FFFE/U+FFFF) as U+FFFD.
std::string escape_xml_text(const std::string& text);

}  // namespace deepcross
