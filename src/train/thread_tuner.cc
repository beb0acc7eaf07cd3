#include "train/thread_tuner.h"

#include <algorithm>

#include "core/blas.h"

namespace deepcross {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

ThreadTuner::ThreadTuner(int max_threads, bool enabled, std::function<void(int)> set_threads)
    : enabled_(enabled && max_threads > 1),
      set_threads_(set_threads ? std::move(set_threads) : [](int n) { set_blas_threads(n); }) {
  max_threads = std::max(1, max_threads);
  for (int n = max_threads; n >= 1; n /= 2) candidates_.push_back(n);  // ..., 1
  current_ = chosen_ = max_threads;
  if (enabled_) start_probe();
}

void ThreadTuner::use(int threads) {
  if (threads != current_) set_threads_(threads);
  current_ = threads;
}

void ThreadTuner::start_probe() {
  // The current choice first: the others are measured against it, and one clearly slower
  // (a timed step kAbandon times its median) is abandoned after that step.
  order_.assign(1, chosen_);
  for (int c : candidates_) {
    if (c != chosen_) order_.push_back(c);
  }
  probe_index_ = 0;
  probe_step_ = 0;
  samples_.clear();
  medians_.clear();
}

void ThreadTuner::before_step() {
  if (!enabled_) return;
  use(probing() ? order_[probe_index_] : chosen_);
}

void ThreadTuner::after_step(double seconds, int rows) {
  if (!enabled_ || rows <= 0) return;
  const double per_row = seconds / rows;
  if (probing()) {
    if (probe_step_++ > 0) samples_.push_back(per_row);  // the first step after a switch warms up
    const bool abandon = probe_index_ > 0 && !samples_.empty() &&
                         samples_.back() > kAbandon * medians_[0];
    if (!abandon && static_cast<int>(samples_.size()) < kProbeSteps) return;
    medians_.push_back(median(samples_));
    samples_.clear();
    probe_step_ = 0;
    if (++probe_index_ < static_cast<int>(order_.size())) return;
    const size_t best = static_cast<size_t>(
        std::min_element(medians_.begin(), medians_.end()) - medians_.begin());
    // The same choice again: probe half as often (a probe of a slow count costs), down to once
    // per kMaxExploitSeconds; a new choice: probe every kExploitSeconds again.
    exploit_period_ = best == 0 ? std::min(2 * exploit_period_, kMaxExploitSeconds)
                                : kExploitSeconds;
    chosen_ = order_[best];
    chosen_per_row_ = medians_[best];
    probe_index_ = -1;
    use(chosen_);
    exploit_seconds_ = 0;
    slow_steps_ = 0;
    return;
  }
  exploit_seconds_ += seconds;
  // Three slow steps in a row (not one: a page fault or a descheduled moment) re-probe early.
  slow_steps_ = per_row > kSlowdown * chosen_per_row_ ? slow_steps_ + 1 : 0;
  if (exploit_seconds_ >= exploit_period_ || slow_steps_ >= 3) start_probe();
}

}  // namespace deepcross
