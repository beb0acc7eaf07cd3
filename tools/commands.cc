#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "deepcross/error.h"
#include "deepcross/runtime.h"

namespace deepcross {
namespace {
constexpr int kThreadsPerCore = 4;
}  // namespace

int thread_count(const Options& options) {
  int n = options.accepts("threads") && options.is_set("threads") ? options.get_int("threads") : 0;
  if (n <= 0) return std::max(1, available_cpus());  // affinity and cgroup CPU quota
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // Far more threads than cores only costs memory (serve: one model clone each) and start-up
  // time: capped at 4 per core, said once.
  if (n > kThreadsPerCore * cores) {
    static bool warned = false;
    if (!warned) {
      warn("--threads " + std::to_string(n) + " is far above the " + std::to_string(cores) +
           " cores of this machine: using " + std::to_string(kThreadsPerCore * cores));
      warned = true;
    }
    n = kThreadsPerCore * cores;
  }
  return n;
}

void warn(const std::string& message) {
  std::fprintf(stderr, "deepcross: warning: %s\n", message.c_str());
}

std::string format_number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void write_stdout(std::string_view text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw DataError(std::string("cannot write to standard output") +
                        (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()),
                    "stdout");
  }
}

void write_json_line(const std::string& json) { write_stdout(json + "\n"); }

}  // namespace deepcross
