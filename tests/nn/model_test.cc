// Whole-model checks: finite-difference gradients for every parameter (embeddings, cross,
// MLP, BatchNorm, output) for each cross type × structure × class count; the MLP with
// dropout under a fixed mask; determinism; evaluation mode.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "core/rng.h"
#include "loss/loss.h"
#include "nn/grad_check.h"
#include "nn/model.h"

namespace deepcross {
namespace {

using testing::check_gradient;

struct Inputs {
  std::vector<double> x_num;
  std::vector<int32_t> x_cat;
  std::vector<float> labels;
  Batch<double> batch(int B) const { return {B, x_num.data(), x_cat.data(), labels.data()}; }
};

Inputs make_inputs(const ModelConfig& c, int B, uint64_t seed) {
  Rng rng(seed);
  Inputs in;
  for (int i = 0; i < B * c.num_numeric; ++i) in.x_num.push_back(rng.uniform());
  for (int b = 0; b < B; ++b)
    for (int v : c.vocab_sizes) in.x_cat.push_back(static_cast<int32_t>(rng.below(v)));
  for (int b = 0; b < B; ++b)
    in.labels.push_back(c.classes == 1 ? (rng.uniform() < 0.3 ? 1.f : 0.f)
                                       : static_cast<float>(rng.below(c.classes)));
  return in;
}

ModelConfig small_config(CrossType t, Structure s, int classes) {
  ModelConfig c;
  c.num_numeric = 3;
  c.vocab_sizes = {4, 9, 30};
  c.cross = t;
  c.structure = s;
  c.cross_layers = 2;
  c.low_rank = 3;
  c.experts = 2;
  c.mlp = {6, 4};
  c.dropout = 0;
  c.classes = classes;
  return c;
}

struct ModelCase {
  CrossType cross;
  Structure structure;
  int classes;
};

class ModelGradient : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelGradient, EveryParameterMatchesFiniteDifferences) {
  const auto p = GetParam();
  const ModelConfig c = small_config(p.cross, p.structure, p.classes);
  const int B = 12;
  Model<double> model(c, 5);
  model.reserve(B);
  // Perturb the constant-initialised parameters so that every path carries gradient.
  Rng rng(11);
  for (auto& t : model.tensors()) {
    if (t.is_parameter && t.name.find("embedding") == std::string::npos) {
      for (size_t i = 0; i < t.size; ++i) t.value[i] += 0.2 * rng.normal();
    }
  }
  Inputs in = make_inputs(c, B, 3);
  const Batch<double> batch = in.batch(B);
  auto loss = [&]() {
    ConstMatrixView<double> z = model.forward(batch, Mode::kTrain);
    return logit_loss<double>(z, batch.labels, MatrixView<double>{});
  };
  model.train_step_gradients(batch);
  // Copy the analytic gradients (densified for embeddings) before the checks re-run forward.
  std::map<std::string, std::vector<double>> analytic;
  for (auto& t : model.embedding_tables()) {
    std::vector<double> dense(t.weight.size(), 0.0);
    for (size_t i = 0; i < t.grad.rows().size(); ++i)
      std::memcpy(&dense[static_cast<size_t>(t.grad.rows()[i]) * t.width], t.grad.row(i),
                  sizeof(double) * t.width);
    analytic[t.name] = dense;
  }
  auto& store = model.params();
  for (int id = 0; id < static_cast<int>(store.entries().size()); ++id) {
    analytic[store.entry(id).name] =
        std::vector<double>(store.grad(id), store.grad(id) + store.entry(id).size);
  }
  int checked = 0;
  for (auto& t : model.tensors()) {
    if (!t.is_parameter) continue;
    const auto& g = analytic.at(t.name);
    auto gc = check_gradient(loss, t.value, g.data(), t.size, 1e-6, 150);
    EXPECT_LE(gc.max_abs_error, 2e-7 * std::max(1.0, gc.max_abs_grad))
        << t.name << " element " << gc.worst << " max grad " << gc.max_abs_grad;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

std::vector<ModelCase> all_cases() {
  std::vector<ModelCase> out;
  for (CrossType t : {CrossType::kVector, CrossType::kMatrix, CrossType::kMix, CrossType::kLowRank})
    for (Structure s : {Structure::kStacked, Structure::kParallel})
      for (int k : {1, 3}) out.push_back({t, s, k});
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, ModelGradient, ::testing::ValuesIn(all_cases()),
                         [](const auto& test_info) {
                           return std::string(to_string(test_info.param.cross)) + "_" +
                                  std::string(to_string(test_info.param.structure)) + "_c" +
                                  std::to_string(test_info.param.classes);
                         });

// The MLP block with dropout: with the mask fixed by the seed, the gradient is exact.
TEST(MlpGradient, WithDropoutUnderAFixedMask) {
  const int B = 10, in = 5;
  ParamStore<double> store;
  Mlp<double> mlp(store, in, {7, 3}, 0.4);
  store.finalize();
  Rng rng(2);
  mlp.init(rng);
  for (size_t i = 0; i < store.values().size(); ++i) store.values()[i] += 0.1 * rng.normal();
  mlp.reserve(B);
  std::vector<double> x(B * in), r(B * 3);
  for (auto& v : x) v = rng.normal();
  for (auto& v : r) v = rng.normal();
  MatrixView<double> xv{x.data(), B, in};
  auto loss = [&]() {
    ConstMatrixView<double> h = mlp.forward(xv, Mode::kTrain, /*dropout_seed=*/99);
    double s = 0;
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < 3; ++j) s += r[b * 3 + j] * h(b, j);
    return s;
  };
  const double l0 = loss();
  store.zero_grad();
  std::vector<double> dx(B * in, 0.0);
  mlp.backward(MatrixView<double>{r.data(), B, 3}, MatrixView<double>{dx.data(), B, in});
  std::vector<double> grads(store.grads().data(), store.grads().data() + store.grads().size());
  for (int id = 0; id < static_cast<int>(store.entries().size()); ++id) {
    const auto& e = store.entry(id);
    auto gc = check_gradient(loss, store.value(id), grads.data() + e.offset, e.size);
    EXPECT_LE(gc.max_abs_error, 1e-7 * std::max(1.0, gc.max_abs_grad)) << e.name;
  }
  auto gc = check_gradient(loss, x.data(), dx.data(), x.size());
  EXPECT_LE(gc.max_abs_error, 1e-7 * std::max(1.0, gc.max_abs_grad)) << "input";
  // Some units were dropped (p = 0.4): the output differs from the same pass without dropout
  // (the same weights with p = 0, also in training mode).
  ParamStore<double> s2;
  Mlp<double> no_dropout(s2, in, {7, 3}, 0.0);
  s2.finalize();
  ASSERT_EQ(s2.values().size(), store.values().size());
  std::copy(store.values().data(), store.values().data() + store.values().size(), s2.values().data());
  no_dropout.reserve(B);
  ConstMatrixView<double> full = no_dropout.forward(xv, Mode::kTrain);
  ConstMatrixView<double> dropped = mlp.forward(xv, Mode::kTrain, /*dropout_seed=*/99);
  int differ = 0;
  double l_full = 0;
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < 3; ++j) {
      differ += std::abs(full(b, j) - dropped(b, j)) > 1e-9;
      l_full += r[b * 3 + j] * full(b, j);
    }
  }
  EXPECT_GT(differ, 0);
  EXPECT_GT(std::abs(l0 - l_full), 1e-9);
}

// Inverted dropout: kept units scale by 1/(1−p); about p of them are dropped.
TEST(MlpDropout, DropsAboutPAndScalesTheRest) {
  const int B = 400, in = 3;
  ParamStore<float> store;
  Mlp<float> mlp(store, in, {50}, 0.25);
  store.finalize();
  Rng rng(1);
  mlp.init(rng);
  mlp.reserve(B);
  std::vector<float> x(B * in);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  MatrixView<float> xv{x.data(), B, in};
  std::vector<float> no_drop;
  {
    // Reference without dropout: a second MLP with identical weights and p = 0.
    ParamStore<float> s2;
    Mlp<float> m2(s2, in, {50}, 0.0);
    s2.finalize();
    std::memcpy(s2.values().data(), store.values().data(), sizeof(float) * store.values().size());
    m2.reserve(B);
    ConstMatrixView<float> h = m2.forward(xv, Mode::kTrain);
    no_drop.assign(h.data, h.data + B * 50);
  }
  ConstMatrixView<float> h = mlp.forward(xv, Mode::kTrain, 1234);
  int positive = 0, dropped = 0;
  for (int i = 0; i < B * 50; ++i) {
    if (no_drop[i] <= 0) continue;
    ++positive;
    if (h.data[i] == 0) {
      ++dropped;
    } else {
      EXPECT_NEAR(h.data[i], no_drop[i] / 0.75f, 1e-5f);
    }
  }
  const double rate = static_cast<double>(dropped) / positive;
  EXPECT_NEAR(rate, 0.25, 0.03);
}

TEST(ModelDeterminism, SameSeedSameParametersAndSteps) {
  ModelConfig c = small_config(CrossType::kMix, Structure::kParallel, 1);
  c.dropout = 0.3;
  auto run = [&]() {
    Model<float> m(c, 77);
    m.reserve(16);
    Rng rng(4);
    std::vector<float> xn(16 * 3);
    for (auto& v : xn) v = static_cast<float>(rng.uniform());
    Inputs in = make_inputs(c, 16, 9);
    Batch<float> b{16, xn.data(), in.x_cat.data(), in.labels.data()};
    double loss = 0;
    for (int i = 0; i < 3; ++i) loss += m.train_step_gradients(b);
    std::vector<float> all;
    for (auto& t : m.tensors()) all.insert(all.end(), t.value, t.value + t.size);
    all.insert(all.end(), m.params().grads().data(),
               m.params().grads().data() + m.params().grads().size());
    all.push_back(static_cast<float>(loss));
    return all;
  };
  auto a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  Model<float> other(c, 78);
  EXPECT_NE(other.tensors()[0].value[0], a[0]);
}

TEST(ModelShapes, WidthsFollowTheSpec) {
  ModelConfig c;
  c.num_numeric = 13;
  c.vocab_sizes = {1, 3, 4, 50, 63, 64, 100000};
  // widths: min(max(floor(sqrt(c)), 2), 8) = 2, 2, 2, 7, 7, 8, 8
  EXPECT_EQ(input_width(c), 13 + 2 + 2 + 2 + 7 + 7 + 8 + 8);
  EXPECT_EQ(embedding_width(48, 8), 6);
  EXPECT_EQ(embedding_width(49, 8), 7);
  EXPECT_EQ(embedding_width(100000, 100), 100);
  EXPECT_EQ(embedding_width(100000, 1000), 316);
}

TEST(ModelInit, FollowsTorchDefaults) {
  ModelConfig c;
  c.num_numeric = 2;
  c.vocab_sizes = {10000, 10000};  // two 8-wide tables: 160k N(0,1) draws
  c.cross = CrossType::kMix;
  c.low_rank = 32;
  c.experts = 4;
  Model<float> m(c, 1);
  const int D = 18;
  auto stats = [&](const std::string& name, double* mean, double* sd, double* maxabs) {
    for (auto& t : m.tensors()) {
      if (t.name != name) continue;
      double s = 0, s2 = 0, mx = 0;
      for (size_t i = 0; i < t.size; ++i) {
        s += t.value[i];
        s2 += t.value[i] * t.value[i];
        mx = std::max(mx, std::abs(static_cast<double>(t.value[i])));
      }
      *mean = s / t.size;
      *sd = std::sqrt(s2 / t.size - *mean * *mean);
      *maxabs = mx;
      return;
    }
    FAIL() << name;
  };
  double mean, sd, mx;
  stats("embedding.0", &mean, &sd, &mx);
  EXPECT_NEAR(mean, 0, 0.02);
  EXPECT_NEAR(sd, 1, 0.02);
  stats("cross.0.U", &mean, &sd, &mx);  // xavier on (K, D, r): sqrt(2 / (D r + K r))
  EXPECT_NEAR(sd, std::sqrt(2.0 / (D * 32 + 4 * 32)), 0.01);
  stats("cross.1.C", &mean, &sd, &mx);  // (K, r, r): sqrt(2 / (r r + K r))
  EXPECT_NEAR(sd, std::sqrt(2.0 / (32 * 32 + 4 * 32)), 0.005);
  stats("cross.gate", &mean, &sd, &mx);
  EXPECT_LE(mx, 1 / std::sqrt(18.0));
  stats("mlp.0.weight", &mean, &sd, &mx);  // U(-1/sqrt(18), 1/sqrt(18)): sd = bound/sqrt(3)
  EXPECT_LE(mx, 1 / std::sqrt(18.0));
  EXPECT_NEAR(sd, 1 / std::sqrt(18.0) / std::sqrt(3.0), 0.01);
  stats("cross.0.b", &mean, &sd, &mx);
  EXPECT_EQ(mx, 0);
  stats("mlp.1.bn.weight", &mean, &sd, &mx);
  EXPECT_EQ(mean, 1);
  stats("mlp.1.bn.running_var", &mean, &sd, &mx);
  EXPECT_EQ(mean, 1);
}

}  // namespace
}  // namespace deepcross

namespace deepcross {
namespace {

// An inference clone predicts exactly what its source predicts, shares the embedding rows
// (a change to the source's rows shows through), and keeps its own dense copy.
TEST(ModelClone, PredictsLikeTheSourceAndSharesEmbeddings) {
  ModelConfig c = small_config(CrossType::kMix, Structure::kParallel, 3);
  Model<float> src(c, 21);
  src.reserve(8);
  Inputs in = make_inputs(c, 8, 5);
  std::vector<float> xn(in.x_num.begin(), in.x_num.end());
  Batch<float> b{8, xn.data(), in.x_cat.data(), in.labels.data()};
  for (int i = 0; i < 2; ++i) src.train_step_gradients(b);  // move running statistics
  ConstMatrixView<float> want = src.forward(b, Mode::kEval);
  std::vector<float> expect(want.data, want.data + 8 * 3);
  auto clone = Model<float>::inference_clone(src);
  clone->reserve(8);
  ConstMatrixView<float> got = clone->forward(b, Mode::kEval);
  EXPECT_EQ(0, std::memcmp(got.data, expect.data(), expect.size() * sizeof(float)));
  // Shared rows: zeroing the source's tables changes the clone's output.
  for (auto& t : src.embedding_tables()) std::fill(t.weight.data(), t.weight.data() + t.weight.size(), 0.f);
  ConstMatrixView<float> after = clone->forward(b, Mode::kEval);
  EXPECT_NE(0, std::memcmp(after.data, expect.data(), expect.size() * sizeof(float)));
}

}  // namespace
}  // namespace deepcross
