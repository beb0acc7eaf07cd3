// End-to-end test support: run the deepcross binary as a subprocess and look at what it did.
//
// run_deepcross() starts DEEPCROSS_BINARY with posix_spawn, stdin from /dev/null, and collects
// stdout and stderr separately, the exit status (or the signal that ended it) and whether it
// had to be killed for running past its time limit — so a crash or a hang fails a test instead
// of taking the test runner down or blocking it. TempDir gives each test its own mkdtemp folder,
// removed at the end, so tests run in parallel without sharing paths.
//
//   TempDir dir;
//   CliRun r = run_deepcross({"eval", "--model", dir.file("m.dcn"), "--data", "rows.tsv"});
//   EXPECT_TRUE(succeeded(r));                      // exit 0, no signal, no timeout
//   nlohmann::json j = parse_json_object(r.out);    // {"auc": ..., ...}
//   EXPECT_TRUE(failed_with(r, 1, "checksum"));     // exit 1, one "deepcross: error: " line
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace deepcross::e2e {

// What one run of the binary did.
struct CliRun {
  std::vector<std::string> args;  // the command line after the program name, for messages
  int exit_code = -1;             // the exit status when it exited, else -1
  int signal = 0;                 // the signal that ended it, 0 when it exited
  bool timed_out = false;         // killed after running past its time limit
  std::string out;                // everything it wrote to stdout
  std::string err;                // everything it wrote to stderr

  // The command line and what came back, for failure messages.
  std::string describe() const {
    std::string s = "deepcross";
    for (const std::string& a : args) s += " '" + a + "'";
    s += "\n  exit " + std::to_string(exit_code) + ", signal " + std::to_string(signal) +
         (timed_out ? ", TIMED OUT" : "");
    auto tail = [](const std::string& t) {
      return t.size() <= 1500 ? t : "..." + t.substr(t.size() - 1500);
    };
    s += "\n  stdout: " + tail(out) + "\n  stderr: " + tail(err);
    return s;
  }
};

struct CliOptions {
  std::string cwd;               // working folder of the child; empty = ours
  double timeout_s = 300;        // killed with SIGKILL after this long (a hang fails the test)
  std::vector<std::string> env;  // extra NAME=VALUE entries added to our environment
};

// Options that run the child in folder `cwd` (so relative paths in messages stay short).
inline CliOptions in_dir(const std::string& cwd) {
  CliOptions o;
  o.cwd = cwd;
  return o;
}

namespace detail {

inline void append_available(int fd, std::string& into, bool& open) {
  char buf[65536];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

}  // namespace detail

// Runs DEEPCROSS_BINARY with `args`; never throws for what the child does. A failure to start
// the child at all is reported as exit_code -1 with the reason in `err`.
inline CliRun run_deepcross(const std::vector<std::string>& args, const CliOptions& opt = {}) {
  CliRun run;
  run.args = args;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    run.err = "pipe2 failed";
    return run;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    run.err = "pipe2 failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!opt.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, opt.cwd.c_str());

  std::vector<std::string> argv_s = {DEEPCROSS_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), opt.env.begin(), opt.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv_s[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    run.err = std::string("posix_spawn failed: ") + std::strerror(rc);
    return run;
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opt.timeout_s * 1000));
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 && !run.timed_out) {
      run.timed_out = true;
      kill(pid, SIGKILL);  // its pipes close when it dies; keep draining them
    }
    const short out_events = out_open ? POLLIN : 0;
    const short err_events = err_open ? POLLIN : 0;
    pollfd fds[2] = {{out_pipe[0], out_events, 0}, {err_pipe[0], err_events, 0}};
    const int n =
        poll(fds, 2, run.timed_out ? 1000 : static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
      detail::append_available(out_pipe[0], run.out, out_open);
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      detail::append_available(err_pipe[0], run.err, err_open);
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  }
  return run;
}

// A fresh folder from mkdtemp, removed with everything in it when the object goes away
// (kept when DEEPCROSS_E2E_KEEP is set, to look at after a failure).
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/deepcross_e2e_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp(" << pattern << ") failed: " << std::strerror(errno);
    }
    path_ = pattern;
  }
  ~TempDir() {
    if (std::getenv("DEEPCROSS_E2E_KEEP") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// ---- files ----

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) ADD_FAILURE() << "cannot write " << path;
}

// The whole file; empty (and a test failure) when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline bool file_exists(const std::string& path) { return std::filesystem::is_regular_file(path); }

// The decompressed bytes of a .gz file (plain files pass through zlib unchanged).
inline std::string read_gzip(const std::string& path) {
  std::string text;
  gzFile g = gzopen(path.c_str(), "rb");
  if (g == nullptr) {
    ADD_FAILURE() << "cannot open " << path;
    return text;
  }
  char buf[1 << 16];
  int n;
  while ((n = gzread(g, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  gzclose(g);
  return text;
}

// Lines without their '\n' (a final line without one counts too).
inline std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

inline std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

inline std::string join(const std::vector<std::string>& parts, char sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) s += sep;
    s += parts[i];
  }
  return s;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

// The shipped 10k-row Criteo sample, decompressed once per process.
inline const std::vector<std::string>& sample_lines() {
  static const std::vector<std::string> lines =
      split_lines(read_gzip(DEEPCROSS_SOURCE_DIR "/data/criteo_kaggle_head_10k.tsv.gz"));
  return lines;
}

inline std::string sample_path() {
  return DEEPCROSS_SOURCE_DIR "/data/criteo_kaggle_head_10k.tsv.gz";
}

// The first `n` rows of the shipped sample as TSV text.
inline std::string sample_head(size_t n) {
  const auto& all = sample_lines();
  return join_lines(
      {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(n, all.size()))});
}

// `line` (TSV) with field `index` (0-based) replaced by `value`.
inline std::string with_field(const std::string& line, size_t index, std::string_view value) {
  std::vector<std::string> f = split(line, '\t');
  if (index < f.size()) f[index] = std::string(value);
  return join(f, '\t');
}

// `line` (TSV) cut or padded to `width` fields.
inline std::string with_width(const std::string& line, size_t width, std::string_view pad = "x") {
  std::vector<std::string> f = split(line, '\t');
  f.resize(width, std::string(pad));
  return join(f, '\t');
}

// ---- parsing what came back ----

// A checked decimal, the whole text and nothing else.
inline std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// A JSON object from the whole text; a discarded value (is_discarded()) if it is not one.
inline nlohmann::json parse_json_object(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && !j.is_object()) return nlohmann::json::value_t::discarded;
  return j;
}

// The sorted keys of a JSON object.
inline std::vector<std::string> keys_of(const nlohmann::json& j) {
  std::vector<std::string> keys;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// One probability per line (n_classes values per line, comma separated) or nullopt when any
// line does not read back as numbers in [0, 1] with exactly `classes` of them.
inline std::optional<std::vector<std::vector<double>>> parse_predictions(const std::string& text,
                                                                         size_t classes = 1) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  std::vector<std::vector<double>> rows;
  for (const std::string& line : split_lines(text)) {
    std::vector<double> row;
    for (const std::string& cell : split(line, ',')) {
      const std::optional<double> p = parse_double(cell);
      if (!p || !(*p >= 0.0 && *p <= 1.0)) return std::nullopt;
      row.push_back(*p);
    }
    if (row.size() != classes) return std::nullopt;
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- verdicts ----

// Exit 0, ended normally and in time.
inline ::testing::AssertionResult succeeded(const CliRun& r) {
  if (r.exit_code == 0 && r.signal == 0 && !r.timed_out) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected success:\n" << r.describe();
}

// The run failed as INTERFACE.md says a failure looks: it exited (no signal, no timeout) with
// `exit_code`; stderr holds exactly one line starting "deepcross: error: ", and it is the last
// line; the message ends with a "(WHERE)"; it contains `substring`; nothing went to stdout.
inline ::testing::AssertionResult failed_with(const CliRun& r, int exit_code,
                                              std::string_view substring) {
  auto fail = [&](std::string_view why) {
    return ::testing::AssertionFailure() << why << ":\n" << r.describe();
  };
  if (r.timed_out) return fail("hung (killed after the time limit)");
  if (r.signal != 0) return fail("crashed (ended by a signal)");
  if (r.exit_code != exit_code) {
    return fail("expected exit " + std::to_string(exit_code));
  }
  if (!r.out.empty()) return fail("wrote to stdout on failure");
  const std::vector<std::string> lines = split_lines(r.err);
  constexpr std::string_view kPrefix = "deepcross: error: ";
  int error_lines = 0;
  for (const std::string& l : lines)
    error_lines += l.find("deepcross: error:") != std::string::npos;
  if (error_lines != 1) return fail("expected exactly one 'deepcross: error:' line");
  const std::string& last = lines.back();
  if (!last.starts_with(kPrefix)) return fail("the last stderr line is not the error");
  if (last.size() < 3 || last.back() != ')' || last.find(" (") == std::string::npos) {
    return fail("the error has no (WHERE)");
  }
  if (last.find(substring) == std::string::npos) {
    return fail("the error does not contain '" + std::string(substring) + "'");
  }
  return ::testing::AssertionSuccess();
}

// The one error line (the last stderr line), or "" when there is none.
inline std::string error_line(const CliRun& r) {
  const std::vector<std::string> lines = split_lines(r.err);
  return lines.empty() ? std::string() : lines.back();
}

// ---- models for tests that need one ----

// Trains a small, fast model on the first `rows` rows of the shipped sample into `model_path`
// (one epoch, one thread, a narrow MLP); fails the test when training fails.
inline void train_small_model(const TempDir& dir, const std::string& model_path,
                              size_t rows = 400) {
  const std::string data = dir.file("small_train.tsv");
  if (!file_exists(data)) write_file(data, sample_head(rows));
  const CliRun r = run_deepcross({"train", "--data", data, "--model", model_path, "--epochs", "1",
                                  "--batch-size", "64", "--mlp", "16", "--threads", "1"});
  ASSERT_TRUE(succeeded(r));
  ASSERT_TRUE(file_exists(model_path));
}

}  // namespace deepcross::e2e
