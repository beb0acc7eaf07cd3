// The thread tuner against a simulated machine whose speed per thread count the test sets: it
// keeps the fastest count, probes again after kExploitSeconds or when steps slow down, and does
// nothing when disabled or with one CPU.
#include "train/thread_tuner.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace deepcross {
namespace {

struct Machine {
  std::map<int, double> seconds_per_row;  // by thread count
  std::vector<int> set_calls;
  std::map<int, int> steps_at;  // steps run per thread count
  int threads = 0;
  ThreadTuner make(int max_threads, bool enabled = true) {
    threads = max_threads;
    return ThreadTuner(max_threads, enabled, [this](int n) {
      set_calls.push_back(n);
      threads = n;
    });
  }
  // Runs `steps` steps of 1000 rows; returns the seconds they took.
  double run(ThreadTuner& t, int steps) {
    double total = 0;
    for (int i = 0; i < steps; ++i) {
      t.before_step();
      const double s = 1000 * seconds_per_row.at(threads);
      ++steps_at[threads];
      t.after_step(s, 1000);
      total += s;
    }
    return total;
  }
};

constexpr int kProbe = ThreadTuner::kProbeSteps + 1;  // a warm-up step, then the timed ones
// Seconds per row by thread count on a quiet 2-CPU machine, and with 2 spinning threads beside a
// busy process.
const std::map<int, double> kQuiet = {{2, 1.7e-6}, {1, 3.2e-6}};
const std::map<int, double> kBusy = {{2, 7.5e-6}, {1, 3.2e-6}};

TEST(ThreadTuner, CandidatesHalveDownToOne) {
  Machine m;
  EXPECT_EQ(m.make(8).candidates(), (std::vector<int>{8, 4, 2, 1}));
  EXPECT_EQ(m.make(6).candidates(), (std::vector<int>{6, 3, 1}));
  EXPECT_EQ(m.make(2).candidates(), (std::vector<int>{2, 1}));
}

TEST(ThreadTuner, QuietMachineKeepsAllThreads) {
  Machine m;
  m.seconds_per_row = kQuiet;
  ThreadTuner t = m.make(2);
  m.run(t, 2 * kProbe);
  EXPECT_FALSE(t.probing());
  EXPECT_EQ(t.threads(), 2);
  m.run(t, 50);
  EXPECT_EQ(m.threads, 2);
}

TEST(ThreadTuner, BusyNeighbourMovesToOneThreadAndBackWhenItLeaves) {
  Machine m;
  m.seconds_per_row = kBusy;
  ThreadTuner t = m.make(2);
  m.run(t, 2 * kProbe);
  EXPECT_EQ(t.threads(), 1);
  EXPECT_EQ(m.threads, 1);
  // The neighbour leaves: after kExploitSeconds the tuner probes again and returns to 2.
  m.seconds_per_row = kQuiet;
  const int steps = static_cast<int>(ThreadTuner::kExploitSeconds / (1000 * 3.2e-6)) + 1;
  m.run(t, steps);
  EXPECT_TRUE(t.probing());
  m.run(t, 2 * kProbe);
  EXPECT_EQ(t.threads(), 2);
}

TEST(ThreadTuner, ASlowdownProbesAgainEarly) {
  Machine m;
  m.seconds_per_row = kQuiet;
  ThreadTuner t = m.make(2);
  m.run(t, 2 * kProbe + 10);
  EXPECT_EQ(t.threads(), 2);
  m.seconds_per_row = kBusy;  // a busy process starts
  m.run(t, 2);
  EXPECT_FALSE(t.probing()) << "one or two slow steps are noise";
  m.run(t, 1);
  EXPECT_TRUE(t.probing()) << "three in a row are not";
  m.run(t, 2 * kProbe);
  EXPECT_EQ(t.threads(), 1);
}

TEST(ThreadTuner, AClearlySlowerCountIsAbandonedAfterOneTimedStep) {
  Machine m;
  m.seconds_per_row = kBusy;
  ThreadTuner t = m.make(2);
  m.run(t, 2 * kProbe);  // the first probe measures both fully
  EXPECT_EQ(t.threads(), 1);
  m.steps_at.clear();
  while (!t.probing()) m.run(t, 1);
  while (t.probing()) m.run(t, 1);
  // 1 thread first (kProbe steps), then 2 threads: a warm-up step and one timed step.
  EXPECT_EQ(m.steps_at[2], 2);
  EXPECT_EQ(t.threads(), 1);
}

TEST(ThreadTuner, DisabledOrOneCpuNeverChangesTheThreads) {
  Machine m;
  m.seconds_per_row = {{2, 7.5e-6}, {1, 3.2e-6}, {4, 1e-6}};
  ThreadTuner off = m.make(2, false);
  m.run(off, 100);
  EXPECT_TRUE(m.set_calls.empty());
  EXPECT_EQ(off.threads(), 2);
  ThreadTuner one = m.make(1);
  m.run(one, 100);
  EXPECT_TRUE(m.set_calls.empty());
}

}  // namespace
}  // namespace deepcross
