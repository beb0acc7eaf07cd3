// The GEMM wrapper: float (both libraries behind it) against a plain triple loop in double,
// and the bf16 mixed-precision path against the same loop over inputs rounded to bfloat16.
#include "core/blas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include "core/rng.h"
#include "golden/max_error.h"

namespace deepcross {
namespace {

// Round to the nearest bfloat16, back as a float (float_to_bf16 is tested below).
float round_to_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

struct Case {
  int m, n, k;
  bool ta, tb;
  float beta;
  int pad;  // extra leading-dimension columns of every operand (strided views)
};

// Runs gemm on random operands; returns the largest |C − reference| relative to the largest
// |reference|, with the reference computed in double from inputs passed through `round`.
template <typename Round>
double worst_relative_error(const Case& c, GemmPrecision precision, Round round) {
  Rng rng(7);
  const int ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
  const int br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
  const int lda = ac + c.pad, ldb = bc + c.pad, ldc = c.n + c.pad;
  std::vector<float> a(static_cast<size_t>(ar) * lda), b(static_cast<size_t>(br) * ldb),
      cm(static_cast<size_t>(c.m) * ldc);
  for (float& v : a) v = static_cast<float>(rng.normal());
  for (float& v : b) v = static_cast<float>(rng.normal());
  for (float& v : cm) v = static_cast<float>(rng.normal());
  const std::vector<float> c0 = cm;
  {
    ScopedGemmPrecision scope(precision);
    gemm<float>(c.ta ? Trans::kYes : Trans::kNo, c.tb ? Trans::kYes : Trans::kNo, 1.0f,
                ConstMatrixView<float>{a.data(), ar, ac, lda},
                ConstMatrixView<float>{b.data(), br, bc, ldb}, c.beta,
                MatrixView<float>{cm.data(), c.m, c.n, ldc});
  }
  testing::MaxError worst;  // a NaN element: infinite
  double scale = 0;
  for (int i = 0; i < c.m; ++i) {
    for (int j = 0; j < c.n; ++j) {
      double ref = c.beta * static_cast<double>(c0[static_cast<size_t>(i) * ldc + j]);
      for (int p = 0; p < c.k; ++p) {
        const float x = c.ta ? a[static_cast<size_t>(p) * lda + i] : a[static_cast<size_t>(i) * lda + p];
        const float y = c.tb ? b[static_cast<size_t>(j) * ldb + p] : b[static_cast<size_t>(p) * ldb + j];
        ref += static_cast<double>(round(x)) * round(y);
      }
      worst.add(0, std::abs(cm[static_cast<size_t>(i) * ldc + j] - ref));
      scale = std::max(scale, std::abs(ref));
    }
    // The padding columns are never written.
    for (int j = c.n; j < ldc; ++j) {
      EXPECT_EQ(cm[static_cast<size_t>(i) * ldc + j], c0[static_cast<size_t>(i) * ldc + j]);
    }
  }
  return worst.value / scale;
}

// Shapes on both sides of the size at which float GEMMs move from OpenBLAS to oneDNN, every
// transposition, beta 0 and 1, dense and strided.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& [m, n, k] : {std::tuple{3, 5, 7}, std::tuple{300, 70, 40},
                                std::tuple{600, 120, 200}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        out.push_back({m, n, k, ta, tb, 0.0f, 0});
        out.push_back({m, n, k, ta, tb, 1.0f, 3});
      }
    }
  }
  return out;
}

TEST(Gemm, FloatMatchesATripleLoop) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(::testing::Message() << c.m << "x" << c.n << "x" << c.k << " ta=" << c.ta
                                    << " tb=" << c.tb << " beta=" << c.beta);
    EXPECT_LT(worst_relative_error(c, GemmPrecision::kFp32, [](float x) { return x; }), 1e-5);
  }
}

TEST(Gemm, Bf16RoundsTheInputsAndSumsInFloat) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has no bf16 dot products";
  for (const Case& c : cases()) {
    SCOPED_TRACE(::testing::Message() << c.m << "x" << c.n << "x" << c.k << " ta=" << c.ta
                                    << " tb=" << c.tb << " beta=" << c.beta);
    if (static_cast<double>(c.m) * c.n * c.k >= kBf16MinMacs) {
      // Against inputs rounded to bf16: only the float summation differs.
      EXPECT_LT(worst_relative_error(c, GemmPrecision::kBf16, round_to_bf16), 1e-5);
    } else {  // small products stay float
      EXPECT_LT(worst_relative_error(c, GemmPrecision::kBf16, [](float x) { return x; }), 1e-5);
    }
  }
  // And it does round: a large product differs from the float one by bf16's precision.
  const Case big{600, 120, 200, false, true, 0.0f, 0};
  const double vs_float = worst_relative_error(big, GemmPrecision::kBf16, [](float x) { return x; });
  EXPECT_GT(vs_float, 1e-5);
  EXPECT_LT(vs_float, 2e-2);
}

TEST(Gemm, PrecisionIsPerThreadAndScoped) {
  EXPECT_EQ(gemm_precision(), GemmPrecision::kFp32);
  {
    ScopedGemmPrecision outer(GemmPrecision::kBf16);
    EXPECT_EQ(gemm_precision(), GemmPrecision::kBf16);
    {
      ScopedGemmPrecision inner(GemmPrecision::kFp32);
      EXPECT_EQ(gemm_precision(), GemmPrecision::kFp32);
    }
    EXPECT_EQ(gemm_precision(), GemmPrecision::kBf16);
    GemmPrecision other = GemmPrecision::kBf16;
    std::thread([&] { other = gemm_precision(); }).join();
    EXPECT_EQ(other, GemmPrecision::kFp32);
  }
  EXPECT_EQ(gemm_precision(), GemmPrecision::kFp32);
}

}  // namespace
}  // namespace deepcross

namespace deepcross {
namespace {

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(bf16_to_float(float_to_bf16(-2.5f)), -2.5f);
  // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even mantissa (1).
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + 1.0f / 256)), 1.0f);
  // 1 + 3·2⁻⁸ lies halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: to the even one (1 + 2⁻⁶).
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + 3.0f / 256)), 1.0f + 4.0f / 256);
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + 1.0f / 256 + 1.0f / 4096)), 1.0f + 1.0f / 128);
  EXPECT_TRUE(std::isinf(bf16_to_float(float_to_bf16(INFINITY))));
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST(Bf16, MatrixConversionMatchesTheScalarOneOnStridedViews) {
  Rng rng(3);
  const int rows = 700, cols = 37, ld = 41;  // past the parallel size, odd widths and tails
  std::vector<float> src(static_cast<size_t>(rows) * ld);
  for (float& v : src) v = static_cast<float>(rng.normal() * 100);
  std::vector<Bf16> dst(static_cast<size_t>(rows) * cols);
  to_bf16(ConstMatrixView<float>{src.data(), rows, cols, ld}, MatrixView<Bf16>{dst.data(), rows, cols});
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      ASSERT_EQ(dst[static_cast<size_t>(r) * cols + c], float_to_bf16(src[static_cast<size_t>(r) * ld + c]))
          << r << "," << c;
    }
  }
}

TEST(Bf16, GemmOnBf16OperandsReadsTransposedViews) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has no bf16 dot products";
  Rng rng(5);
  const int m = 64, n = 48, k = 80;
  // A stored transposed (k x m), B plain (k x n); values exactly representable in bf16.
  std::vector<Bf16> a(static_cast<size_t>(k) * m), b(static_cast<size_t>(k) * n);
  for (Bf16& v : a) v = float_to_bf16(static_cast<float>(rng.normal()));
  for (Bf16& v : b) v = float_to_bf16(static_cast<float>(rng.normal()));
  std::vector<float> c(static_cast<size_t>(m) * n, 1.0f);
  ASSERT_TRUE(gemm_bf16(Trans::kYes, Trans::kNo, ConstMatrixView<Bf16>{a.data(), k, m},
                        ConstMatrixView<Bf16>{b.data(), k, n}, 1.0f,
                        MatrixView<float>{c.data(), m, n}));
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = 1.0;
      for (int p = 0; p < k; ++p) {
        ref += static_cast<double>(bf16_to_float(a[static_cast<size_t>(p) * m + i])) *
               bf16_to_float(b[static_cast<size_t>(p) * n + j]);
      }
      ASSERT_NEAR(c[static_cast<size_t>(i) * n + j], ref, 1e-4 * (1 + std::abs(ref)));
    }
  }
}

}  // namespace
}  // namespace deepcross
