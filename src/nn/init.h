// Parameter initialisation with PyTorch's default distributions (SPEC.md, "Model").
//
//   init_uniform(p, n, 1 / sqrt(fan_in), rng);   // nn.Linear weight and bias
//   init_normal(p, n, 1.0, rng);                 // nn.Embedding
//   init_normal(p, n, xavier_std(fan_in, fan_out), rng);   // xavier_normal_
//
// xavier_normal_ in torch: std = sqrt(2 / (fan_in + fan_out)), where for a tensor of shape
// (d0, d1, d2...) fan_in = d1 * d2 * ... and fan_out = d0 * d2 * ... (the "receptive field"
// is the product of the trailing dims). For the mix cross's stacked (K, D, r) tensors that is
// fan_in = D·r, fan_out = K·r; for (K, r, r): fan_in = r·r, fan_out = K·r; for a 2-d (D, r)
// tensor fan_in = r, fan_out = D. The caller passes the fans; this file only draws.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/rng.h"

namespace deepcross {

template <typename T>
void init_uniform(T* p, size_t n, double bound, Rng& rng) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
}

template <typename T>
void init_normal(T* p, size_t n, double stddev, Rng& rng) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<T>(stddev * rng.normal());
}

template <typename T>
void init_constant(T* p, size_t n, T value) {
  for (size_t i = 0; i < n; ++i) p[i] = value;
}

// torch's fans for a tensor of the given shape (see above).
inline void torch_fans(const std::vector<int>& shape, double* fan_in, double* fan_out) {
  double receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  *fan_in = (shape.size() > 1 ? shape[1] : 1) * receptive;
  *fan_out = shape[0] * receptive;
}

inline double xavier_std(const std::vector<int>& shape) {
  double fi, fo;
  torch_fans(shape, &fi, &fo);
  return std::sqrt(2.0 / (fi + fo));
}

}  // namespace deepcross
