#include "core/fast_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace deepcross {
namespace {

// Over a dense sweep of the float range that matters (and far beyond), the fast tanh stays
// within 3e-7 · max(1, |tanh x|) of the double-precision tanh, and is exactly odd.
TEST(FastTanh, MatchesStdTanh) {
  std::vector<float> xs;
  for (float x = -20.f; x <= 20.f; x += 0.00137f) xs.push_back(x);
  for (float x : {0.f, -0.f, 1e-30f, -1e-30f, 1e-8f, 0.125f, -0.125f, 0.12499999f, 88.f, -88.f,
                  1e30f, -1e30f, std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max()})
    xs.push_back(x);
  std::vector<float> y = xs;
  tanh_inplace(y.data(), y.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::tanh(static_cast<double>(xs[i]));
    EXPECT_LE(std::abs(y[i] - want), 3e-7 * std::max(std::abs(want), 1e-30) + 1e-37)
        << "x = " << xs[i];
  }
  std::vector<float> neg(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) neg[i] = -xs[i];
  tanh_inplace(neg.data(), neg.size());
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(neg[i], -y[i]) << xs[i];
}

// Found by model_fuzz (a model file with NaN weights, scored): NaN reached an integer
// conversion, undefined behaviour that UBSan reports. NaN must come out NaN, ±∞ as ±1, in
// every lane of a vector (so several of each, between ordinary values).
TEST(FastTanh, NanStaysNanAndInfinitiesSaturate) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x;
  for (int i = 0; i < 40; ++i) {
    x.push_back(i % 4 == 0 ? nan : i % 4 == 1 ? inf : i % 4 == 2 ? -inf : 0.5f * i);
  }
  std::vector<float> y = x;
  tanh_inplace(y.data(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(y[i])) << i;
    } else if (std::isinf(x[i])) {
      EXPECT_EQ(y[i], x[i] > 0 ? 1.0f : -1.0f) << i;
    } else {
      EXPECT_NEAR(y[i], std::tanh(x[i]), 3e-7) << i;
    }
  }
}

TEST(FastTanh, DoubleIsStdTanh) {
  double v[3] = {-1.5, 0.25, 3.0};
  tanh_inplace(v, 3);
  EXPECT_EQ(v[0], std::tanh(-1.5));
  EXPECT_EQ(v[2], std::tanh(3.0));
}

}  // namespace
}  // namespace deepcross
