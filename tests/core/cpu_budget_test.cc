// The CPUs a process may use: cgroup v2 cpu.max and v1 CFS quotas, the tightest on the path
// from its cgroup up to the root, rounded up; the affinity mask bounds the result.
#include "core/cpu_budget.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <fstream>

namespace deepcross {
namespace {

namespace fs = std::filesystem;

struct CgroupTree {
  fs::path root;
  CgroupTree() {
    root = fs::temp_directory_path() / ("dc_cgroup_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root / "a" / "b");
  }
  ~CgroupTree() { fs::remove_all(root); }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root / rel) << text << "\n";
  }
};

TEST(CpuBudget, ParsesCpuMaxAndCfsQuotas) {
  EXPECT_EQ(cpu_max_quota("max 100000"), 0);
  EXPECT_EQ(cpu_max_quota("150000 100000"), 1.5);
  EXPECT_EQ(cpu_max_quota("50000"), 0.5);  // the period defaults to 100 ms
  EXPECT_EQ(cpu_max_quota(""), 0);
  EXPECT_EQ(cpu_max_quota("junk 100000"), 0);
  EXPECT_EQ(cfs_quota(-1, 100000), 0);
  EXPECT_EQ(cfs_quota(200000, 100000), 2);
}

TEST(CpuBudget, TheTightestQuotaOnThePathCountsV2) {
  CgroupTree t;
  t.write("cpu.max", "max 100000");
  t.write("a/cpu.max", "250000 100000");
  t.write("a/b/cpu.max", "max 100000");
  EXPECT_EQ(cgroup_quota(t.root.string(), "/a/b", true), 2.5);
  t.write("a/b/cpu.max", "120000 100000");
  EXPECT_EQ(cgroup_quota(t.root.string(), "/a/b", true), 1.2);
  EXPECT_EQ(cgroup_quota(t.root.string(), "/", true), 0);
  EXPECT_EQ(cgroup_quota(t.root.string(), "/missing/path", true), 0);
}

TEST(CpuBudget, TheTightestQuotaOnThePathCountsV1) {
  CgroupTree t;
  t.write("cpu.cfs_quota_us", "-1");
  t.write("cpu.cfs_period_us", "100000");
  t.write("a/cpu.cfs_quota_us", "100000");
  t.write("a/cpu.cfs_period_us", "100000");
  t.write("a/b/cpu.cfs_quota_us", "-1");
  t.write("a/b/cpu.cfs_period_us", "100000");
  EXPECT_EQ(cgroup_quota(t.root.string(), "/a/b", false), 1.0);
}

TEST(CpuBudget, AvailableCpusIsWithinTheAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int n = available_cpus();
  EXPECT_GE(n, 1);
  EXPECT_LE(n, CPU_COUNT(&set));
}

}  // namespace
}  // namespace deepcross
