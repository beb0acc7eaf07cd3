#include <charconv>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "deepcross/runtime.h"

namespace deepcross {

int thread_count(const Options& options) {
  int n = options.accepts("threads") && options.is_set("threads") ? options.get_int("threads") : 0;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
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

}  // namespace deepcross
