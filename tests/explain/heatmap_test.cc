// Heatmap SVG: well-formed XML at Criteo's 39 fields with every cell, label, tooltip and the
// legend present; names escaped and long names cut; no NaN when every value is equal; the
// separable (vector) wording. Set DEEPCROSS_HEATMAP_OUT=path to keep the 39-field SVG.
#include "explain/heatmap.h"
#include "train/curves.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace deepcross {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// A small XML well-formedness check: balanced, properly nested tags, quoted attributes, and
// '&' only in the five predefined entities. Returns "" or the first problem.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  size_t p = 0;
  if (s.rfind("<?xml ", 0) == 0) p = s.find("?>") + 2;
  while (p < s.size()) {
    if (s[p] == '&') {
      bool ok = false;
      for (const char* ent : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
        ok = ok || s.compare(p, std::char_traits<char>::length(ent), ent) == 0;
      }
      if (!ok) return "bare & at " + std::to_string(p);
      ++p;
      continue;
    }
    if (s[p] == '>') return "stray > at " + std::to_string(p);
    if (s[p] != '<') {
      ++p;
      continue;
    }
    size_t q = p + 1;
    char quote = 0;
    while (q < s.size() && (quote || s[q] != '>')) {
      if (quote && s[q] == quote) {
        quote = 0;
      } else if (!quote && (s[q] == '"' || s[q] == '\'')) {
        quote = s[q];
      } else if (quote && (s[q] == '<')) {
        return "< inside an attribute at " + std::to_string(q);
      }
      ++q;
    }
    if (q >= s.size()) return "unterminated tag at " + std::to_string(p);
    std::string tag = s.substr(p + 1, q - p - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    const bool self_closing = !tag.empty() && tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \t\n/"));
    if (name.empty()) return "empty tag name at " + std::to_string(p);
    if (closing) {
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    p = q + 1;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

Explanation criteo_like() {
  Explanation e;
  e.cross = "matrix";
  e.layers = 2;
  for (int i = 1; i <= 13; ++i) e.fields.push_back("I" + std::to_string(i));
  for (int i = 14; i <= 39; ++i) e.fields.push_back("C" + std::to_string(i));
  const size_t n = e.fields.size();
  for (size_t i = 0; i < n; ++i) e.categorical.push_back(i >= 13);
  e.matrix.assign(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      e.matrix[i][j] = 0.05 + 0.02 * std::sin(0.7 * i + 1.3 * j) + (i == j ? 0.3 : 0.0);
    }
  }
  e.matrix[20][30] = 0.4;  // C21 receives from C31
  e.matrix[30][20] = 0.3;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      e.pairs.push_back({e.fields[i], e.fields[j], (e.matrix[i][j] + e.matrix[j][i]) / 2});
    }
  }
  std::stable_sort(e.pairs.begin(), e.pairs.end(),
                   [](const auto& a, const auto& b) { return a.strength > b.strength; });
  e.init_level = 0.05;
  e.note = "test";
  return e;
}

TEST(Heatmap, ThirtyNineFieldsWellFormed) {
  const Explanation e = criteo_like();
  const std::string svg = render_heatmap_svg(e, "Criteo matrix cross");
  if (const char* out = std::getenv("DEEPCROSS_HEATMAP_OUT")) std::ofstream(out) << svg;
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(count(svg, "<title>"), 39u * 39u);                            // one tooltip per cell
  EXPECT_EQ(count(svg, "rotate(-60)"), 39u);                              // the column labels
  EXPECT_EQ(count(svg, "text-anchor=\"end\">C39</text>"), 1u);            // the row label
  EXPECT_EQ(count(svg, "stroke=\"#d62728\" stroke-width=\"1.5\""), 39u);  // diagonal outlined
  EXPECT_NE(svg.find(">Criteo matrix cross</text>"), std::string::npos);
  EXPECT_NE(svg.find("<title>C21 \u2190 C31: 0.4\npair C21 \u00d7 C31: 0.35</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("<title>I1 with itself: 0.35"), std::string::npos);
  EXPECT_NE(svg.find("linearGradient id=\"viridis\""), std::string::npos);
  EXPECT_NE(svg.find(">init</text>"), std::string::npos);
  EXPECT_NE(svg.find(">strongest pairs</text>"), std::string::npos);
  EXPECT_NE(svg.find(">C21 \u00d7 C31</text>"), std::string::npos);  // first in the panel
  EXPECT_EQ(count(svg, "<path d=\"M"), 1u + 5u + 1u);  // numeric | categorical rule, ticks, init
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  // The top colour goes to the largest off-diagonal cell, the bottom one to the smallest.
  EXPECT_NE(svg.find("fill=\"#fde725\"><title>C21 \u2190 C31"), std::string::npos);
}

TEST(Heatmap, EscapesAndShortensNames) {
  Explanation e;
  e.cross = "lowrank";
  e.layers = 1;
  e.fields = {"a<b", "x&\"y'", std::string(40, 'n')};
  e.categorical = {true, true, true};
  e.matrix = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
  e.pairs = {{"x&\"y'", e.fields[2], 7}, {"a<b", e.fields[2], 5}, {"a<b", "x&\"y'", 3}};
  const std::string svg = render_heatmap_svg(e, "title <&>");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find(">title &lt;&amp;&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">a&lt;b</text>"), std::string::npos);
  EXPECT_NE(svg.find(">x&amp;&quot;y&apos;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">" + std::string(23, 'n') + "\u2026</text>"), std::string::npos);
  EXPECT_NE(svg.find(std::string(40, 'n') + " with itself"), std::string::npos);  // tooltip
  EXPECT_EQ(count(svg, "rotate(-60)"), 3u);
  EXPECT_EQ(count(svg, "<path d=\"M"), 5u);  // ticks only: all categorical, init level 0 off scale
}

TEST(Heatmap, EqualValuesAndOneField) {
  Explanation e;
  e.cross = "matrix";
  e.layers = 1;
  e.fields = {"A", "B"};
  e.categorical = {false, true};
  e.matrix = {{0.1, 0.1}, {0.1, 0.1}};
  e.pairs = {{"A", "B", 0.1}};
  std::string svg = render_heatmap_svg(e, "flat");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  e.fields = {"A"};
  e.categorical = {true};
  e.matrix = {{0.2}};
  e.pairs.clear();
  svg = render_heatmap_svg(e, "one");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<title>"), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(Heatmap, SeparableCrossSaysSo) {
  Explanation e = criteo_like();
  e.cross = "vector";
  e.separable = true;
  const std::string svg = render_heatmap_svg(e, "vector");
  EXPECT_NE(svg.find("Separable (vector cross): strength(a, b) = term(a) + term(b)"),
            std::string::npos);
}

TEST(Heatmap, XmlEscape) {
  EXPECT_EQ(escape_xml_text("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(escape_xml_text(std::string("x\x01y\tz")), "x\uFFFDy\tz");
  EXPECT_EQ(escape_xml_text("\u00e9t\u00e9"), "\u00e9t\u00e9");
  EXPECT_EQ(xml_problem("<a><b></a></b>"), "mismatched </a>");  // the checker itself
  EXPECT_EQ(xml_problem("<a x=\"1\">&bad;</a>"), "bare & at 9");
}

}  // namespace
}  // namespace deepcross
