// The lazy mode's catch-up of a row's missed steps against the exact replay of those steps
// (dense Adam with zero loss gradient: weight decay alone), for rows whose moments are not zero,
// with the bound stated in src/optim/adam.h and derived here.
//
// For an element with θ0 > 0 (the other sign is its mirror image) and moments m0, v0 > 0 after
// step s, the replay of the zero-gradient steps t = s+1..s+k, with a_j = lr/(1 − β1^(s+j)) and
// c_j = √(1 − β2^(s+j)), moves θ by Σ_j a_j (β1^j m0 + w_j) / (√v_j / c_j + ε), where
//     w_j = (1 − β1) Σ_{i≤j} β1^(j−i) λ θ_(i−1)           (the weight decay that entered m)
//     v_j = β2^j v0 + (1 − β2) Σ_{i≤j} β2^(j−i) (λ θ_(i−1))²  ≥ β2^j v0.
// With den_j = β2^(j/2) √v0 / c_j + ε (a lower bound of the denominator):
//   D = Σ_j a_j β1^j |m0| / den_j         bounds the drift of the residual momentum m0 (the
//                                          catch-up drops it);
//   G = Σ_j a_j λ (1 − β1^j) / den_j.
// While θ stays positive, w_j ≥ 0 and the weight decay only pulls θ toward 0, so by induction on
// j: θ_j ≤ Θ = θ0 + D and θ_j ≥ θlo = θ0 − D − G Θ. If θlo > 0 (the premise: the row cannot
// reach 0 within the span), the weight decay's total pull lies in [L, U]:
//   U = G Θ,  L = Σ_j a_j λ θlo (1 − β1^j) / (√(β2^j v0 + (1 − β2^j) λ² Θ²) / c_j + ε).
// The catch-up moves θ by P (adam.h's closed form), so
//   |θ_replay − θ_lazy| ≤ D + max(U − P, P − L),
// and the replay's moments exceed the catch-up's (decayed only) by w_k ∈ [λ θlo (1 − β1^k),
// λ Θ (1 − β1^k)] and by a value in [(1 − β2^k) λ² θlo², (1 − β2^k) λ² Θ²].
// Where the test calls a case informative, it also checks that the bound is smaller than the
// distance the replay moved the row, so that a catch-up which did nothing would fail it; in every
// case it checks that the code computes adam.h's formula and decays the moments exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "nn/embedding.h"
#include "nn/param_store.h"
#include "optim/adam.h"

namespace deepcross {
namespace {

constexpr int kWidth = 8;

struct Bound {
  double drift = 0, pull_lo = 0, pull_hi = 0, theta_hi = 0, theta_lo = 0, growth = 0;
};

// The bound above for one element (θ0 > 0), steps s+1..s+k.
Bound derive(const AdamOptions& o, double theta0, double m0, double v0, int64_t s, int64_t k) {
  Bound b;
  const double lam = o.weight_decay, sv = std::sqrt(v0);
  for (int64_t j = 1; j <= k; ++j) {
    const double t = static_cast<double>(s + j), jd = static_cast<double>(j);
    const double a = o.lr / (1 - std::pow(o.beta1, t)), c = std::sqrt(1 - std::pow(o.beta2, t));
    const double den = std::pow(o.beta2, jd / 2) * sv / c + o.eps;
    b.drift += a * std::pow(o.beta1, jd) * std::abs(m0) / den;
    b.growth += a * lam * (1 - std::pow(o.beta1, jd)) / den;
  }
  b.theta_hi = theta0 + b.drift;
  b.theta_lo = theta0 - b.drift - b.growth * b.theta_hi;
  b.pull_hi = b.growth * b.theta_hi;
  for (int64_t j = 1; j <= k; ++j) {
    const double t = static_cast<double>(s + j), jd = static_cast<double>(j);
    const double a = o.lr / (1 - std::pow(o.beta1, t)), c = std::sqrt(1 - std::pow(o.beta2, t));
    const double b2j = std::pow(o.beta2, jd);
    const double vmax = b2j * v0 + (1 - b2j) * lam * lam * b.theta_hi * b.theta_hi;
    b.pull_lo += a * lam * b.theta_lo * (1 - std::pow(o.beta1, jd)) / (std::sqrt(vmax) / c + o.eps);
  }
  return b;
}

// adam.h's closed form: how far the catch-up of k steps ending at step `upto` moves |θ0|.
double closed_form_pull(const AdamOptions& o, double theta0, double v0, int64_t k, int64_t upto) {
  const double kd = static_cast<double>(k);
  const double vmid = std::sqrt(v0 * std::pow(o.beta2, kd / 2)) /
                      std::sqrt(1 - std::pow(o.beta2, static_cast<double>(upto)));
  const double rate = std::min(1.0, o.weight_decay * std::abs(theta0) / (vmid + o.eps));
  return std::min(std::abs(theta0), kd * o.lr * rate);
}

// One table of two rows: both rows get gradients of scale `sigma` for `s` steps, then only row 1
// for `k` steps; row 0 is caught up by flush() (also after `flush_after` idle steps, if > 0).
// Returns row 0's state before and after.
struct RowRun {
  std::vector<double> theta0, m0, v0, theta, m, v;
};

RowRun run_lazy(const AdamOptions& o, double sigma, int s, int k, uint64_t seed, int flush_after = 0) {
  ParamStore<double> dense;
  dense.finalize();
  std::vector<EmbeddingTable<double>> tables(1);
  EmbeddingTable<double>& tab = tables[0];
  tab.rows = 2;
  tab.width = kWidth;
  tab.weight.resize(2 * kWidth);
  tab.grad.reserve(2, kWidth, 2);
  Rng rng(seed);
  // Row 0 starts at ±(0.6 .. 1.3), away from 0; row 1 at random.
  for (int i = 0; i < kWidth; ++i) tab.weight[i] = (i % 2 ? -1 : 1) * (0.6 + 0.1 * i);
  for (int i = kWidth; i < 2 * kWidth; ++i) tab.weight[i] = rng.normal();
  Adam<double> opt(dense, tables, o);
  auto touch = [&](int32_t row) {
    double* g = tab.grad.accumulate(row);
    for (int i = 0; i < kWidth; ++i) g[i] = sigma * rng.normal();
  };
  auto row0 = [&](const Buffer<double>& b) { return std::vector<double>(b.data(), b.data() + kWidth); };
  RowRun r;
  for (int step = 0; step < s; ++step) {
    tab.grad.clear();
    touch(0);
    touch(1);
    opt.step();
  }
  r.theta0 = row0(tab.weight);
  r.m0 = row0(opt.table_first_moment(0));
  r.v0 = row0(opt.table_second_moment(0));
  for (int step = 0; step < k; ++step) {
    tab.grad.clear();
    touch(1);
    opt.step();
    if (step + 1 == flush_after) opt.flush();
  }
  opt.flush();
  r.theta = row0(tab.weight);
  r.m = row0(opt.table_first_moment(0));
  r.v = row0(opt.table_second_moment(0));
  return r;
}

struct Case {
  double sigma;  // scale of the gradients the row had before it went idle
  int s, k;      // steps before, steps idle
  bool informative = true;  // the bound is below the distance the replay moved the row
};

class CatchUp : public ::testing::TestWithParam<Case> {};

TEST_P(CatchUp, StaysWithinTheDerivedBoundOfTheExactReplay) {
  const Case c = GetParam();
  AdamOptions o;
  o.mode = OptimizerMode::kLazy;
  const RowRun r = run_lazy(o, c.sigma, c.s, c.k, 17);
  // The exact replay: dense Adam over the row with a zero loss gradient, step by step.
  std::vector<double> theta = r.theta0, m = r.m0, v = r.v0;
  for (int64_t t = c.s + 1; t <= c.s + c.k; ++t) {
    adam_update<double>(theta.data(), nullptr, m.data(), v.data(), kWidth, o, t);
  }
  for (int i = 0; i < kWidth; ++i) {
    ASSERT_NE(r.m0[i], 0.0);
    ASSERT_GT(r.v0[i], 0.0);
    const double sign = r.theta0[i] < 0 ? -1.0 : 1.0;
    const double th0 = sign * r.theta0[i], m0 = sign * r.m0[i];
    const Bound b = derive(o, th0, m0, r.v0[i], c.s, c.k);
    ASSERT_GT(b.theta_lo, 0.0) << "the bound's premise fails for element " << i;
    const double pull = closed_form_pull(o, th0, r.v0[i], c.k, c.s + c.k);
    // The code computes adam.h's formula, and decays the moments without replaying them.
    EXPECT_NEAR(sign * r.theta[i], th0 - pull, 1e-12) << i;
    EXPECT_DOUBLE_EQ(r.m[i], r.m0[i] * std::pow(o.beta1, c.k)) << i;
    EXPECT_DOUBLE_EQ(r.v[i], r.v0[i] * std::pow(o.beta2, c.k)) << i;
    // The replay against the catch-up, within the bound; the bound excludes doing nothing.
    const double bound = b.drift + std::max(b.pull_hi - pull, pull - b.pull_lo) + 1e-12;
    const double diff = std::abs(theta[i] - r.theta[i]);
    const double moved = std::abs(theta[i] - r.theta0[i]);
    EXPECT_LE(diff, bound) << "element " << i << " sigma " << c.sigma << " k " << c.k;
    if (c.informative) EXPECT_LT(bound, moved) << "a bound this loose would not notice a missing catch-up";
    const double one_m = 1 - std::pow(o.beta1, c.k), one_v = 1 - std::pow(o.beta2, c.k);
    const double lam = o.weight_decay;
    EXPECT_GE(sign * (m[i] - r.m[i]), lam * b.theta_lo * one_m - 1e-15) << i;
    EXPECT_LE(sign * (m[i] - r.m[i]), lam * b.theta_hi * one_m + 1e-15) << i;
    EXPECT_GE(v[i] - r.v[i], one_v * lam * lam * b.theta_lo * b.theta_lo - 1e-18) << i;
    EXPECT_LE(v[i] - r.v[i], one_v * lam * lam * b.theta_hi * b.theta_hi + 1e-18) << i;
    {
      std::printf("sigma %g s %d k %d: replay moved %.3e, catch-up %.3e, |diff| %.3e <= bound %.3e\n",
                  c.sigma, c.s, c.k, moved, std::abs(r.theta[i] - r.theta0[i]), diff, bound);
    }
  }
}

// informative = false: the bound holds but is no smaller than the replay's own movement (few
// idle steps, where the dropped momentum drift is as large as the weight decay's pull; or a pull
// that is a large part of |θ|, where the catch-up overshoots: see adam.h).
INSTANTIATE_TEST_SUITE_P(Rows, CatchUp,
                         ::testing::Values(Case{1e-2, 50, 10, false}, Case{1e-2, 50, 100},
                                           Case{1e-2, 50, 1000, false}, Case{3e-3, 100, 30},
                                           Case{3e-3, 100, 300}, Case{1e-1, 50, 1000},
                                           Case{1e-1, 200, 3000}, Case{1e-3, 1000, 100}));

// The catch-up depends on how often it runs: k idle steps caught up at once and in two halves
// (a flush in between) land on values more than 0.1·|θ0| apart (measured: 0.18–0.27·|θ0|, and
// at once 0.0–0.2 where the replay keeps 0.25–0.68: the overshoot adam.h describes). Where the
// idle span is long enough for weight decay's own gradient to dominate v (the bound's premise
// fails; k = 5000 here), the replay and both catch-ups end at 0. Either way the catch-up moves
// toward 0 and never across.
TEST(CatchUp, DependsOnHowOftenItRuns) {
  AdamOptions o;
  o.mode = OptimizerMode::kLazy;
  for (const Case c : {Case{1e-2, 50, 1000}, Case{1e-2, 20, 5000}}) {
    const RowRun once = run_lazy(o, c.sigma, c.s, c.k, 5);
    const RowRun halves = run_lazy(o, c.sigma, c.s, c.k, 5, /*flush_after=*/c.k / 2);
    std::vector<double> theta = once.theta0, m = once.m0, v = once.v0;
    for (int64_t t = c.s + 1; t <= c.s + c.k; ++t) {
      adam_update<double>(theta.data(), nullptr, m.data(), v.data(), kWidth, o, t);
    }
    for (int i = 0; i < kWidth; ++i) {
      const double t0 = once.theta0[i];
      std::printf("sigma %g s %d k %d: |theta| %.4f -> replay %.4f, once %.4f, halves %.4f\n",
                  c.sigma, c.s, c.k, std::abs(t0), std::abs(theta[i]), std::abs(once.theta[i]),
                  std::abs(halves.theta[i]));
      if (c.k == 1000) EXPECT_GT(std::abs(halves.theta[i] - once.theta[i]), 0.1 * std::abs(t0)) << i;
      for (double x : {once.theta[i], halves.theta[i]}) {
        EXPECT_LE(std::abs(x), std::abs(t0)) << i;
        EXPECT_GE(x * t0, 0.0) << "crossed 0: " << i;
      }
    }
  }
}

}  // namespace
}  // namespace deepcross
