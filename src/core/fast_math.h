// Vectorisable tanh for float arrays (the mix cross applies two per expert element).
//
// std::tanh is a scalar library call (~20 ns); this loop has no calls or branches, so the
// compiler turns it into AVX-512/AVX2 code. Accuracy: within 2 ulp-ish of std::tanh over the
// whole float range (tests/core/fast_math_test.cc pins |error| ≤ 3e-7 · max(1, |tanh x|)).
//   |x| < 0.125:  tanh x = x (1 − x²/3 + 2x⁴/15 − 17x⁶/315 + 62x⁸/2835)  (Taylor, error < 1e-12)
//   otherwise:    tanh x = sign(x) (1 − e) / (1 + e),  e = exp(−2|x|)
//   exp(y), y ≤ 0: y = n ln2 + r, |r| ≤ ln2/2;  exp(r) by its Taylor polynomial to degree 7
//   (error < 2e-9), times 2ⁿ built in the exponent bits; y < −87 gives 0 (tanh = ±1 there).
//   NaN stays NaN, ±∞ gives ±1 (a fuzzed model with NaN weights once hit undefined behaviour).
// double arrays use std::tanh (they serve the finite-difference checks, not speed).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace deepcross {

inline void tanh_inplace(double* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
}

inline void tanh_inplace(float* x, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float a = std::fabs(v);
    // Small |x|: odd Taylor polynomial.
    const float s = v * v;
    const float small =
        v * (1.0f + s * (-1.0f / 3 + s * (2.0f / 15 + s * (-17.0f / 315 + s * (62.0f / 2835)))));
    // exp(−2|x|) for the rest; y is clamped so 2ⁿ stays a normal float (written so that a NaN
    // clamps too: converting a NaN k to an integer below would be undefined).
    float y = -2.0f * a;
    y = y >= -87.0f ? y : -87.0f;
    const float k = std::nearbyint(y * 1.44269504088896341f);
    const float r = y - k * 0.693145751953125f - k * 1.42860682030941723e-6f;
    const float p =
        1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
                   r * (1.0f / 720 + r * (1.0f / 5040)))))));
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    float big = (1.0f - e) / (1.0f + e);
    big = v < 0 ? -big : big;
    big = a >= 0.125f ? big : v;  // a NaN compares false both ways: it stays NaN
    x[i] = a < 0.125f ? small : big;
  }
}

}  // namespace deepcross
