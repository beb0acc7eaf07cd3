// Live progress of one training epoch on stderr (or any FILE*).
//
//   Progress progress(stderr, steps_per_epoch, "epoch 3/100");
//   for (int64_t step = 1; step <= steps_per_epoch; ++step) {
//     ...train one batch...
//     progress.update(step, running_loss, samples_per_s);  // cheap: one clock read
//   }
//   progress.finish();  // then print the epoch's table row
//
// On a terminal (isatty(fileno(out)), or `is_terminal` when given) one line is redrawn in
// place with '\r', at most every kTerminalRedrawSeconds, and finish() blanks it so the next
// output starts on a clean line:
//   epoch 3/100 [=========>              ]  1234/5000  loss 0.46213  53.2k samples/s  ETA 0:42
// Elsewhere (a log file, a pipe) a plain line is printed at most every `plain_interval_s`
// seconds (the first one plain_interval_s after construction, so short epochs print nothing),
// and finish() prints the final state when any plain line was printed:
//   epoch 3/100: step 1234/5000 (24.7%)  loss 0.46213  53.2k samples/s  elapsed 0:10  ETA 0:31
// ETA = elapsed / step * (total_steps - step), shown once a step is done and time has passed.
// `clock` returns monotonic seconds (default std::chrono::steady_clock); tests inject their own.
// Not thread-safe: call from one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace deepcross {

class Progress {
 public:
  static constexpr double kTerminalRedrawSeconds = 0.1;
  static constexpr double kDefaultPlainIntervalSeconds = 10.0;

  // total_steps >= 0 (0: an empty epoch). `out` must outlive this object.
  Progress(std::FILE* out, int64_t total_steps, std::string label,
           std::optional<bool> is_terminal = std::nullopt, std::function<double()> clock = {},
           double plain_interval_s = kDefaultPlainIntervalSeconds);
  // Calls finish(), so an exception that unwinds the epoch leaves no half-drawn line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `step` steps of total_steps are done (clamped to [0, total_steps]); `running_loss` is the
  // mean loss so far (NaN prints "-"), `samples_per_s` the current training rate.
  void update(int64_t step, double running_loss, double samples_per_s);
  // Ends the epoch's progress output (see above). Further calls, and update() after it, do
  // nothing.
  void finish();

  bool is_terminal() const { return terminal_; }

 private:
  // The text of one line (without '\r' or '\n') for the latest update.
  std::string terminal_line(double elapsed) const;
  std::string plain_line(double elapsed) const;
  void write(const std::string& text);

  std::FILE* out_;
  int64_t total_;
  std::string label_;
  bool terminal_;
  std::function<double()> clock_;
  double plain_interval_s_;
  double start_;
  // The latest update.
  int64_t step_ = 0;
  double loss_;
  double rate_ = 0;
  bool updated_ = false;
  // What has been printed.
  double last_print_;
  int64_t printed_step_ = -1;  // step shown by the last plain line
  size_t drawn_width_ = 0;     // characters of the terminal line now on screen
  bool printed_plain_ = false;
  bool finished_ = false;
};

// "m:ss" or "h:mm:ss" for a number of seconds (rounded down; NaN or negative: "-").
std::string format_duration(double seconds);
// A rate in 3 significant figures with k/M/G suffixes: 532 -> "532", 53210 -> "53.2k".
std::string format_rate(double per_second);

}  // namespace deepcross
