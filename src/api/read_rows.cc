#include "api/read_rows.h"

#include <algorithm>

#include "core/cpu_budget.h"
#include "deepcross/error.h"

#include <thread>

namespace deepcross {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, available_cpus());  // affinity and cgroup CPU quota
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

char delimiter_of(const std::string& d) {
  if (d.empty()) return 0;
  if (d == "\\t" || d == "tab" || d == "\t") return '\t';
  if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
    throw UsageError("'" + d + "': expected one character other than a quote or a line break "
                     "(\\t or tab for a tab)",
                     "data.delimiter");
  }
  return d[0];
}

}  // namespace deepcross
