// Tests of the SVG training curves: well-formed XML (checked by a small strict parser below,
// so no external tool is needed), both series, NaN gaps, the best-epoch marker, axis ranges,
// title escaping, 0/1/100 epochs, atomic writes.
#include "train/curves.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- A small strict XML 1.0 parser: elements, attributes, text, the five entities and
// character references, an XML declaration, one root. Enough to prove well-formedness.
struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;  // values unescaped
  std::string text;                          // direct character data, unescaped
  int parent = -1;                           // index of the parent element, -1 for the root
};

class XmlParser {
 public:
  explicit XmlParser(const std::string& s) : s_(s) {}

  // Parses the whole document; returns "" or the first problem found.
  std::string parse() {
    if (std::string e = check_chars(); !e.empty()) return e;
    if (s_.compare(0, 5, "<?xml") == 0) {
      const size_t end = s_.find("?>");
      if (end == std::string::npos) return "unterminated XML declaration";
      i_ = end + 2;
    }
    skip_space();
    if (std::string e = element(-1); !e.empty()) return e + " at byte " + std::to_string(i_);
    skip_space();
    if (i_ != s_.size()) return "content after the root element at byte " + std::to_string(i_);
    return "";
  }
  const std::vector<Element>& elements() const { return elements_; }

 private:
  // Valid UTF-8 holding only XML Chars.
  std::string check_chars() const {
    for (size_t i = 0; i < s_.size();) {
      const auto b = static_cast<unsigned char>(s_[i]);
      int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      if (len == 0 || i + len > s_.size()) return "bad UTF-8 at byte " + std::to_string(i);
      uint32_t c = len == 1 ? b : b & (0x7F >> len);
      for (int k = 1; k < len; ++k) {
        const auto t = static_cast<unsigned char>(s_[i + k]);
        if ((t >> 6) != 2) return "bad UTF-8 at byte " + std::to_string(i);
        c = (c << 6) | (t & 0x3F);
      }
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return "bad UTF-8 at byte " + std::to_string(i);
      }
      const bool ok = c == 9 || c == 10 || c == 13 || (c >= 0x20 && c <= 0xD7FF) ||
                      (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
      if (!ok) return "character not allowed in XML at byte " + std::to_string(i);
      i += len;
    }
    return "";
  }

  void skip_space() {
    while (i_ < s_.size() && std::string_view(" \t\r\n").find(s_[i_]) != std::string_view::npos) {
      ++i_;
    }
  }

  static bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }

  bool name(std::string& out) {
    if (i_ >= s_.size() || !name_start(s_[i_])) return false;
    const size_t start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    out = s_.substr(start, i_ - start);
    return true;
  }

  // Unescapes s_[from, to): every '&' must start a known entity; '<' is not allowed.
  std::string unescape(size_t from, size_t to, std::string& out) const {
    for (size_t k = from; k < to; ++k) {
      if (s_[k] == '<') return "'<' in character data or attribute";
      if (s_[k] != '&') {
        out += s_[k];
        continue;
      }
      const size_t semi = s_.find(';', k);
      if (semi == std::string::npos || semi >= to) return "unterminated entity";
      const std::string ent = s_.substr(k + 1, semi - k - 1);
      static const std::map<std::string, char> kNamed = {
          {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
      if (auto it = kNamed.find(ent); it != kNamed.end()) {
        out += it->second;
      } else if (ent.size() > 1 && ent[0] == '#') {
        const bool hex = ent[1] == 'x';
        uint32_t c = 0;
        const char* first = ent.data() + (hex ? 2 : 1);
        auto [end, ec] = std::from_chars(first, ent.data() + ent.size(), c, hex ? 16 : 10);
        if (ec != std::errc() || end != ent.data() + ent.size()) return "bad character reference";
        out += "?";
      } else {
        return "unknown entity &" + ent + ";";
      }
      k = semi;
    }
    return "";
  }

  std::string element(int parent) {
    if (i_ >= s_.size() || s_[i_] != '<') return "expected '<'";
    ++i_;
    Element e;
    e.parent = parent;
    if (!name(e.name)) return "bad element name";
    const size_t index = elements_.size();
    elements_.push_back(e);
    while (true) {
      const size_t before = i_;
      skip_space();
      if (i_ >= s_.size()) return "unterminated start tag";
      if (s_.compare(i_, 2, "/>") == 0) {
        i_ += 2;
        return "";
      }
      if (s_[i_] == '>') {
        ++i_;
        break;
      }
      if (i_ == before) return "no space before attribute";
      std::string attr;
      if (!name(attr)) return "bad attribute name";
      if (i_ >= s_.size() || s_[i_] != '=') return "expected '=' after " + attr;
      ++i_;
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return "unquoted attribute";
      const char quote = s_[i_++];
      const size_t end = s_.find(quote, i_);
      if (end == std::string::npos) return "unterminated attribute";
      std::string value;
      if (std::string err = unescape(i_, end, value); !err.empty()) return err;
      if (!elements_[index].attrs.emplace(attr, value).second) return "duplicate " + attr;
      i_ = end + 1;
    }
    // Content: text and child elements up to the matching end tag.
    while (true) {
      const size_t lt = s_.find('<', i_);
      if (lt == std::string::npos) return "unterminated element " + elements_[index].name;
      std::string text;
      if (std::string err = unescape(i_, lt, text); !err.empty()) return err;
      elements_[index].text += text;
      i_ = lt;
      if (s_.compare(i_, 2, "</") == 0) {
        i_ += 2;
        std::string closing;
        if (!name(closing) || closing != elements_[index].name) {
          return "end tag </" + closing + "> does not match <" + elements_[index].name + ">";
        }
        skip_space();
        if (i_ >= s_.size() || s_[i_] != '>') return "bad end tag";
        ++i_;
        return "";
      }
      if (std::string err = element(static_cast<int>(index)); !err.empty()) return err;
    }
  }

  const std::string s_;
  size_t i_ = 0;
  std::vector<Element> elements_;
};

std::vector<Element> parse_svg(const std::string& svg) {
  XmlParser p(svg);
  const std::string err = p.parse();
  EXPECT_EQ(err, "") << svg;
  return p.elements();
}

TEST(XmlParserTest, RejectsMalformedDocuments) {
  for (const char* bad : {"<a>", "<a></b>", "<a x=1/>", "<a>&foo;</a>", "<a>x < y</a>", "<a/><b/>",
                          "<a x=\"1\" x=\"2\"/>", "<a>\x01</a>", "<a>\xC0\x80</a>"}) {
    XmlParser p{std::string(bad)};
    EXPECT_NE(p.parse(), "") << bad;
  }
  XmlParser good{std::string("<?xml version=\"1.0\"?>\n<a k='v&amp;'>t&lt;<b/>u</a>\n")};
  EXPECT_EQ(good.parse(), "");
  ASSERT_EQ(good.elements().size(), 2u);
  EXPECT_EQ(good.elements()[0].attrs.at("k"), "v&");
  EXPECT_EQ(good.elements()[0].text, "t<u");
}

// ---- Helpers over parsed SVG.
std::vector<const Element*> all(const std::vector<Element>& es, const std::string& name) {
  std::vector<const Element*> out;
  for (const Element& e : es) {
    if (e.name == name) out.push_back(&e);
  }
  return out;
}

double number(const std::string& s) {
  double v = kNaN;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

EpochRecord record(int epoch, double tl, double ta, double vl, double va, bool best) {
  EpochRecord r;
  r.epoch = epoch;
  r.train_loss = tl;
  r.train_auc = ta;
  r.val_loss = vl;
  r.val_auc = va;
  r.seconds = 10;
  r.samples_per_s = 50000;
  r.best = best;
  return r;
}

// A plausible run: losses falling, AUCs rising, validation levelling off and overfitting.
History plausible(int epochs) {
  History h;
  double best = 0;
  for (int e = 1; e <= epochs; ++e) {
    const double decay = std::exp(-e / 4.0);
    const double va = 0.79 - 0.05 * decay - 0.00002 * (e - 15) * (e - 15);
    const bool improved = va > best;
    best = std::max(best, va);
    h.add(record(e, 0.44 + 0.08 * decay - 0.0004 * e, 0.80 - 0.06 * decay + 0.0006 * e,
                 0.455 + 0.06 * decay + 0.00001 * (e - 12) * (e - 12), va, improved));
  }
  return h;
}

size_t count_with(const std::vector<Element>& es, const std::string& name, const std::string& attr,
                  const std::string& value) {
  size_t n = 0;
  for (const Element* e : all(es, name)) {
    auto it = e->attrs.find(attr);
    if (it != e->attrs.end() && it->second == value) ++n;
  }
  return n;
}

struct Frame {
  double x, y, w, h;
};

// The two plot frames: the unfilled rects.
std::vector<Frame> frames(const std::vector<Element>& es) {
  std::vector<Frame> out;
  for (const Element* e : all(es, "rect")) {
    if (e->attrs.count("fill") && e->attrs.at("fill") == "none") {
      out.push_back({number(e->attrs.at("x")), number(e->attrs.at("y")),
                     number(e->attrs.at("width")), number(e->attrs.at("height"))});
    }
  }
  return out;
}

bool inside(const std::vector<Frame>& fs, double x, double y) {
  for (const Frame& f : fs) {
    if (x >= f.x && x <= f.x + f.w && y >= f.y && y <= f.y + f.h) return true;
  }
  return false;
}

std::string anchor(const Element* e) {
  auto it = e->attrs.find("text-anchor");
  return it == e->attrs.end() ? "" : it->second;
}

bool contains_text(const std::vector<Element>& es, const std::string& text) {
  for (const Element& e : es) {
    if (e.text.find(text) != std::string::npos) return true;
  }
  return false;
}

// ---- Tests.
TEST(CurvesTest, PlausibleRunIsWellFormedSvgWithBothSeries) {
  const History h = plausible(25);
  const std::string svg = render_curves_svg(h, "deepcross — matrix cross, stacked");
  const std::vector<Element> es = parse_svg(svg);
  ASSERT_FALSE(es.empty());
  EXPECT_EQ(es[0].name, "svg");
  EXPECT_EQ(es[0].attrs.at("xmlns"), "http://www.w3.org/2000/svg");
  EXPECT_EQ(es[0].attrs.at("version"), "1.1");
  EXPECT_TRUE(all(es, "script").empty());
  EXPECT_EQ(svg.find("url("), std::string::npos);  // nothing external
  EXPECT_EQ(svg.find("href"), std::string::npos);
  // Train and validation lines in both panels, in two colours.
  const auto lines = all(es, "polyline");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(count_with(es, "polyline", "stroke", "#1f77b4"), 2u);
  EXPECT_EQ(count_with(es, "polyline", "stroke", "#ff7f0e"), 2u);
  for (const Element* l : lines) {
    std::istringstream pts(l->attrs.at("points"));
    std::string pair;
    int n = 0;
    while (pts >> pair) ++n;
    EXPECT_EQ(n, 25);
  }
  EXPECT_EQ(all(es, "circle").size(), 100u);
  // Headings, legend, axis labels, title in <title> and as text.
  for (const char* t : {"Log loss (lower is better)", "AUC (higher is better)", "train",
                        "validation", "best epoch", "epoch", "log loss", "AUC"}) {
    EXPECT_TRUE(contains_text(es, t)) << t;
  }
  EXPECT_EQ(all(es, "title")[0]->text, "deepcross — matrix cross, stacked");
  EXPECT_TRUE(contains_text(es, "epoch 7, validation AUC 0.78"));
}

TEST(CurvesTest, EveryPointLiesInsideAPlotFrame) {
  const std::vector<Element> es = parse_svg(render_curves_svg(plausible(40), "t"));
  const std::vector<Frame> fs = frames(es);
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_LT(fs[0].x + fs[0].w, fs[1].x);  // side by side
  for (const Element* c : all(es, "circle")) {
    EXPECT_TRUE(inside(fs, number(c->attrs.at("cx")), number(c->attrs.at("cy"))));
  }
  for (const Element* l : all(es, "polyline")) {
    std::istringstream pts(l->attrs.at("points"));
    std::string pair;
    while (pts >> pair) {
      const size_t comma = pair.find(',');
      EXPECT_TRUE(inside(fs, number(pair.substr(0, comma)), number(pair.substr(comma + 1))))
          << pair;
    }
  }
}

TEST(CurvesTest, BestEpochIsADashedLineInEachPanel) {
  const History h = plausible(25);
  const int best = h.epochs()[*h.best_index()].epoch;
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "t"));
  std::vector<const Element*> dashed;
  for (const Element* l : all(es, "line")) {
    if (l->attrs.count("stroke-dasharray")) dashed.push_back(l);
  }
  ASSERT_EQ(dashed.size(), 3u);  // the legend sample and one per panel
  const std::vector<Frame> fs = frames(es);
  for (int i = 1; i <= 2; ++i) {
    const Element& l = *dashed[i];
    EXPECT_EQ(l.attrs.at("x1"), l.attrs.at("x2"));
    EXPECT_EQ(number(l.attrs.at("y1")), fs[0].y);
    EXPECT_EQ(number(l.attrs.at("y2")), fs[0].y + fs[0].h);
  }
  EXPECT_TRUE(contains_text(es, "best: epoch " + std::to_string(best)));

  // The marker's x is the x of that epoch's points.
  std::string circle_x;
  for (const Element* t : all(es, "title")) {
    if (t->parent >= 0 && es[t->parent].name == "circle" &&
        t->text.find("epoch " + std::to_string(best) + ", train loss") == 0) {
      circle_x = es[t->parent].attrs.at("cx");
    }
  }
  EXPECT_EQ(circle_x, dashed[1]->attrs.at("x1"));
}

TEST(CurvesTest, NoBestEpochMeansNoMarkerAndNoLegendEntry) {
  History h;
  h.add(record(1, 0.5, 0.7, 0.5, 0.7, false));
  h.add(record(2, 0.4, 0.8, 0.45, 0.72, false));
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "t"));
  for (const Element* l : all(es, "line")) EXPECT_EQ(l->attrs.count("stroke-dasharray"), 0u);
  EXPECT_FALSE(contains_text(es, "best"));
}

TEST(CurvesTest, NaNValuesAreSkippedAndBreakTheLine) {
  History h = plausible(10);
  History g;
  for (EpochRecord r : h.epochs()) {
    if (r.epoch == 4) r.train_auc = kNaN;
    if (r.epoch == 7) r.val_loss = std::numeric_limits<double>::infinity();
    g.add(r);
  }
  const std::string svg = render_curves_svg(g, "t");
  const std::vector<Element> es = parse_svg(svg);
  EXPECT_EQ(all(es, "circle").size(), 38u);
  EXPECT_EQ(all(es, "polyline").size(), 6u);  // train AUC and val loss each in two pieces
  EXPECT_FALSE(contains_text(es, "epoch 4, train AUC"));
  EXPECT_FALSE(contains_text(es, "epoch 7, validation loss"));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(CurvesTest, TrainAucUndefinedEverywhereStillDrawsValidation) {
  History h;
  for (int e = 1; e <= 5; ++e) h.add(record(e, 0.5 - 0.01 * e, kNaN, 0.5, 0.7 + 0.01 * e, e == 5));
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "t"));
  EXPECT_EQ(count_with(es, "polyline", "stroke", "#1f77b4"), 1u);  // train loss only
  EXPECT_EQ(count_with(es, "polyline", "stroke", "#ff7f0e"), 2u);
  EXPECT_FALSE(contains_text(es, "no data"));
}

TEST(CurvesTest, PanelWithoutFiniteValuesSaysNoData) {
  History h;
  for (int e = 1; e <= 3; ++e) h.add(record(e, 0.5, kNaN, 0.5, kNaN, false));
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "t"));
  size_t no_data = 0;
  for (const Element& e : es) no_data += e.text == "no data";
  EXPECT_EQ(no_data, 1u);
  // A constant loss still gets an axis around it.
  EXPECT_EQ(all(es, "polyline").size(), 2u);
  EXPECT_EQ(frames(es).size(), 2u);
}

TEST(CurvesTest, EmptyHistoryRendersTheFrameWithNoData) {
  const std::vector<Element> es = parse_svg(render_curves_svg(History(), "empty"));
  size_t no_data = 0;
  for (const Element& e : es) no_data += e.text == "no data";
  EXPECT_EQ(no_data, 2u);
  EXPECT_TRUE(all(es, "circle").empty());
  EXPECT_EQ(frames(es).size(), 2u);
}

TEST(CurvesTest, OneEpochDrawsPointsAndASingleTick) {
  History h;
  h.add(record(1, 0.5, 0.75, 0.48, 0.77, true));
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "one"));
  EXPECT_TRUE(all(es, "polyline").empty());
  EXPECT_EQ(all(es, "circle").size(), 4u);
  const std::vector<Frame> fs = frames(es);
  for (const Element* c : all(es, "circle")) {
    const double cx = number(c->attrs.at("cx"));
    EXPECT_TRUE(std::fabs(cx - (fs[0].x + fs[0].w / 2)) < 0.11 ||
                std::fabs(cx - (fs[1].x + fs[1].w / 2)) < 0.11)
        << "one point sits mid-panel";
  }
  size_t tick_labels = 0;
  for (const Element* t : all(es, "text")) {
    if (anchor(t) == "middle" && t->text == "1") ++tick_labels;
  }
  EXPECT_EQ(tick_labels, 2u);
}

TEST(CurvesTest, HundredEpochsHaveFewReadableTicks) {
  const std::vector<Element> es = parse_svg(render_curves_svg(plausible(100), "t"));
  std::vector<std::string> x_ticks;
  const std::vector<Frame> fs = frames(es);
  for (const Element* t : all(es, "text")) {
    const double y = number(t->attrs.at("y"));
    if (anchor(t) == "middle" && y > fs[0].y + fs[0].h && y < fs[0].y + fs[0].h + 25) {
      x_ticks.push_back(t->text);
    }
  }
  const std::vector<std::string> once = {"1", "20", "40", "60", "80", "100"};
  std::vector<std::string> expected = once;
  expected.insert(expected.end(), once.begin(), once.end());
  EXPECT_EQ(x_ticks, expected);
  EXPECT_EQ(all(es, "circle").size(), 400u);
}

TEST(CurvesTest, AucAxisStaysWithinZeroAndOne) {
  History h;
  h.add(record(1, 0.1, 0.97, 0.12, 0.96, false));
  h.add(record(2, 0.05, 0.999, 0.08, 1.0, true));
  const std::vector<Element> es = parse_svg(render_curves_svg(h, "t"));
  double max_label = 0, min_label = 1;
  for (const Element* t : all(es, "text")) {
    if (anchor(t) == "end" && !t->text.empty() && std::isdigit(t->text[0])) {
      max_label = std::max(max_label, number(t->text));
      min_label = std::min(min_label, number(t->text));
    }
  }
  EXPECT_EQ(max_label, 1.0);
  EXPECT_GE(min_label, 0.0);  // loss axis does not go below zero
}

TEST(CurvesTest, TitleIsEscaped) {
  const std::string title = "a<b & \"c\" 'd'> — ok";
  const std::string svg = render_curves_svg(plausible(3), title);
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; — ok"), std::string::npos);
  const std::vector<Element> es = parse_svg(svg);
  EXPECT_EQ(all(es, "title")[0]->text, title);
}

TEST(CurvesTest, TitleWithControlCharactersAndBadUtf8StaysWellFormed) {
  const std::string title = std::string("bad\x01\x1f bytes \xC3\x28 \xED\xA0\x80 \xF8 end\xE2\x82");
  const std::string svg = render_curves_svg(plausible(3), title);
  const std::vector<Element> es = parse_svg(svg);
  const std::string shown = all(es, "title")[0]->text;
  EXPECT_EQ(shown.rfind("bad\xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD( ", 0), 0u) << shown;
  EXPECT_NE(shown.find(" end\xEF\xBF\xBD"), std::string::npos) << shown;
}

TEST(EscapeXmlTextTest, KeepsValidTextAndReplacesWhatXmlForbids) {
  EXPECT_EQ(escape_xml_text("plain"), "plain");
  EXPECT_EQ(escape_xml_text("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
  EXPECT_EQ(escape_xml_text("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(escape_xml_text("é — 𝔸"), "é — 𝔸");
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(escape_xml_text("\x01"), r);
  EXPECT_EQ(escape_xml_text("\xC0\x80"), r + r);                  // overlong NUL
  EXPECT_EQ(escape_xml_text("\xEF\xBF\xBE"), r);                  // U+FFFE is not an XML Char
  EXPECT_EQ(escape_xml_text("\xF4\x90\x80\x80"), r + r + r + r);  // beyond U+10FFFF
  EXPECT_EQ(escape_xml_text("\xE2\x82"), r + r);                  // truncated
}

TEST(NiceAxisTest, TypicalRanges) {
  NiceAxis a = nice_axis(0.7512, 0.7901);
  EXPECT_DOUBLE_EQ(a.lo, 0.75);
  EXPECT_DOUBLE_EQ(a.hi, 0.8);
  EXPECT_DOUBLE_EQ(a.step, 0.01);
  EXPECT_EQ(a.decimals, 2);
  a = nice_axis(0.4302, 0.5019);
  EXPECT_DOUBLE_EQ(a.step, 0.02);
  EXPECT_DOUBLE_EQ(a.lo, 0.42);
  EXPECT_DOUBLE_EQ(a.hi, 0.52);
  a = nice_axis(0, 100);
  EXPECT_DOUBLE_EQ(a.step, 20);
  EXPECT_EQ(a.decimals, 0);
  a = nice_axis(0.7731, 0.7746);
  EXPECT_DOUBLE_EQ(a.step, 0.0005);
  EXPECT_EQ(a.decimals, 4);
}

TEST(NiceAxisTest, OneValueGetsABandAroundIt) {
  NiceAxis a = nice_axis(0.5, 0.5);
  EXPECT_LT(a.lo, 0.5);
  EXPECT_GT(a.hi, 0.5);
  a = nice_axis(0, 0);
  EXPECT_LT(a.lo, 0);
  EXPECT_GT(a.hi, 0);
}

TEST(NiceAxisTest, CoversTheDataWithAFewWholeSteps) {
  uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  for (int i = 0; i < 2000; ++i) {
    const double scale = std::pow(10.0, std::floor(uniform() * 10) - 5);
    double a = (uniform() - 0.3) * scale, b = (uniform() - 0.3) * scale;
    if (a > b) std::swap(a, b);
    const NiceAxis axis = nice_axis(a, b);
    SCOPED_TRACE(std::to_string(a) + " .. " + std::to_string(b));
    EXPECT_LE(axis.lo, a + 1e-12 * scale);
    EXPECT_GE(axis.hi, b - 1e-12 * scale);
    const double steps = (axis.hi - axis.lo) / axis.step;
    EXPECT_NEAR(steps, std::round(steps), 1e-6);
    EXPECT_GE(std::round(steps), 2);
    EXPECT_LE(std::round(steps), 10);
    const double mantissa = axis.step / std::pow(10.0, std::floor(std::log10(axis.step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 ||
                std::fabs(mantissa - 5) < 1e-9)
        << axis.step;
  }
}

TEST(CurvesTest, RenderingIsDeterministic) {
  EXPECT_EQ(render_curves_svg(plausible(25), "t"), render_curves_svg(plausible(25), "t"));
}

// ---- Files.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "deepcross_curves_XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CurvesFileTest, WritesTheRenderedSvgAtomically) {
  TempDir dir;
  const std::string path = dir.path() + "/m.curves.svg";
  const History h = plausible(12);
  write_curves_svg(path, h, "file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), render_curves_svg(h, "file"));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(CurvesFileTest, UnwritablePathIsADataErrorNamingIt) {
  TempDir dir;
  const std::string path = dir.path() + "/no/such/dir/c.svg";
  try {
    write_curves_svg(path, plausible(2), "t");
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), path);
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("cannot write the training curves SVG"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace deepcross
