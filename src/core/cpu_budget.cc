#include "core/cpu_budget.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

namespace deepcross {

namespace {

std::string first_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// The smaller of two quotas, where 0 means none.
double tighter(double a, double b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return std::min(a, b);
}

}  // namespace

double cpu_max_quota(const std::string& line) {
  std::istringstream in(line);
  std::string quota;
  long long period = 100000;
  if (!(in >> quota) || quota == "max") return 0;
  in >> period;
  try {
    return cfs_quota(std::stoll(quota), period);
  } catch (...) {
    return 0;
  }
}

double cfs_quota(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return 0;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

double cgroup_quota(const std::string& root, const std::string& path, bool v2) {
  double quota = 0;
  std::string p = path.empty() ? "/" : path;
  while (true) {
    const std::string dir = root + (p == "/" ? "" : p);
    if (v2) {
      quota = tighter(quota, cpu_max_quota(first_line(dir + "/cpu.max")));
    } else {
      const std::string q = first_line(dir + "/cpu.cfs_quota_us");
      const std::string t = first_line(dir + "/cpu.cfs_period_us");
      if (!q.empty() && !t.empty()) {
        try {
          quota = tighter(quota, cfs_quota(std::stoll(q), std::stoll(t)));
        } catch (...) {
        }
      }
    }
    if (p == "/") break;
    const size_t slash = p.find_last_of('/');
    p = slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
  }
  return quota;
}

int available_cpus() {
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (cpus <= 0) cpus = 1;
  // /proc/self/cgroup: "0::/path" (v2) or "N:cpu,cpuacct:/path" (v1). Inside a container the
  // file systems usually show its own cgroup at their root: the root is read too.
  double quota = 0;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) {
      for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        quota = tighter(quota, cgroup_quota(root, path, true));
        quota = tighter(quota, cgroup_quota(root, "/", true));
      }
    } else if (("," + controllers + ",").find(",cpu,") != std::string::npos) {
      for (const char* root : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
        quota = tighter(quota, cgroup_quota(root, path, false));
        quota = tighter(quota, cgroup_quota(root, "/", false));
      }
    }
  }
  if (quota > 0) cpus = std::min(cpus, std::max(1, static_cast<int>(std::ceil(quota - 1e-9))));
  return cpus;
}

}  // namespace deepcross
