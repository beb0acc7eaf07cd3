// The gradient check and the elementwise comparisons of the golden tests fail on NaN: a NaN
// analytic gradient, a NaN loss or a NaN element is an infinite error, never a skipped one.
#include "nn/grad_check.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "golden/max_error.h"

namespace deepcross::testing {
namespace {

// loss = Σ x_i² / 2: the gradient is x.
double half_square(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v / 2;
  return s;
}

TEST(GradCheck, PassesAnExactGradient) {
  std::vector<double> x = {0.5, -1.0, 2.0};
  const std::vector<double> analytic = x;
  const GradCheck gc = check_gradient([&] { return half_square(x); }, x.data(), analytic.data(), 3);
  EXPECT_LE(gc.max_abs_error, 1e-6);
}

TEST(GradCheck, FailsOnANaNAnalyticGradient) {
  std::vector<double> x = {0.5, -1.0, 2.0};
  std::vector<double> analytic = x;
  analytic[1] = std::nan("");
  const GradCheck gc = check_gradient([&] { return half_square(x); }, x.data(), analytic.data(), 3);
  EXPECT_EQ(gc.max_abs_error, std::numeric_limits<double>::infinity());
  EXPECT_EQ(gc.worst, 1u);
  EXPECT_NONFATAL_FAILURE(EXPECT_LE(gc.max_abs_error, 1e-6 * std::max(1.0, gc.max_abs_grad)),
                          "max_abs_error");
}

TEST(GradCheck, FailsOnANaNLoss) {
  std::vector<double> x = {0.5, -1.0, 2.0};
  const std::vector<double> analytic = x;
  const GradCheck gc = check_gradient(
      [&] { return x[2] > 2.0 ? std::nan("") : half_square(x); }, x.data(), analytic.data(), 3);
  EXPECT_EQ(gc.max_abs_error, std::numeric_limits<double>::infinity());
  EXPECT_EQ(gc.worst, 2u);
}

TEST(MaxError, KeepsTheLargestAndTreatsNaNAsInfinite) {
  MaxError e;
  e.add(0, 0.5);
  e.add(1, 2.0);
  e.add(2, 1.0);
  EXPECT_EQ(e.value, 2.0);
  EXPECT_EQ(e.at, 1u);
  e.add(3, std::nan(""));
  e.add(4, 5.0);
  EXPECT_EQ(e.value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(e.at, 3u);
}

}  // namespace
}  // namespace deepcross::testing
