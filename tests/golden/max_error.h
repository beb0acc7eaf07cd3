// The largest elementwise error of a comparison, for tests. A NaN error (a NaN on either side)
// counts as an infinite one, so that a comparison against any finite tolerance fails: a plain
// `if (e > max)` or std::max(max, e) skips NaN, and a NaN result would pass unseen.
//
//   MaxError worst;
//   for (size_t i = 0; i < n; ++i) worst.add(i, std::abs(ours[i] - want[i]));
//   EXPECT_LE(worst.value, tolerance) << "element " << worst.at;
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

namespace deepcross::testing {

struct MaxError {
  double value = 0;  // the largest error so far; +infinity once any was NaN
  size_t at = 0;     // the index of the (first) largest

  void add(size_t i, double err) {
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > value) {
      value = err;
      at = i;
    }
  }
};

}  // namespace deepcross::testing
