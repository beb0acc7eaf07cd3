// Crash safety of the model checkpoints: `deepcross train` rewrites its --model file at every
// best epoch (temp file, fsync, rename: io/whole_file.h), so a training run killed at any
// moment must leave a model file that loads — the previous one or a newer one, never a torn
// one. The test kills training runs with SIGKILL (no handler runs, no cleanup) at varied
// moments, all writing to the same --model path, and after each kill runs `deepcross info`.
//
// A temporary file ("M.tmp-PID-N") of a run killed between its creation and the rename stays
// behind until the next write to the same path, which removes those of dead writers
// (io/whole_file.h). The test checks that leftovers never stop the model from loading, that
// at most one is ever present (the last killed run's), and that none is left after a complete
// run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr int kKills = 10;

// A deepcross process started without waiting for it; stdout and stderr go to `log`.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv_s = {DEEPCROSS_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv_s[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << argv_s[0] << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait();
    }
  }

  bool started() const { return pid_ > 0; }
  // Whether it is still running (not yet reaped).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    pid_ = -1;
    status_ = status;
    return false;
  }
  // SIGKILL, then reap; true when the signal ended it (false: it had already exited).
  bool kill_now() {
    if (!running()) return false;
    kill(pid_, SIGKILL);
    wait();
    return WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL;
  }
  int wait() {
    if (pid_ > 0) {
      while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

// Names in `dir` containing ".tmp-": the temporaries of interrupted atomic writes.
std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CheckpointKill, ModelFileLoadsAfterEverySigkill) {
  TempDir dir;
  const std::string data = dir.file("train.tsv");
  const std::string model = dir.file("m.dcn");
  const std::string log = dir.file("train.log");
  ASSERT_TRUE(succeeded(run_deepcross(
      {"synth", "--rows", "10000", "--cardinality-scale", "0.01", "--output", data})));
  // A small model, 30 epochs: a run rewrites the model at every best epoch (about ten times
  // here), and lasts about a second in Release.
  const std::vector<std::string> train = {
      "train", "--data",       data,  "--model",   model, "--epochs",       "30", "--patience",
      "30",    "--batch-size", "256", "--mlp",     "8",   "--cross-layers", "1",  "--embed-max",
      "2",     "--quantiles",  "50",  "--threads", "1"};

  // First run: to completion, timing when the model file first appears and when it ends.
  const auto start = Clock::now();
  double first_save_s = -1;
  {
    Child first(train, log);
    ASSERT_TRUE(first.started());
    while (first.running()) {
      if (first_save_s < 0 && file_exists(model)) {
        first_save_s = Seconds(Clock::now() - start).count();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ASSERT_LT(Seconds(Clock::now() - start).count(), 120) << "training did not finish";
    }
  }
  const double total_s = Seconds(Clock::now() - start).count();
  ASSERT_TRUE(file_exists(model)) << read_file(log);
  if (first_save_s < 0) first_save_s = total_s;
  ASSERT_TRUE(succeeded(run_deepcross({"info", "--model", model})));

  // Then fresh runs over the same --model path. Even runs are killed at moments spread from
  // before a run's first checkpoint to near its end (reading, training or writing); odd runs
  // the moment a new temporary file shows up, i.e. inside a checkpoint write, before its
  // rename (or, if the poll is late, just after it).
  int killed = 0, killed_writing = 0;
  std::vector<size_t> temp_counts;
  for (int i = 0; i < kKills; ++i) {
    const size_t temps_before = temporaries(dir.path()).size();
    Child run(train, log);
    ASSERT_TRUE(run.started());
    const auto run_start = Clock::now();
    std::string when;
    if (i % 2 == 0) {
      const double at_s = 0.5 * first_save_s + (0.8 * total_s - 0.5 * first_save_s) * i / kKills;
      std::this_thread::sleep_for(Seconds(at_s));
      when = "at " + std::to_string(at_s) + " s";
    } else {
      while (temporaries(dir.path()).size() <= temps_before && run.running() &&
             Seconds(Clock::now() - run_start).count() < 60) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      when = "at a checkpoint write";
    }
    const bool ended_by_kill = run.kill_now();
    killed += ended_by_kill;
    if (i % 2 == 1 && ended_by_kill) ++killed_writing;

    const CliRun info = run_deepcross({"info", "--model", model});
    EXPECT_TRUE(succeeded(info)) << "after a kill " << when << " (run " << i << ")";
    EXPECT_FALSE(parse_json_object(info.out).is_discarded()) << info.out;
    temp_counts.push_back(temporaries(dir.path()).size());
    EXPECT_LE(temp_counts.back(), 1u) << "temporaries accumulate (after run " << i << ")";
  }
  // How many kills land depends on the machine's load (a run may end before its kill); at
  // least one must have, or the test proved nothing. Each run checkpoints about ten times, and
  // an odd run is polled for a temporary file every 200 us until it ends.
  EXPECT_GE(killed, 1) << "every run ended before its kill";

  std::string counts;
  for (size_t c : temp_counts) counts += (counts.empty() ? "" : " ") + std::to_string(c);
  std::cout << "[ checkpoint-kill ] " << killed << " of " << kKills << " runs killed, "
            << killed_writing << " of them at a checkpoint write (first checkpoint after "
            << first_save_s << " s, a whole run " << total_s
            << " s); temporary files present after each kill: " << counts << "\n";
  for (const std::string& t : temporaries(dir.path())) {
    std::cout << "[ checkpoint-kill ] left behind: " << t << "\n";
  }
  // Leftover temporaries never replace the model: the file still loads, and a complete run
  // afterwards still succeeds beside them.
  Child last(train, log);
  ASSERT_TRUE(last.started());
  EXPECT_EQ(last.wait(), 0) << read_file(log);
  EXPECT_TRUE(succeeded(run_deepcross({"info", "--model", model})));
  EXPECT_TRUE(temporaries(dir.path()).empty()) << "a complete run leaves no temporary behind";
}

}  // namespace
}  // namespace deepcross::e2e
