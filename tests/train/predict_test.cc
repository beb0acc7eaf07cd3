// predict_probabilities: rows scored in fixed chunks, each by one thread with its own inference
// clone. The output must not depend on the thread count, and must be the model's eval-mode
// forward on those rows.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "data/preprocess.h"
#include "train/trainer.h"

namespace deepcross {
namespace {

ModelConfig config(CrossType t, int classes) {
  ModelConfig c;
  c.num_numeric = 3;
  c.vocab_sizes = {4, 9, 300};
  c.cross = t;
  c.mlp = {16, 8};
  c.classes = classes;
  return c;
}

EncodedData rows(const ModelConfig& c, size_t n, uint64_t seed) {
  Rng rng(seed);
  EncodedData d;
  d.rows = n;
  d.num_numeric = c.num_numeric;
  d.num_categorical = static_cast<int>(c.vocab_sizes.size());
  for (size_t i = 0; i < n * c.num_numeric; ++i) d.x_num.push_back(static_cast<float>(rng.uniform()));
  for (size_t r = 0; r < n; ++r) {
    for (int v : c.vocab_sizes) d.x_cat.push_back(static_cast<int32_t>(rng.below(v)));
  }
  return d;
}

class PredictProbabilities : public ::testing::TestWithParam<std::tuple<CrossType, int>> {};

TEST_P(PredictProbabilities, SameBytesForAnyThreadCountAndEqualToOneForwardPerChunk) {
  const auto [cross, classes] = GetParam();
  const ModelConfig c = config(cross, classes);
  Model<float> model(c, 5);
  const EncodedData d = rows(c, 1037, 9);
  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> outs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    outs.push_back(predict_probabilities(model, d, 64));
  }
  omp_set_num_threads(saved);
  const int k = c.outputs();
  ASSERT_EQ(outs[0].size(), d.rows * k);
  for (size_t i = 1; i < outs.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[i].data(), outs[0].size() * sizeof(float)))
        << "threads " << i + 1;
  }
  // The same as the model's own forward over each chunk of 64 rows.
  model.reserve(64);
  for (size_t s = 0; s < d.rows; s += 64) {
    const int len = static_cast<int>(std::min<size_t>(64, d.rows - s));
    const Batch<float> b{len, &d.x_num[s * c.num_numeric], &d.x_cat[s * c.vocab_sizes.size()], nullptr};
    ConstMatrixView<float> logits = model.forward(b, Mode::kEval);
    for (int r = 0; r < len; ++r) {
      if (k == 1) {
        const float p = 1.0f / (1.0f + std::exp(-logits.row(r)[0]));
        EXPECT_NEAR(outs[0][s + r], p, 1e-6);
      } else {
        float sum = 0;
        for (int j = 0; j < k; ++j) sum += outs[0][(s + r) * k + j];
        EXPECT_NEAR(sum, 1.0f, 1e-5);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Crosses, PredictProbabilities,
                         ::testing::Combine(::testing::Values(CrossType::kVector, CrossType::kMatrix,
                                                              CrossType::kMix, CrossType::kLowRank),
                                            ::testing::Values(1, 3)));

}  // namespace
}  // namespace deepcross
