// FTZ/DAZ: after flush_subnormals_to_zero, the calling thread and the OpenMP threads flush
// subnormal results and inputs to zero, so that no arithmetic takes the slow path.
#include "core/float_env.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <xmmintrin.h>

#include <cstring>
#include <limits>
#include <vector>

namespace deepcross {
namespace {

// Restores the MXCSR of the main thread and of the OpenMP team after a test.
class MxcsrGuard {
 public:
  MxcsrGuard() : saved_(_mm_getcsr()) {}
  ~MxcsrGuard() {
    const unsigned s = saved_;
    _mm_setcsr(s);
#pragma omp parallel
    _mm_setcsr(s);
  }

 private:
  unsigned saved_;
};

float multiply(float a, float b) {
  volatile float x = a, y = b;  // kept from constant folding
  return x * y;
}

TEST(FloatEnv, SubnormalResultsAndInputsBecomeZeroOnEveryThread) {
  MxcsrGuard guard;
  const float tiny = 1e-30f;
  ASSERT_GT(multiply(tiny, 1e-10f), 0.0f) << "subnormals already flushed before the call";
  flush_subnormals_to_zero();
  EXPECT_TRUE(subnormals_flushed());
  EXPECT_EQ(multiply(tiny, 1e-10f), 0.0f);  // FTZ: a subnormal result is 0
  // DAZ: a subnormal input reads as 0.
  const float subnormal = std::numeric_limits<float>::denorm_min() * 1000;
  EXPECT_EQ(multiply(subnormal, 1e10f), 0.0f);
  const int threads = std::max(2, omp_get_max_threads());
  std::vector<int> flushed(threads, 0);
#pragma omp parallel num_threads(threads)
  flushed[omp_get_thread_num()] = subnormals_flushed() && multiply(tiny, 1e-10f) == 0.0f;
  for (int t = 0; t < threads; ++t) EXPECT_EQ(flushed[t], 1) << "thread " << t;
}

}  // namespace
}  // namespace deepcross
