#include <charconv>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "core/blas.h"
#include "core/cpu_budget.h"
#include "io/whole_file.h"

namespace deepcross {

int thread_count(const Options& options) {
  int n = options.accepts("threads") && options.is_set("threads") ? options.get_int("threads") : 0;
  if (n <= 0) n = available_cpus();  // affinity and cgroup CPU quota, not every core
  return n > 0 ? n : 1;
}

void warn(const std::string& message) {
  std::fprintf(stderr, "deepcross: warning: %s\n", message.c_str());
}

std::string format_number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void write_json_line(const std::string& json) {
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::span<const uint8_t> piece(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  write_whole_file_atomically(path, std::span<const std::span<const uint8_t>>(&piece, 1));
}

}  // namespace deepcross
