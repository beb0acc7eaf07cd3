// Nothing allocates inside a training step: after the first step (which may size scratch),
// a forward, loss, backward and Adam step make no C++ heap allocation, in every cross type.
// (Counts operator new in this test binary, except inside calls into the BLAS libraries, whose
// own allocations are theirs: oneDNN builds an execution context per matmul call.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "nn/model.h"
#include "optim/adam.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting && !deepcross::inside_blas_library()) ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace deepcross {
namespace {

// One model per cross type and optimizer mode: a first step, then three counted ones. With
// kBf16, the batch and the MLP are large enough for bf16 GEMMs (≥ kBf16MinMacs).
void expect_no_allocation(GemmPrecision precision) {
  ScopedGemmPrecision scope(precision);
  const bool bf16 = precision == GemmPrecision::kBf16;
  for (CrossType t : {CrossType::kVector, CrossType::kMatrix, CrossType::kMix, CrossType::kLowRank}) {
    for (OptimizerMode mode : {OptimizerMode::kExact, OptimizerMode::kLazy}) {
      ModelConfig c;
      c.num_numeric = 3;
      c.vocab_sizes = {5, 40, 300};
      c.cross = t;
      c.low_rank = 4;
      c.experts = 3;
      c.mlp = bf16 ? std::vector<int>{128, 64} : std::vector<int>{16, 8};
      const int B = bf16 ? 2048 : 300;  // above the parallel threshold
      Model<float> model(c, 1);
      model.reserve(B);
      AdamOptions o;
      o.mode = mode;
      Adam<float> opt(model.params(), model.embedding_tables(), o);
      Rng rng(2);
      std::vector<float> xn(B * 3), y(B);
      std::vector<int32_t> xc;
      for (auto& v : xn) v = static_cast<float>(rng.uniform());
      for (int b = 0; b < B; ++b) {
        for (int v : c.vocab_sizes) xc.push_back(static_cast<int32_t>(rng.below(v)));
        y[b] = rng.uniform() < 0.3 ? 1.f : 0.f;
      }
      const Batch<float> batch{B, xn.data(), xc.data(), y.data()};
      model.train_step_gradients(batch);
      opt.step();
      model.forward(batch, Mode::kEval);  // the first of each kind may size scratch
      allocations = 0;
      counting = true;
      for (int i = 0; i < 3; ++i) {
        model.train_step_gradients(batch);
        opt.step();
        model.forward(batch, Mode::kEval);
      }
      counting = false;
      EXPECT_EQ(allocations.load(), 0) << to_string(t) << (mode == OptimizerMode::kExact ? " exact" : " lazy")
                                       << (bf16 ? " bf16" : " fp32");
    }
  }
}

TEST(NoAllocation, InsideATrainingStep) { expect_no_allocation(GemmPrecision::kFp32); }

TEST(NoAllocation, InsideABf16TrainingStep) {
  if (!cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has no bf16 dot products";
  expect_no_allocation(GemmPrecision::kBf16);
}

}  // namespace
}  // namespace deepcross
