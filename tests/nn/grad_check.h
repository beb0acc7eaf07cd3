// Central finite differences in double precision, for the per-layer gradient checks.
//
//   GradCheck gc = check_gradient(loss_fn, values, analytic, n);
//   EXPECT_LE(gc.max_abs_error, 1e-6 * std::max(1.0, gc.max_abs_grad));
// loss_fn() recomputes the loss from the current values; values[i] is nudged by ±h.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>

#include "golden/max_error.h"

namespace deepcross::testing {

struct GradCheck {
  double max_abs_error = 0;  // max_i |analytic_i − numeric_i|; +infinity if any was NaN
  double max_abs_grad = 0;   // max_i |numeric_i|
  size_t worst = 0;
};

inline GradCheck check_gradient(const std::function<double()>& loss, double* values,
                                const double* analytic, size_t n, double h = 1e-6,
                                size_t max_checks = 400) {
  GradCheck r;
  // Check every element of small tensors, and an even spread of larger ones.
  const size_t stride = n > max_checks ? n / max_checks : 1;
  MaxError worst;
  for (size_t i = 0; i < n; i += stride) {
    const double saved = values[i];
    values[i] = saved + h;
    const double up = loss();
    values[i] = saved - h;
    const double down = loss();
    values[i] = saved;
    const double numeric = (up - down) / (2 * h);
    worst.add(i, std::abs(numeric - analytic[i]));
    r.max_abs_grad = std::max(r.max_abs_grad, std::abs(numeric));
  }
  r.max_abs_error = worst.value;
  r.worst = worst.at;
  return r;
}

}  // namespace deepcross::testing
