// How many CPUs this process may actually use: the CPUs of its affinity mask, capped by the CPU
// quota of its cgroup and of every cgroup above it (cgroup v2 cpu.max, cgroup v1
// cpu.cfs_quota_us / cpu.cfs_period_us), rounded up. A container limited to 1.5 CPUs on a
// 64-core host gets 2, not 64: more threads than that only wait for each other.
//
//   int n = available_cpus();   // ≥ 1
#pragma once

#include <string>

namespace deepcross {

int available_cpus();

// The pieces, for tests: the quota in CPUs (quota / period; 0 = none) that a cgroup v2
// "cpu.max" line or a v1 quota and period give, and the smallest quota of the cgroups on a
// path ("/a/b": "/a/b", "/a", "/") under a cgroup file system mounted at `root`.
double cpu_max_quota(const std::string& cpu_max_line);
double cfs_quota(long long quota_us, long long period_us);
double cgroup_quota(const std::string& root, const std::string& path, bool v2);

}  // namespace deepcross
