#include "train/curves.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/text.h"
#include "deepcross/error.h"
#include "io/whole_file.h"
#include "picture/svg.h"

namespace deepcross {
namespace {

// The canvas: a title, a legend, then two plot panels side by side.
constexpr double kWidth = 960, kHeight = 392;
constexpr double kPanelLeft[2] = {86, 566};  // left edge of each plot area
constexpr double kPanelWidth = 354;
constexpr double kPlotTop = 96, kPlotHeight = 236;
constexpr double kPlotBottom = kPlotTop + kPlotHeight;
constexpr const char* kTrainColour = "#1f77b4";  // blue
constexpr const char* kValColour = "#ff7f0e";    // orange
constexpr const char* kBestColour = "#555555";
constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";

// A pixel coordinate.
std::string px(double v) { return fixed(v, 1); }

// Heckbert's "nice number": 1, 2, 5 or 10 × 10^k near x (rounded, or the next one up).
double nice_number(double x, bool round) {
  const double exponent = std::floor(std::log10(x));
  const double base = std::pow(10.0, exponent);
  const double f = x / base;
  double nice;
  if (round) {
    nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nice * base;
}

struct Point {
  double epoch, value;
};

// One panel's series: the finite points, split into runs broken by NaN/inf values.
std::vector<std::vector<Point>> runs(const History& h, double EpochRecord::*field) {
  std::vector<std::vector<Point>> out;
  bool open = false;
  for (const EpochRecord& r : h.epochs()) {
    const double v = r.*field;
    if (!std::isfinite(v)) {
      open = false;
      continue;
    }
    if (!open) out.emplace_back();
    open = true;
    out.back().push_back({static_cast<double>(r.epoch), v});
  }
  return out;
}

// The x axis: integer epochs. Domain padded so the first and last points sit off the frame.
struct EpochAxis {
  double lo, hi;
  std::vector<int> ticks;
};

EpochAxis epoch_axis(const History& h) {
  int first = 1, last = 1;
  if (!h.empty()) {
    first = last = h.epochs().front().epoch;
    for (const EpochRecord& r : h.epochs()) {
      first = std::min(first, r.epoch);
      last = std::max(last, r.epoch);
    }
  }
  EpochAxis axis;
  if (first == last) {
    axis.lo = first - 0.5;
    axis.hi = last + 0.5;
    axis.ticks = {first};
    return axis;
  }
  const double pad = 0.03 * (last - first);
  axis.lo = first - pad;
  axis.hi = last + pad;
  // About six ticks, 1, 2 or 5 × 10^k epochs apart.
  const int step =
      std::max(1, static_cast<int>(std::lround(nice_number((last - first) / 5.0, true))));
  // Multiples of the step, and the first epoch when it is not too close to the next tick.
  const int first_multiple = (first + step - 1) / step * step;
  if (first_multiple - first >= (step + 1) / 2 || first_multiple > last)
    axis.ticks.push_back(first);
  for (int t = first_multiple; t <= last; t += step) axis.ticks.push_back(t);
  return axis;
}

struct Panel {
  const char* heading;
  const char* y_label;
  const char* value_name;  // for tooltips: "loss" / "AUC"
  double EpochRecord::*train;
  double EpochRecord::*val;
  bool probability;  // AUC: keep the axis within [0, 1] when the data are
};

class SvgWriter {
 public:
  SvgWriter(const History& h, const std::string& title) : h_(h), title_(escape_xml_text(title)) {}

  std::string render() {
    out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + px(kWidth) +
            "\" height=\"" + px(kHeight) + "\" viewBox=\"0 0 " + px(kWidth) + " " + px(kHeight) +
            "\" font-family=\"" + kFont + "\">\n";
    out_ += "<title>" + title_ + "</title>\n";
    out_ += "<rect x=\"0\" y=\"0\" width=\"" + px(kWidth) + "\" height=\"" + px(kHeight) +
            "\" fill=\"#ffffff\"/>\n";
    out_ += "<text x=\"" + px(kWidth / 2) +
            "\" y=\"30\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\" "
            "fill=\"#222222\">" +
            title_ + "</text>\n";
    legend();
    const EpochAxis x = epoch_axis(h_);
    const Panel panels[2] = {{"Log loss (lower is better)", "log loss", "loss",
                              &EpochRecord::train_loss, &EpochRecord::val_loss, false},
                             {"AUC (higher is better)", "AUC", "AUC", &EpochRecord::train_auc,
                              &EpochRecord::val_auc, true}};
    for (int i = 0; i < 2; ++i) panel(panels[i], kPanelLeft[i], x);
    out_ += "</svg>\n";
    return out_;
  }

 private:
  // Centred under the title: train, validation and (when there is one) the best-epoch marker.
  void legend() {
    struct Item {
      const char* label;
      const char* colour;
      bool dashed;
    };
    std::vector<Item> items = {{"train", kTrainColour, false}, {"validation", kValColour, false}};
    if (h_.best_index()) items.push_back({"best epoch", kBestColour, true});
    // Text width estimated at 7.5 px per character of a 13 px font.
    auto item_width = [](const Item& it) { return 30 + 7.5 * std::string(it.label).size(); };
    double total = 0;
    for (const Item& it : items) total += item_width(it) + 24;
    double x = (kWidth - (total - 24)) / 2;
    const double y = 56;
    for (const Item& it : items) {
      out_ += "<line x1=\"" + px(x) + "\" y1=\"" + px(y - 4) + "\" x2=\"" + px(x + 24) +
              "\" y2=\"" + px(y - 4) + "\" stroke=\"" + it.colour + "\" stroke-width=\"" +
              (it.dashed ? "1.5\" stroke-dasharray=\"5,4" : "2.5") + "\"/>\n";
      out_ += "<text x=\"" + px(x + 30) + "\" y=\"" + px(y) +
              "\" font-size=\"13\" fill=\"#333333\">" + it.label + "</text>\n";
      x += item_width(it) + 24;
    }
  }

  void panel(const Panel& p, double left, const EpochAxis& x) {
    const double right = left + kPanelWidth;
    const double centre = left + kPanelWidth / 2;
    const std::vector<std::vector<Point>> train = runs(h_, p.train);
    const std::vector<std::vector<Point>> val = runs(h_, p.val);
    double lo = INFINITY, hi = -INFINITY;
    for (const auto* series : {&train, &val}) {
      for (const auto& run : *series) {
        for (const Point& pt : run) {
          lo = std::min(lo, pt.value);
          hi = std::max(hi, pt.value);
        }
      }
    }
    const bool has_data = lo <= hi;
    NiceAxis y;
    if (has_data) {
      const double margin = 0.04 * (hi - lo);
      y = nice_axis(lo - margin, hi + margin, 5);
      if (y.lo < 0 && lo >= 0) y.lo = 0;
      if (p.probability && y.hi > 1 && hi <= 1 && y.step < 1) y.hi = 1;
    }
    auto to_x = [&](double epoch) { return left + (epoch - x.lo) / (x.hi - x.lo) * kPanelWidth; };
    auto to_y = [&](double v) { return kPlotBottom - (v - y.lo) / (y.hi - y.lo) * kPlotHeight; };

    out_ += "<g>\n";
    out_ += "<text x=\"" + px(centre) + "\" y=\"" + px(kPlotTop - 12) +
            "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\">" +
            p.heading + "</text>\n";
    // Grid and tick labels.
    if (has_data) {
      const long n = std::lround((y.hi - y.lo) / y.step);
      for (long k = 0; k <= n; ++k) {
        const double v = std::min(y.hi, y.lo + k * y.step);
        const std::string py = px(to_y(v));
        out_ += "<line x1=\"" + px(left) + "\" y1=\"" + py + "\" x2=\"" + px(right) + "\" y2=\"" +
                py + "\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>\n";
        out_ += "<text x=\"" + px(left - 7) + "\" y=\"" + px(to_y(v) + 4) +
                "\" text-anchor=\"end\" font-size=\"12\" fill=\"#444444\">" + fixed(v, y.decimals) +
                "</text>\n";
      }
    }
    for (int t : x.ticks) {
      const std::string tx = px(to_x(t));
      out_ += "<line x1=\"" + tx + "\" y1=\"" + px(kPlotTop) + "\" x2=\"" + tx + "\" y2=\"" +
              px(kPlotBottom) + "\" stroke=\"#f0f0f0\" stroke-width=\"1\"/>\n";
      out_ += "<line x1=\"" + tx + "\" y1=\"" + px(kPlotBottom) + "\" x2=\"" + tx + "\" y2=\"" +
              px(kPlotBottom + 5) + "\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
      out_ += "<text x=\"" + tx + "\" y=\"" + px(kPlotBottom + 19) +
              "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#444444\">" + std::to_string(t) +
              "</text>\n";
    }
    out_ += "<rect x=\"" + px(left) + "\" y=\"" + px(kPlotTop) + "\" width=\"" + px(kPanelWidth) +
            "\" height=\"" + px(kPlotHeight) +
            "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
    // Axis labels.
    out_ += "<text x=\"" + px(centre) + "\" y=\"" + px(kPlotBottom + 42) +
            "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333333\">epoch</text>\n";
    const double label_x = left - 58, label_y = kPlotTop + kPlotHeight / 2;
    out_ += "<text x=\"" + px(label_x) + "\" y=\"" + px(label_y) +
            "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#333333\" transform=\"rotate(-90 " +
            px(label_x) + " " + px(label_y) + ")\">" + p.y_label + "</text>\n";
    if (!has_data) {
      out_ += "<text x=\"" + px(centre) + "\" y=\"" + px(label_y + 5) +
              "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#888888\">no data</text>\n";
    }
    best_marker(left, to_x);
    if (has_data) {
      series(train, "train", p.value_name, kTrainColour, to_x, to_y);
      series(val, "validation", p.value_name, kValColour, to_x, to_y);
    }
    out_ += "</g>\n";
  }

  template <typename ToX>
  void best_marker(double left, const ToX& to_x) {
    const std::optional<size_t> best = h_.best_index();
    if (!best) return;
    const int epoch = h_.epochs()[*best].epoch;
    const double bx = to_x(epoch);
    out_ += "<line x1=\"" + px(bx) + "\" y1=\"" + px(kPlotTop) + "\" x2=\"" + px(bx) + "\" y2=\"" +
            px(kPlotBottom) + "\" stroke=\"" + kBestColour +
            "\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"/>\n";
    // The label sits inside the frame, on the side of the line with more room.
    const bool room_right = bx < left + 0.7 * kPanelWidth;
    out_ += "<text x=\"" + px(room_right ? bx + 5 : bx - 5) + "\" y=\"" + px(kPlotTop + 15) +
            "\" text-anchor=\"" + (room_right ? "start" : "end") + "\" font-size=\"11\" fill=\"" +
            kBestColour + "\">best: epoch " + std::to_string(epoch) + "</text>\n";
  }

  template <typename ToX, typename ToY>
  void series(const std::vector<std::vector<Point>>& runs_of_points, const char* name,
              const char* value_name, const char* colour, const ToX& to_x, const ToY& to_y) {
    const double radius = h_.epochs().size() <= 30 ? 3 : 2;
    for (const std::vector<Point>& run : runs_of_points) {
      if (run.size() > 1) {
        out_ += "<polyline fill=\"none\" stroke=\"";
        out_ += colour;
        out_ += "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"";
        for (size_t i = 0; i < run.size(); ++i) {
          if (i > 0) out_ += ' ';
          out_ += px(to_x(run[i].epoch)) + "," + px(to_y(run[i].value));
        }
        out_ += "\"/>\n";
      }
      for (const Point& pt : run) {
        out_ += "<circle cx=\"" + px(to_x(pt.epoch)) + "\" cy=\"" + px(to_y(pt.value)) + "\" r=\"" +
                px(run.size() == 1 ? 3 : radius) + "\" fill=\"" + colour + "\"><title>epoch " +
                std::to_string(static_cast<int>(pt.epoch)) + ", " + name + " " + value_name + " " +
                fixed(pt.value, 5) + "</title></circle>\n";
      }
    }
  }

  const History& h_;
  std::string title_;
  std::string out_;
};

}  // namespace

NiceAxis nice_axis(double min, double max, int target_ticks) {
  if (max <= min) {  // one value: a small band around it
    const double half = std::max(std::fabs(min) * 0.05, 0.01);
    min -= half;
    max += half;
  }
  const int ticks = std::max(2, target_ticks);
  const double range = nice_number(max - min, false);
  const double step = nice_number(range / (ticks - 1), true);
  NiceAxis axis;
  axis.step = step;
  // A tolerance keeps values that are multiples of the step up to rounding on the grid.
  axis.lo = std::floor(min / step + 1e-9) * step;
  axis.hi = std::ceil(max / step - 1e-9) * step;
  axis.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return axis;
}

std::string render_curves_svg(const History& history, const std::string& title) {
  return SvgWriter(history, title).render();
}

void write_curves_svg(const std::string& path, const History& history, const std::string& title) {
  const std::string text = render_curves_svg(history, title);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  const std::span<const uint8_t> pieces[] = {bytes};
  try {
    write_whole_file_atomically(path, pieces);
  } catch (const DataError& e) {
    throw DataError(std::string("cannot write the training curves SVG: ") + e.what(), e.where());
  }
}

}  // namespace deepcross
