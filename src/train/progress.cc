#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/check.h"
#include "core/text.h"

namespace deepcross {
namespace {

constexpr int kBarWidth = 20;

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// "[=========>          ]": `fraction` of kBarWidth filled, '>' at the head while unfinished.
std::string bar(double fraction) {
  const int filled = static_cast<int>(std::floor(fraction * kBarWidth));
  std::string s = "[";
  for (int i = 0; i < kBarWidth; ++i) {
    if (i < filled) {
      s += '=';
    } else if (i == filled) {
      s += '>';
    } else {
      s += ' ';
    }
  }
  return s + "]";
}

}  // namespace

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e12) return "-";
  const auto total = static_cast<int64_t>(seconds);
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  auto two = [](int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
  if (h > 0) return std::to_string(h) + ":" + two(m) + ":" + two(s);
  return std::to_string(m) + ":" + two(s);
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "-";
  static constexpr const char* kSuffixes[] = {"", "k", "M", "G", "T"};
  double v = per_second;
  size_t suffix = 0;
  while (v >= 1000 && suffix + 1 < std::size(kSuffixes)) {
    v /= 1000;
    ++suffix;
  }
  // 3 significant figures: 5.32, 53.2, 532. Rounding can carry into the next decade
  // (9.996 -> 10.0, 999.7 -> 1.00k), so the precision follows the rounded value.
  auto round_to = [](double x, int d) {
    const double p = std::pow(10.0, d);
    return std::round(x * p) / p;
  };
  int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  double r = round_to(v, decimals);
  if (decimals == 2 && r >= 10) r = round_to(v, decimals = 1);
  if (decimals == 1 && r >= 100) r = round_to(v, decimals = 0);
  if (r >= 1000 && suffix + 1 < std::size(kSuffixes)) {
    ++suffix;
    r = round_to(r / 1000, decimals = 2);
  }
  return fixed(r, decimals) + kSuffixes[suffix];
}

Progress::Progress(std::FILE* out, int64_t total_steps, std::string label,
                   std::optional<bool> is_terminal, std::function<double()> clock,
                   double plain_interval_s)
    : out_(out),
      total_(total_steps),
      label_(std::move(label)),
      terminal_(is_terminal ? *is_terminal : ::isatty(::fileno(out)) == 1),
      clock_(clock ? std::move(clock) : std::function<double()>(steady_seconds)),
      plain_interval_s_(plain_interval_s),
      loss_(std::numeric_limits<double>::quiet_NaN()) {
  DC_CHECK(out_ != nullptr);
  DC_CHECK(total_ >= 0);
  DC_CHECK(plain_interval_s_ >= 0);
  start_ = clock_();
  last_print_ = start_;
}

Progress::~Progress() { finish(); }

void Progress::update(int64_t step, double running_loss, double samples_per_s) {
  if (finished_) return;
  step_ = std::clamp<int64_t>(step, 0, total_);
  loss_ = running_loss;
  rate_ = samples_per_s;
  const double now = clock_();
  const bool first = !updated_;
  updated_ = true;
  if (terminal_) {
    // The first update draws at once; later ones at most every kTerminalRedrawSeconds.
    if (!first && now - last_print_ < kTerminalRedrawSeconds) return;
    last_print_ = now;
    std::string text = terminal_line(now - start_);
    const size_t width = text.size();
    // Blank what is left of a longer previous line.
    if (width < drawn_width_) text.append(drawn_width_ - width, ' ');
    write("\r" + text);
    drawn_width_ = width;
  } else {
    if (now - last_print_ < plain_interval_s_) return;
    last_print_ = now;
    printed_step_ = step_;
    printed_plain_ = true;
    write(plain_line(now - start_) + "\n");
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_) {
    if (drawn_width_ > 0) write("\r" + std::string(drawn_width_, ' ') + "\r");
    drawn_width_ = 0;
  } else if (printed_plain_ && printed_step_ != step_) {
    write(plain_line(clock_() - start_) + "\n");
  }
}

std::string Progress::terminal_line(double elapsed) const {
  const double fraction = total_ > 0 ? static_cast<double>(step_) / total_ : 1.0;
  std::string s = label_ + " " + bar(fraction) + " " + std::to_string(step_) + "/" +
                  std::to_string(total_) + "  loss " + fixed(loss_, 5) + "  " + format_rate(rate_) +
                  "/s";
  if (step_ > 0 && step_ < total_ && elapsed > 0) {
    s += "  ETA " + format_duration(elapsed / step_ * (total_ - step_));
  }
  return s;
}

std::string Progress::plain_line(double elapsed) const {
  const double percent = total_ > 0 ? 100.0 * step_ / total_ : 100.0;
  std::string s = label_ + ": step " + std::to_string(step_) + "/" + std::to_string(total_) + " (" +
                  fixed(percent, 1) + "%)  loss " + fixed(loss_, 5) + "  " + format_rate(rate_) +
                  " samples/s  elapsed " + format_duration(elapsed);
  if (step_ > 0 && step_ < total_ && elapsed > 0) {
    s += "  ETA " + format_duration(elapsed / step_ * (total_ - step_));
  }
  return s;
}

void Progress::write(const std::string& text) {
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace deepcross
