#include "explain/heatmap.h"
#include "picture/svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace deepcross {
namespace {

// viridis, sampled at 0, 1/9, ..., 1 (matplotlib's colormap).
constexpr std::array<std::array<int, 3>, 10> kViridis = {{{68, 1, 84},
                                                          {72, 40, 120},
                                                          {62, 73, 137},
                                                          {49, 104, 142},
                                                          {38, 130, 142},
                                                          {31, 158, 137},
                                                          {53, 183, 121},
                                                          {110, 206, 88},
                                                          {181, 222, 43},
                                                          {253, 231, 37}}};

std::string colour(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kViridis.size() - 1);
  const size_t k = std::min(static_cast<size_t>(t), kViridis.size() - 2);
  const double f = t - k;
  char buf[8];
  int c[3];
  for (int i = 0; i < 3; ++i) {
    c[i] =
        static_cast<int>(std::lround(kViridis[k][i] + f * (kViridis[k + 1][i] - kViridis[k][i])));
  }
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Labels longer than this are cut with an ellipsis; the tooltip keeps the full name.
constexpr size_t kMaxLabel = 24;

std::string label(const std::string& name) {
  if (name.size() <= kMaxLabel) return name;
  size_t cut = kMaxLabel - 1;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return name.substr(0, cut) + "\u2026";
}

std::string text(double x, double y, const std::string& s, const std::string& attrs = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\"" + (attrs.empty() ? "" : " " + attrs) +
         ">" + escape_xml_text(s) + "</text>\n";
}

}  // namespace


std::string render_heatmap_svg(const Explanation& e, const std::string& title) {
  const int n = static_cast<int>(e.fields.size());
  // Colour scale over the off-diagonal cells (self cells are often far larger and would wash
  // the crosses out); with one field, over its one cell.
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i == j && n > 1) continue;
      lo = std::min(lo, e.matrix[i][j]);
      hi = std::max(hi, e.matrix[i][j]);
    }
  }
  if (n == 0) lo = hi = 0;
  const double span = hi > lo ? hi - lo : 1.0;
  // Square-root colour scale: one strong pair must not turn every other cell the same dark.
  auto scale = [&](double v) { return std::sqrt(std::clamp((v - lo) / span, 0.0, 1.0)); };

  // Geometry (px). Labels: 11 px sans-serif, about 6.5 px a character.
  const double cell = std::clamp(std::floor(720.0 / std::max(n, 1)), 12.0, 40.0);
  size_t longest = 1;
  for (const auto& f : e.fields) longest = std::max(longest, label(f).size());
  const double label_w = 6.5 * static_cast<double>(longest) + 8;
  const double header = 96;
  const double gx = 26 + label_w, gy = header + 0.87 * label_w + 8;  // columns rotated −60°
  const double gw = cell * n, gh = cell * n;
  const double bar_x = gx + gw + 0.5 * label_w + 36, bar_y = gy, bar_h = std::max(gh, 200.0);
  const double panel_x = bar_x + 110;
  const int panel_rows = static_cast<int>(std::min<size_t>(e.pairs.size(), 15));
  const double panel_w = 6.5 * (2 * static_cast<double>(longest) + 3) + 90;
  const double width = std::max(panel_x + panel_w + 16, 720.0);  // the 3 lines above the grid
  const double height = std::max(gy + std::max(gh, bar_h) + 56, gy + 60 + 17.0 * panel_rows);

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" +
       num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
       "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  s += text(16, 24, title, "font-size=\"16\" font-weight=\"bold\"");
  const std::string lines[3] = {
      e.cross + " cross, " + std::to_string(e.layers) +
          " layers. Cell (row i, column j): RMS of the cross weights by which field i's x0 "
          "columns read field j,",
      (e.scale != "inputs" ? ""
       : e.separable       ? "in input units (weight \u00d7 the read column's spread), "
                           : "in input units (weight \u00d7 both columns' spreads), ") +
          std::string("summed over layers. Pair strength(a, b) = mean of cells (a, b) and (b, a)."),
      e.separable ? "Separable (vector cross): strength(a, b) = term(a) + term(b); all rows are "
                    "alike. Hover a cell for its value."
                  : "Diagonal cells (outlined): a field with itself, not a cross. Hover a cell "
                    "for its value."};
  for (int k = 0; k < 3; ++k) s += text(16, 44 + 15 * k, lines[k], "fill=\"#333\"");

  // Axis titles.
  s += text(gx + gw / 2, header - 4, "field j (read from) \u2192",
            "text-anchor=\"middle\" fill=\"#555\" font-style=\"italic\"");
  s += "<text transform=\"translate(14," + num(gy + gh / 2) +
       ") rotate(-90)\" text-anchor=\"middle\" fill=\"#555\" font-style=\"italic\">"
       "field i (receives) \u2192</text>\n";

  // Field labels: rows on the left (right-aligned), columns on top (rotated −60°).
  for (int i = 0; i < n; ++i) {
    const std::string name = label(e.fields[i]);
    const double c = i * cell + cell / 2;
    s += text(gx - 4, gy + c + 4, name, "text-anchor=\"end\"");
    s += "<text transform=\"translate(" + num(gx + c + 3) + "," + num(gy - 4) + ") rotate(-60)\">" +
         escape_xml_text(name) + "</text>\n";
  }

  // Cells, each with its exact value in a tooltip.
  s += "<g stroke=\"#ffffff\" stroke-width=\"0.5\">\n";
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double v = e.matrix[i][j];
      std::string tip;
      if (i == j) {
        tip = e.fields[i] + " with itself: " + format_strength(v) + " (not a cross between fields)";
      } else {
        const double pair = (e.matrix[i][j] + e.matrix[j][i]) / 2;
        tip = e.fields[i] + " \u2190 " + e.fields[j] + ": " + format_strength(v) + "\npair " +
              e.fields[std::min(i, j)] + " \u00d7 " + e.fields[std::max(i, j)] + ": " +
              format_strength(pair);
      }
      s += "<rect x=\"" + num(gx + j * cell) + "\" y=\"" + num(gy + i * cell) + "\" width=\"" +
           num(cell) + "\" height=\"" + num(cell) + "\" fill=\"" + colour(scale(v)) + "\"" +
           (i == j ? " stroke=\"#d62728\" stroke-width=\"1.5\"" : "") + "><title>" +
           escape_xml_text(tip) + "</title></rect>\n";
    }
  }
  s += "</g>\n";

  // A rule between the numeric and the categorical fields.
  int first_cat = 0;
  while (first_cat < n && !e.categorical[first_cat]) ++first_cat;
  if (first_cat > 0 && first_cat < n) {
    const double p = first_cat * cell;
    s += "<path d=\"M" + num(gx + p) + "," + num(gy - 6) + "V" + num(gy + gh) + "M" + num(gx - 6) +
         "," + num(gy + p) + "H" + num(gx + gw) + "\" stroke=\"#ffffff\" stroke-width=\"2.5\"/>\n";
  }

  // Colour bar with ticks and the initial level.
  s += "<defs><linearGradient id=\"viridis\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (size_t k = 0; k < kViridis.size(); ++k) {
    const double t = static_cast<double>(k) / (kViridis.size() - 1);
    s += "<stop offset=\"" + num(100 * t) + "%\" stop-color=\"" + colour(t) + "\"/>";
  }
  s += "</linearGradient></defs>\n";
  s += text(bar_x - 4, bar_y - 10, "strength", "font-weight=\"bold\"");
  s += "<rect x=\"" + num(bar_x) + "\" y=\"" + num(bar_y) + "\" width=\"16\" height=\"" +
       num(bar_h) + "\" fill=\"url(#viridis)\" stroke=\"#888\" stroke-width=\"0.5\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    const double y = bar_y + bar_h * (1 - t / 4.0);
    s += "<path d=\"M" + num(bar_x + 16) + "," + num(y) + "h4\" stroke=\"#333\"/>\n";
    s += text(bar_x + 23, y + 4, format_strength(lo + (hi - lo) * (t / 4.0) * (t / 4.0)));
  }
  if (e.init_level >= lo && e.init_level <= hi && hi > lo) {
    const double y = bar_y + bar_h * (1 - scale(e.init_level));
    s += "<path d=\"M" + num(bar_x - 5) + "," + num(y) + "h26\" stroke=\"#d62728\"/>\n";
    s += text(bar_x - 8, y + 4, "init", "text-anchor=\"end\" fill=\"#d62728\"");
  }
  s += text(bar_x - 4, bar_y + bar_h + 16, "init level " + format_strength(e.init_level),
            "fill=\"#d62728\"");
  s += text(bar_x - 4, bar_y + bar_h + 30, "off-diagonal range,", "fill=\"#555\"");
  s += text(bar_x - 4, bar_y + bar_h + 44, "square-root scale", "fill=\"#555\"");

  // The strongest pairs.
  s += text(panel_x, gy - 10, "strongest pairs", "font-weight=\"bold\"");
  for (int p = 0; p < panel_rows; ++p) {
    const PairStrength& ps = e.pairs[p];
    const double y = gy + 8 + 17.0 * p;
    s += text(panel_x, y, std::to_string(p + 1) + ".", "fill=\"#555\"");
    s += text(panel_x + 24, y, label(ps.a) + " \u00d7 " + label(ps.b));
    s += text(panel_x + panel_w, y, format_strength(ps.strength), "text-anchor=\"end\"");
  }
  s += "</svg>\n";
  return s;
}

}  // namespace deepcross
