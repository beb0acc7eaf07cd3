// The training loop's thread count, chosen by measuring (when the user did not fix it).
//
// On a shared machine the fastest thread count changes with the load: with one busy process
// beside training on a 2-CPU host, 2 spinning OpenMP threads ran at a quarter of their quiet
// speed, 1 thread at half of it. The tuner times training steps: it probes each candidate count
// (the most threads, then halving down to 1; the current choice first) for a few steps,
// abandoning a count after one timed step kAbandon times slower than the current choice, keeps
// the fastest (median seconds per row), and probes again after kExploitSeconds of training (twice as long each time the
// same count wins, up to kMaxExploitSeconds) or as soon as three steps in a row run 1.3x slower
// than the chosen count did in its probe. Bits: the vector cross gave the same model with 1 and
// 2 threads; the matrix, low-rank and mix crosses differ in the last bits (the order of float
// sums inside GEMMs and reductions), so a run whose count is chosen by measuring repeats only to
// that; --threads N fixes the count (and --threads 1 the bits).
//
//   ThreadTuner tuner(available_cpus(), /*enabled=*/!threads_fixed_by_the_user);
//   for (each step) { tuner.before_step(); ...step...; tuner.after_step(seconds, rows); }
#pragma once

#include <functional>
#include <vector>

namespace deepcross {

class ThreadTuner {
 public:
  static constexpr int kProbeSteps = 5;          // timed steps per candidate (after a warm-up)
  static constexpr double kExploitSeconds = 2.0;     // training between probes, at first
  static constexpr double kMaxExploitSeconds = 8.0;  // ... doubled while the choice holds
  static constexpr double kSlowdown = 1.3;        // a step this much slower re-probes early
  static constexpr double kAbandon = 2.0;         // a probed count this much slower is dropped

  // `set_threads` applies a thread count (tests pass their own; by default set_blas_threads).
  ThreadTuner(int max_threads, bool enabled, std::function<void(int)> set_threads = nullptr);

  void before_step();
  void after_step(double seconds, int rows);
  int threads() const { return current_; }
  bool probing() const { return probe_index_ >= 0; }
  const std::vector<int>& candidates() const { return candidates_; }

 private:
  void start_probe();
  void use(int threads);

  bool enabled_;
  std::function<void(int)> set_threads_;
  std::vector<int> candidates_;
  std::vector<int> order_;          // this probe's counts: the current choice, then the others
  int current_ = 1;
  int chosen_ = 1;
  double chosen_per_row_ = 0;       // the chosen count's median seconds per row in its probe
  int probe_index_ = -1;            // the candidate being probed, -1 when exploiting
  int probe_step_ = 0;              // steps run with it (the first is a warm-up)
  std::vector<double> samples_;     // its timed steps' seconds per row
  std::vector<double> medians_;     // per candidate
  double exploit_seconds_ = 0;
  double exploit_period_ = kExploitSeconds;
  int slow_steps_ = 0;
};

}  // namespace deepcross
