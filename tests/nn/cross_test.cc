// Per-layer checks of the four cross networks: finite-difference gradients (double) for
// every parameter and for x0, and the forward formulas against a direct evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "nn/cross.h"
#include "nn/grad_check.h"

namespace deepcross {
namespace {

using testing::check_gradient;

struct CrossCase {
  CrossType type;
  int layers;
};

class CrossGradient : public ::testing::TestWithParam<CrossCase> {};

// loss = Σ R ⊙ x_L for a fixed random R, so ∂loss/∂x_L = R.
TEST_P(CrossGradient, MatchesFiniteDifferences) {
  const int B = 7, D = 9;
  ModelConfig c;
  c.cross = GetParam().type;
  c.cross_layers = GetParam().layers;
  c.low_rank = 3;
  c.experts = 3;
  ParamStore<double> store;
  auto cross = make_cross<double>(c, D, store);
  store.finalize();
  Rng rng(7);
  cross->init(rng);
  // Non-zero biases so that every term is exercised.
  for (const auto& e : store.entries()) {
    if (e.name.ends_with(".b")) {
      for (size_t i = 0; i < e.size; ++i) store.value(store.find(e.name))[i] = 0.3 * rng.normal();
    }
  }
  cross->reserve(B);
  std::vector<double> x0(B * D), r(B * D);
  for (auto& v : x0) v = rng.normal();
  for (auto& v : r) v = rng.normal();
  MatrixView<double> x0v{x0.data(), B, D};

  auto loss = [&]() {
    ConstMatrixView<double> xl = cross->forward(x0v);
    double s = 0;
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < D; ++j) s += r[b * D + j] * xl(b, j);
    return s;
  };
  loss();
  store.zero_grad();
  std::vector<double> g = r, dx0(B * D, 0.0);
  cross->backward(MatrixView<double>{g.data(), B, D}, MatrixView<double>{dx0.data(), B, D});
  std::vector<double> grads(store.grads().data(), store.grads().data() + store.grads().size());

  for (int id = 0; id < static_cast<int>(store.entries().size()); ++id) {
    const auto& e = store.entry(id);
    auto gc = check_gradient(loss, store.value(id), grads.data() + e.offset, e.size);
    EXPECT_LE(gc.max_abs_error, 1e-7 * std::max(1.0, gc.max_abs_grad))
        << e.name << " element " << gc.worst;
    EXPECT_GT(gc.max_abs_grad, 0.0) << e.name << " has no gradient at all";
  }
  auto gc = check_gradient(loss, x0.data(), dx0.data(), x0.size());
  EXPECT_LE(gc.max_abs_error, 1e-7 * std::max(1.0, gc.max_abs_grad)) << "x0 element " << gc.worst;
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, CrossGradient,
    ::testing::Values(CrossCase{CrossType::kVector, 1}, CrossCase{CrossType::kVector, 3},
                      CrossCase{CrossType::kMatrix, 1}, CrossCase{CrossType::kMatrix, 3},
                      CrossCase{CrossType::kLowRank, 1}, CrossCase{CrossType::kLowRank, 3},
                      CrossCase{CrossType::kMix, 1}, CrossCase{CrossType::kMix, 3}),
    [](const auto& test_info) {
      return std::string(to_string(test_info.param.type)) + "_" + std::to_string(test_info.param.layers);
    });

// The forward pass of each type against its formula evaluated directly, one layer.
TEST(CrossForward, MatchesFormulas) {
  const int B = 3, D = 5, R = 2, K = 2;
  Rng rng(3);
  std::vector<double> x0(B * D);
  for (auto& v : x0) v = rng.normal();
  for (CrossType t : {CrossType::kVector, CrossType::kMatrix, CrossType::kLowRank, CrossType::kMix}) {
    ModelConfig c;
    c.cross = t;
    c.cross_layers = 1;
    c.low_rank = R;
    c.experts = K;
    ParamStore<double> store;
    auto cross = make_cross<double>(c, D, store);
    store.finalize();
    cross->init(rng);
    for (size_t i = 0; i < store.values().size(); ++i) store.values()[i] += 0.1 * rng.normal();
    cross->reserve(B);
    ConstMatrixView<double> y = cross->forward(MatrixView<double>{x0.data(), B, D});
    auto P = [&](const std::string& n) { return store.value(store.find(n)); };
    for (int b = 0; b < B; ++b) {
      const double* x = &x0[b * D];
      std::vector<double> expect(D);
      if (t == CrossType::kVector) {
        double s = 0;
        for (int j = 0; j < D; ++j) s += x[j] * P("cross.0.w")[j];
        for (int j = 0; j < D; ++j) expect[j] = x[j] * s + P("cross.0.b")[j] + x[j];
      } else if (t == CrossType::kMatrix) {
        for (int i = 0; i < D; ++i) {
          double z = P("cross.0.b")[i];
          for (int j = 0; j < D; ++j) z += P("cross.0.W")[i * D + j] * x[j];
          expect[i] = x[i] * z + x[i];
        }
      } else if (t == CrossType::kLowRank) {
        std::vector<double> p(R, 0.0);
        for (int k = 0; k < R; ++k)
          for (int j = 0; j < D; ++j) p[k] += x[j] * P("cross.0.V")[j * R + k];
        for (int i = 0; i < D; ++i) {
          double z = P("cross.0.b")[i];
          for (int k = 0; k < R; ++k) z += p[k] * P("cross.0.U")[i * R + k];
          expect[i] = x[i] * z + x[i];
        }
      } else {
        std::vector<double> gate(K, 0.0);
        double mx = -1e300, sum = 0;
        for (int k = 0; k < K; ++k) {
          for (int j = 0; j < D; ++j) gate[k] += x[j] * P("cross.gate")[k * D + j];
          mx = std::max(mx, gate[k]);
        }
        for (int k = 0; k < K; ++k) sum += std::exp(gate[k] - mx);
        for (int i = 0; i < D; ++i) expect[i] = x[i];
        for (int k = 0; k < K; ++k) {
          const double pk = std::exp(gate[k] - mx) / sum;
          std::vector<double> a(R, 0.0), cc(R, 0.0);
          for (int q = 0; q < R; ++q) {
            for (int j = 0; j < D; ++j) a[q] += x[j] * P("cross.0.V")[(k * D + j) * R + q];
            a[q] = std::tanh(a[q]);
          }
          for (int q = 0; q < R; ++q) {
            for (int s = 0; s < R; ++s) cc[q] += a[s] * P("cross.0.C")[(k * R + s) * R + q];
            cc[q] = std::tanh(cc[q]);
          }
          for (int i = 0; i < D; ++i) {
            double z = P("cross.0.b")[i];
            for (int q = 0; q < R; ++q) z += cc[q] * P("cross.0.U")[(k * D + i) * R + q];
            expect[i] += pk * x[i] * z;
          }
        }
      }
      for (int j = 0; j < D; ++j) EXPECT_NEAR(y(b, j), expect[j], 1e-12) << to_string(t);
    }
  }
}

// Zero cross layers: x_L is x0 and the gradient passes straight through.
TEST(CrossForward, ZeroLayersIsIdentity) {
  ModelConfig c;
  c.cross_layers = 0;
  ParamStore<double> store;
  auto cross = make_cross<double>(c, 4, store);
  store.finalize();
  cross->reserve(2);
  std::vector<double> x0 = {1, 2, 3, 4, 5, 6, 7, 8}, g = {1, 1, 1, 1, 2, 2, 2, 2}, dx0(8, 0.0);
  ConstMatrixView<double> y = cross->forward(MatrixView<double>{x0.data(), 2, 4});
  EXPECT_EQ(y(1, 3), 8);
  cross->backward(MatrixView<double>{g.data(), 2, 4}, MatrixView<double>{dx0.data(), 2, 4});
  EXPECT_EQ(dx0[5], 2);
}

}  // namespace
}  // namespace deepcross
