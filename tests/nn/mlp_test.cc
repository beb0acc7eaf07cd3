// The MLP's mixed-precision path: the bf16 copies it keeps (each operand rounded once, by the
// pass that produces it) give exactly the bits of rounding inside every product.
#include "nn/mlp.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "golden/max_error.h"
#include "nn/param_store.h"

namespace deepcross {
namespace {

struct Result {
  std::vector<float> out, dx, grads;
};

// One training forward and backward of a 48 → 64 → 32 MLP on 512 rows (every product at least
// kBf16MinMacs), from the same initialisation, input and output gradient each time.
Result run(GemmPrecision precision, bool copies) {
  const int B = 512, in = 48;
  ParamStore<float> store;
  Mlp<float> mlp(store, in, {64, 32}, 0.25);
  store.finalize();
  Rng rng(1);
  mlp.init(rng);
  mlp.reserve(B);
  mlp.set_bf16_copies(copies);
  std::vector<float> x(static_cast<size_t>(B) * in), dh(static_cast<size_t>(B) * 32);
  Rng data(2);
  for (float& v : x) v = static_cast<float>(data.normal());
  for (float& v : dh) v = static_cast<float>(data.normal());
  Result r;
  ScopedGemmPrecision scope(precision);
  MatrixView<float> out = mlp.forward(ConstMatrixView<float>{x.data(), B, in}, Mode::kTrain, 9);
  r.out.assign(out.data, out.data + static_cast<size_t>(B) * 32);
  store.zero_grad();
  r.dx.assign(x.size(), 0.0f);
  mlp.backward(ConstMatrixView<float>{dh.data(), B, 32}, MatrixView<float>{r.dx.data(), B, in});
  r.grads.assign(store.grads().data(), store.grads().data() + store.grads().size());
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(MlpBf16, CopiesGiveTheBitsOfRoundingInsideEachProduct) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has no bf16 dot products";
  const Result copies = run(GemmPrecision::kBf16, true);
  const Result inside = run(GemmPrecision::kBf16, false);
  EXPECT_TRUE(same_bits(copies.out, inside.out));
  EXPECT_TRUE(same_bits(copies.dx, inside.dx));
  EXPECT_TRUE(same_bits(copies.grads, inside.grads));
  // And bf16 was used: float products give other bits; the forward output stays close (the
  // gradients drift further: ReLU masks flip where bf16 moved a unit across 0, and BatchNorm's
  // backward subtracts nearly equal sums).
  const Result fp32 = run(GemmPrecision::kFp32, true);
  EXPECT_FALSE(same_bits(copies.grads, fp32.grads));
  testing::MaxError worst;  // a NaN element: infinite
  double scale = 0;
  for (size_t i = 0; i < fp32.out.size(); ++i) {
    worst.add(i, std::abs(static_cast<double>(copies.out[i]) - fp32.out[i]));
    scale = std::max(scale, static_cast<double>(std::abs(fp32.out[i])));
  }
  EXPECT_LT(worst.value, 0.05 * scale);
  EXPECT_GT(worst.value, 0.0);
}

}  // namespace
}  // namespace deepcross
