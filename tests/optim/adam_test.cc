// Adam: three steps against torch.optim.Adam (fixtures), one step by hand, and the exact
// (dense) and lazy (touched rows only) embedding modes against each other.
#include "nn/model.h"
#include "optim/adam.h"

#include <gtest/gtest.h>

#include "core/rng.h"

#include <cmath>
#include <cstring>

#include "golden/fixture.h"

namespace deepcross {
namespace {

using testing::Fixture;

class AdamGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(AdamGolden, ThreeStepsMatchTorch) {
  const Fixture fx = Fixture::load(testing::golden_path(GetParam()));
  const auto cfg = fx.config();
  AdamOptions o;
  o.lr = cfg.at("lr");
  o.beta1 = cfg.at("beta1");
  o.beta2 = cfg.at("beta2");
  o.eps = cfg.at("eps");
  o.weight_decay = cfg.at("weight_decay");
  for (int k = 0; k < 2; ++k) {
    const std::string p = "param." + std::to_string(k);
    std::vector<float> theta(fx.at(p + ".init").values.begin(), fx.at(p + ".init").values.end());
    std::vector<float> m(theta.size(), 0.f), v(theta.size(), 0.f);
    for (int t = 1; t <= 3; ++t) {
      const auto& g = fx.at("grad." + std::to_string(k) + ".step" + std::to_string(t)).values;
      std::vector<float> grad(g.begin(), g.end());
      adam_update(theta.data(), grad.data(), m.data(), v.data(), theta.size(), o, t);
      const auto& want = fx.at(p + ".step" + std::to_string(t)).values;
      for (size_t i = 0; i < theta.size(); ++i) {
        EXPECT_NEAR(theta[i], want[i], 1e-6) << p << " step " << t << " element " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AdamGolden, ::testing::Values("adam.bin", "adam_nowd.bin"),
                         [](const auto& test_info) {
                           return test_info.param == "adam.bin" ? std::string("weight_decay")
                                                           : std::string("no_weight_decay");
                         });

// One step by hand: θ = 1, g = 0.5, λ = 0.1, lr = 0.1:
//   g' = 0.6; m = 0.06; v = 0.00036; m̂ = 0.6; v̂ = 0.36; θ = 1 − 0.1 · 0.6 / (0.6 + 1e-8)
TEST(Adam, FirstStepByHand) {
  AdamOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.1;
  double theta = 1, g = 0.5, m = 0, v = 0;
  adam_update(&theta, &g, &m, &v, 1, o, 1);
  EXPECT_NEAR(m, 0.06, 1e-15);
  EXPECT_NEAR(v, 0.00036, 1e-15);
  EXPECT_NEAR(theta, 1 - 0.1 * 0.6 / (0.6 + 1e-8), 1e-12);
  // Second step with zero gradient: only weight decay drives it.
  const double g2 = 0;
  adam_update(&theta, &g2, &m, &v, 1, o, 2);
  const double gd = 0.1 * (1 - 0.1 * 0.6 / (0.6 + 1e-8));
  const double m2 = 0.9 * 0.06 + 0.1 * gd, v2 = 0.999 * 0.00036 + 0.001 * gd * gd;
  const double expect = (1 - 0.1 * 0.6 / (0.6 + 1e-8)) -
                        0.1 / (1 - 0.81) * m2 / (std::sqrt(v2) / std::sqrt(1 - 0.998001) + 1e-8);
  EXPECT_NEAR(theta, expect, 1e-12);
}

// A tiny model with one embedding table of 3 rows.
struct TinyModel {
  ModelConfig config;
  TinyModel() {
    config.num_numeric = 1;
    config.vocab_sizes = {3};
    config.mlp = {4};
    config.dropout = 0;
  }
};

// Every value of the tiny model after one step per entry of `ids` (then a flush, if asked).
std::vector<float> run_steps(OptimizerMode mode, const std::vector<std::vector<int32_t>>& ids,
                             bool flush = false) {
  TinyModel tm;
  Model<float> model(tm.config, 3);
  model.reserve(4);
  AdamOptions o;
  o.mode = mode;
  Adam<float> opt(model.params(), model.embedding_tables(), o);
  std::vector<float> x = {0.1f, 0.5f, 0.9f, 0.3f}, y = {1, 0, 1, 0};
  for (const auto& batch_ids : ids) {
    Batch<float> b{4, x.data(), batch_ids.data(), y.data()};
    model.train_step_gradients(b);
    opt.step();
  }
  if (flush) opt.flush();
  std::vector<float> all;
  for (auto& t : model.tensors()) all.insert(all.end(), t.value, t.value + t.size);
  return all;
}

// Where every row is touched on every step, the lazy mode is the exact mode, bit for bit.
TEST(Adam, LazyEqualsExactWhenEveryRowIsTouched) {
  std::vector<std::vector<int32_t>> ids = {{0, 1, 2, 0}, {2, 1, 0, 1}, {1, 2, 0, 2}};
  auto exact = run_steps(OptimizerMode::kExact, ids);
  auto lazy = run_steps(OptimizerMode::kLazy, ids);
  ASSERT_EQ(exact.size(), lazy.size());
  EXPECT_EQ(0, std::memcmp(exact.data(), lazy.data(), exact.size() * sizeof(float)));
}

// Otherwise they differ exactly in the rows the lazy mode left alone.
TEST(Adam, LazyLeavesUntouchedRowsAlone) {
  TinyModel tm;
  Model<float> start(tm.config, 3);
  const std::vector<float> row2(start.embedding_tables()[0].weight.data() + 2 * 2,
                                start.embedding_tables()[0].weight.data() + 3 * 2);
  std::vector<std::vector<int32_t>> ids = {{0, 1, 0, 1}, {1, 0, 1, 1}};
  auto exact = run_steps(OptimizerMode::kExact, ids);
  auto lazy = run_steps(OptimizerMode::kLazy, ids);
  // tensors() lists the embedding table first: rows 0..2, width 2.
  EXPECT_EQ(lazy[4], row2[0]);
  EXPECT_EQ(lazy[5], row2[1]);
  EXPECT_NE(exact[4], row2[0]);  // weight decay moved it in the exact mode
  EXPECT_EQ(std::memcmp(exact.data(), lazy.data(), 4 * sizeof(float)), 0);
}

// The lazy mode's catch-up of a row's missed steps does what the exact mode's sweep does to an
// idle row, approximately: it moves toward 0 by up to lr per step (weight decay under Adam's
// normalisation), about as far as the sweep moved it, and never crosses 0.
TEST(Adam, LazyCatchUpApproximatesTheExactSweepOfAnIdleRow) {
  TinyModel tm;
  auto run = [&](OptimizerMode mode, int steps) {
    // Row 2 is never touched; tensors() lists the table first (rows 0..2, width 2).
    const std::vector<float> all =
        run_steps(mode, std::vector<std::vector<int32_t>>(steps, {0, 1, 0, 1}), /*flush=*/true);
    return std::vector<float>(all.begin() + 4, all.begin() + 6);
  };
  Model<float> start(tm.config, 3);
  const float* w0 = start.embedding_tables()[0].weight.data() + 4;
  for (int steps : {10, 100, 300}) {
    const std::vector<float> exact = run(OptimizerMode::kExact, steps);
    const std::vector<float> lazy = run(OptimizerMode::kLazy, steps);
    for (int i = 0; i < 2; ++i) {
      const double moved_exact = std::abs(w0[i]) - std::abs(exact[i]);
      const double moved_lazy = std::abs(w0[i]) - std::abs(lazy[i]);
      EXPECT_GT(moved_exact, 0.0) << steps;
      EXPECT_GT(moved_lazy, 0.0) << steps;
      EXPECT_LE(moved_lazy, 0.002 * steps + 1e-6) << "moved more than lr per step";
      EXPECT_NEAR(moved_lazy, moved_exact, 0.35 * moved_exact) << "steps " << steps;
      EXPECT_GE(lazy[i] * w0[i], 0.0f) << "crossed 0";
    }
  }
}

// The exact mode walks each table by rows (untouched runs as zero-gradient spans, touched rows
// with their sparse gradients): bit for bit the plain update of every value with a dense
// gradient that is zero off the touched rows, step after step.
TEST(Adam, ExactModeIsTheDenseUpdateOfEveryValueBitForBit) {
  ModelConfig c;
  c.num_numeric = 2;
  c.vocab_sizes = {3, 40, 5000};  // the big table spans several pieces
  c.mlp = {8, 4};
  Model<float> model(c, 5);
  const int B = 16;
  model.reserve(B);
  Adam<float> opt(model.params(), model.embedding_tables(), AdamOptions{});
  // The reference state: every value of every table and of the dense store, with m and v.
  std::vector<std::vector<float>> w, m, v;
  for (auto& t : model.embedding_tables()) {
    w.emplace_back(t.weight.data(), t.weight.data() + t.weight.size());
    m.emplace_back(t.weight.size(), 0.f);
    v.emplace_back(t.weight.size(), 0.f);
  }
  auto& store = model.params();
  std::vector<float> dw(store.values().data(), store.values().data() + store.values().size());
  std::vector<float> dm(dw.size(), 0.f), dv(dw.size(), 0.f);
  Rng rng(9);
  std::vector<float> x(B * 2), y(B);
  for (auto& e : x) e = static_cast<float>(rng.uniform());
  for (int b = 0; b < B; ++b) y[b] = static_cast<float>(b % 2);
  for (int step = 1; step <= 5; ++step) {
    std::vector<int32_t> ids;
    for (int b = 0; b < B; ++b) {
      for (int vsize : c.vocab_sizes) ids.push_back(static_cast<int32_t>(rng.below(vsize)));
    }
    Batch<float> batch{B, x.data(), ids.data(), y.data()};
    model.train_step_gradients(batch);
    // Reference: dense gradients, then adam_update over each whole array.
    for (size_t k = 0; k < w.size(); ++k) {
      auto& t = model.embedding_tables()[k];
      std::vector<float> g(t.weight.size(), 0.f);
      for (int r = 0; r < t.rows; ++r) {
        if (const float* gr = t.grad.find(r)) std::copy(gr, gr + t.width, &g[static_cast<size_t>(r) * t.width]);
      }
      adam_update(w[k].data(), g.data(), m[k].data(), v[k].data(), g.size(), AdamOptions{}, step);
    }
    adam_update(dw.data(), store.grads().data(), dm.data(), dv.data(), dw.size(), AdamOptions{}, step);
    opt.step();
    for (size_t k = 0; k < w.size(); ++k) {
      const auto& t = model.embedding_tables()[k];
      ASSERT_EQ(0, std::memcmp(w[k].data(), t.weight.data(), w[k].size() * sizeof(float)))
          << "table " << k << " after step " << step;
    }
    ASSERT_EQ(0, std::memcmp(dw.data(), store.values().data(), dw.size() * sizeof(float)))
        << "dense parameters after step " << step;
  }
}

}  // namespace
}  // namespace deepcross
