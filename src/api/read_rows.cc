#include "api/read_rows.h"

#include <thread>

namespace deepcross {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

Table read_reporting(const std::vector<std::string>& paths, const ReadOptions& layout,
                     const std::string& what, const std::function<void(const std::string&)>& warn) {
  std::vector<BadLine> bad;
  Table t = read_table(paths, layout, &bad);
  if (t.skipped_lines > 0 && warn) {
    std::string msg = "skipped " + std::to_string(t.skipped_lines) + " malformed line" +
                      (t.skipped_lines == 1 ? "" : "s") + " of the " + what;
    if (!bad.empty()) msg += " (first: " + bad.front().what + " (" + bad.front().where + "))";
    warn(msg);
  }
  return t;
}

}  // namespace deepcross
