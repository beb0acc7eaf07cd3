// Where a training step's time goes: wall seconds per phase, summed over the steps it saw.
// Filled by Model (forward and backward phases) and the Trainer (batch gathering, optimizer)
// when one is attached; `deepcross train --profile` prints it. The clock is read at phase
// boundaries only (a few dozen reads per step), so it costs nothing measurable.
//
//   StepProfile p;
//   model.set_profile(&p);
//   ... steps ...
//   for (int i = 0; i < StepProfile::kCount; ++i) print(p.name(i), p.seconds[i]);
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace deepcross {

struct StepProfile {
  enum Phase {
    kGather,        // copying the shuffled batch rows into contiguous buffers
    kEmbedForward,  // x0: numeric values and embedding rows
    kCrossForward,
    kDeepForward,   // MLP and output layer
    kLoss,
    kDeepBackward,
    kCrossBackward,
    kEmbedBackward,  // per-row embedding gradients
    kOptimizer,
    kCount
  };
  std::array<double, kCount> seconds{};
  int64_t steps = 0;

  static const char* name(int phase) {
    static const char* const names[kCount] = {
        "batch gather",   "embeddings forward", "cross forward",       "deep forward", "loss",
        "deep backward",  "cross backward",     "embeddings backward", "optimizer"};
    return names[phase];
  }
  static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // Adds the time since `since` to `phase` and returns now (the next phase's start).
  double lap(Phase phase, double since) {
    const double t = now();
    seconds[phase] += t - since;
    return t;
  }
};

}  // namespace deepcross
