// Explain: the block-RMS formula on hand-built weights for every cross type, the layout and
// sample errors, the mix gates against the model's own forward, the JSON and text table, and
// the proof that it works: matrix and low-rank models trained on data with planted pairwise
// crosses between named categorical fields rank those two pairs first of all field pairs.
#include "explain/explain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "deepcross/error.h"
#include "optim/adam.h"

namespace deepcross {
namespace {

ModelConfig config(CrossType cross, int layers, std::vector<int> vocab, int numeric = 2) {
  ModelConfig c;
  c.num_numeric = numeric;
  c.vocab_sizes = std::move(vocab);
  c.cross = cross;
  c.cross_layers = layers;
  c.mlp = {8};
  return c;
}

std::vector<std::string> names_of(const ModelConfig& c) {
  std::vector<std::string> n;
  for (int i = 0; i < c.num_numeric; ++i) n.push_back("N" + std::to_string(i + 1));
  for (int j = 0; j < c.num_categorical(); ++j) n.push_back("C" + std::to_string(j + 1));
  return n;
}

float* param(Model<float>& m, const std::string& name) {
  const int id = m.params().find(name);
  EXPECT_GE(id, 0) << name;
  return m.params().value(id);
}

size_t param_size(Model<float>& m, const std::string& name) {
  return m.params().entry(m.params().find(name)).size;
}

void zero_param(Model<float>& m, const std::string& name) {
  std::fill_n(param(m, name), param_size(m, name), 0.f);
}

// RMS of the (fi x fj) block of σ_a A[a, b] σ_b for a D x D row-major map A (σ empty: all 1):
// the formula, written independently.
double block_rms(const std::vector<double>& a, int d, const FieldInfo& fi, const FieldInfo& fj,
                 const std::vector<double>& sigma = {}) {
  double sq = 0;
  for (int r = fi.column; r < fi.column + fi.width; ++r) {
    for (int c = fj.column; c < fj.column + fj.width; ++c) {
      const double s = sigma.empty() ? 1.0 : sigma[r] * sigma[c];
      const double v = s * a[static_cast<size_t>(r) * d + c];
      sq += v * v;
    }
  }
  return std::sqrt(sq / (fi.width * fj.width));
}

const ExplainOptions kWeights{Scale::kWeights};

// (U Mᵀ Vᵀ) with U, V: D x r, M: r x r (M = I gives U Vᵀ).
std::vector<double> map_of(const float* u, const float* v, const std::vector<double>& m, int d,
                           int r) {
  std::vector<double> a(static_cast<size_t>(d) * d, 0.0);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      double s = 0;
      for (int p = 0; p < r; ++p) {
        for (int q = 0; q < r; ++q) s += u[i * r + p] * m[q * r + p] * v[j * r + q];
      }
      a[static_cast<size_t>(i) * d + j] = s;
    }
  }
  return a;
}

std::vector<double> identity(int r) {
  std::vector<double> m(static_cast<size_t>(r) * r, 0.0);
  for (int i = 0; i < r; ++i) m[i * r + i] = 1;
  return m;
}

void fill_normal(float* p, size_t n, double std, uint64_t seed) {
  Rng rng(seed);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(std * rng.normal());
}

int index_of(const Explanation& e, const std::string& name) {
  return static_cast<int>(std::find(e.fields.begin(), e.fields.end(), name) - e.fields.begin());
}

// A sample batch of `rows` rows with uniform numeric inputs and uniform ids.
struct Sample {
  std::vector<float> x_num;
  std::vector<int32_t> x_cat;
  Batch<float> batch;
};

Sample make_sample(const ModelConfig& c, int rows, uint64_t seed) {
  Sample s;
  Rng rng(seed);
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < c.num_numeric; ++k) s.x_num.push_back(static_cast<float>(rng.uniform()));
    for (int v : c.vocab_sizes) s.x_cat.push_back(static_cast<int32_t>(rng.below(v)));
  }
  s.batch = {rows, s.x_num.data(), s.x_cat.data(), nullptr};
  return s;
}

template <typename F>
void expect_data_error(F&& f, const std::string& what, const std::string& where) {
  try {
    f();
    ADD_FAILURE() << "no DataError; expected: " << what;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_NE(e.where().find(where), std::string::npos) << e.where();
  }
}

// ---- layout ----

TEST(ExplainLayout, ModelFieldsTilesX0) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9, 200});  // widths 4, 3, 8 (capped)
  Model<float> m(c, 1);
  const auto f = model_fields(m, names_of(c));
  ASSERT_EQ(f.size(), 5u);
  const int columns[] = {0, 1, 2, 6, 9}, widths[] = {1, 1, 4, 3, 8};
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(f[k].column, columns[k]);
    EXPECT_EQ(f[k].width, widths[k]);
    EXPECT_EQ(f[k].categorical, k >= 2);
  }
  EXPECT_EQ(f[4].column + f[4].width, m.input_width());
  expect_data_error(
      [&] {
        model_fields(m, {"a", "b"});
      },
      "the model has 5 fields, 2 names", "explain field names");
}

TEST(ExplainLayout, MismatchedLayoutsAreDataErrors) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9});
  Model<float> m(c, 1);
  const auto good = model_fields(m, names_of(c));
  auto run = [&](std::vector<FieldInfo> f) { explain_model(m, f, nullptr); };
  auto f = good;
  f.pop_back();
  expect_data_error([&] { run(f); }, "the field list has 3 fields, the model has 4",
                    "explain field layout");
  f = good;
  f[3].width = 4;
  expect_data_error([&] { run(f); }, "expected x0 columns 6..8", "field C2 (x0 columns 6..9)");
  f = good;
  f[2].column = 1;
  expect_data_error([&] { run(f); }, "expected x0 columns 2..5", "field C1");
  f = good;
  f[1].categorical = true;
  expect_data_error([&] { run(f); }, "field is categorical but the model's input 2 is numeric",
                    "field N2");
  f = good;
  f[3].name = "C1";
  expect_data_error([&] { run(f); }, "field name 'C1' appears twice", "field C1 (x0 columns 6");
  f = good;
  f[0].name = "";
  expect_data_error([&] { run(f); }, "field 1 has an empty name", "explain field layout");
}

// ---- the formula on hand-built weights ----

TEST(ExplainMatrix, BlockRmsSummedOverLayersAndOrdered) {
  ModelConfig c = config(CrossType::kMatrix, 2, {16, 9, 64});  // N1 N2 | C1:4 C2:3 C3:8
  Model<float> m(c, 3);
  const int d = m.input_width();
  const auto f = model_fields(m, names_of(c));
  std::vector<std::vector<double>> w(2, std::vector<double>(static_cast<size_t>(d) * d, 0.0));
  Rng rng(5);
  for (auto& layer : w) {
    for (double& v : layer) v = 0.1 * rng.normal();
  }
  // Plant strong blocks: C1 ← C3 in layer 0, C3 ← C1 in layer 1 and N1 ← C2 in layer 1.
  for (int r = 0; r < 4; ++r) {
    for (int q = 0; q < 8; ++q) {
      w[0][(f[2].column + r) * d + f[4].column + q] = 1.0 + 0.1 * q;
      w[1][(f[4].column + q) * d + f[2].column + r] = -0.8;
    }
  }
  for (int q = 0; q < 3; ++q) w[1][f[0].column * d + f[3].column + q] = 0.9;
  for (int l = 0; l < 2; ++l) {
    float* p = param(m, "cross." + std::to_string(l) + ".W");
    for (size_t k = 0; k < w[l].size(); ++k) p[k] = static_cast<float>(w[l][k]);
  }
  const Explanation e = explain_model(m, f, nullptr, kWeights);
  EXPECT_EQ(e.cross, "matrix");
  EXPECT_EQ(e.layers, 2);
  EXPECT_FALSE(e.separable);
  EXPECT_TRUE(e.field_terms.empty());
  ASSERT_EQ(e.matrix.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      const double want = block_rms(w[0], d, f[i], f[j]) + block_rms(w[1], d, f[i], f[j]);
      EXPECT_NEAR(e.matrix[i][j], want, 1e-6 * want) << i << "," << j;
    }
  }
  ASSERT_EQ(e.pairs.size(), 10u);
  for (size_t p = 0; p < e.pairs.size(); ++p) {
    const int i = index_of(e, e.pairs[p].a), j = index_of(e, e.pairs[p].b);
    EXPECT_LT(i, j);
    EXPECT_DOUBLE_EQ(e.pairs[p].strength, (e.matrix[i][j] + e.matrix[j][i]) / 2);
    if (p > 0) {
      EXPECT_GE(e.pairs[p - 1].strength, e.pairs[p].strength);
    }
  }
  EXPECT_EQ(e.pairs[0].a, "C1");
  EXPECT_EQ(e.pairs[0].b, "C3");
  EXPECT_EQ(e.pairs[1].a, "N1");
  EXPECT_EQ(e.pairs[1].b, "C2");
  EXPECT_NEAR(e.init_level, 2 / std::sqrt(3.0 * d), 1e-12);
}

TEST(ExplainMatrix, RowsReceiveFromColumnsAsInTheForward) {
  // One weight W[0][1]: x1 = x0 ⊙ (x0 Wᵀ) + x0 puts x0_0 · x0_1 into column 0 (field N1), so
  // N1 receives from N2: matrix[N1][N2] > 0 and matrix[N2][N1] = 0.
  ModelConfig c = config(CrossType::kMatrix, 1, {9});
  Model<float> m(c, 3);
  zero_param(m, "cross.0.W");
  zero_param(m, "cross.0.b");
  const int d = m.input_width();
  param(m, "cross.0.W")[0 * d + 1] = 0.5f;
  m.reserve(1);
  const float x_num[2] = {0.5f, 0.25f};
  const int32_t x_cat[1] = {2};
  m.forward({1, x_num, x_cat, nullptr}, Mode::kEval);
  EXPECT_FLOAT_EQ(m.last_cross_out()(0, 0), 0.5f + 0.5f * 0.5f * 0.25f);
  EXPECT_FLOAT_EQ(m.last_cross_out()(0, 1), 0.25f);
  const Explanation e = explain_model(m, model_fields(m, names_of(c)), nullptr, kWeights);
  EXPECT_FLOAT_EQ(e.matrix[0][1], 0.5f);
  EXPECT_EQ(e.matrix[1][0], 0.0);
  EXPECT_EQ(e.pairs[0].a, "N1");
  EXPECT_EQ(e.pairs[0].b, "N2");
  EXPECT_FLOAT_EQ(e.pairs[0].strength, 0.25f);
}

TEST(ExplainMatrix, NarrowAndWideBlocksOfEqualRmsRankEqual) {
  // N1 ← N2 is 1 x 1, C1 ← C2 is 8 x 8 (vocab 64 → width 8), entries of the same size: the
  // plain Frobenius norms differ 8x, the RMS scores are equal, and the tie keeps field order.
  ModelConfig c = config(CrossType::kMatrix, 1, {64, 64, 64});
  Model<float> m(c, 3);
  zero_param(m, "cross.0.W");
  const int d = m.input_width();
  const auto f = model_fields(m, names_of(c));
  float* w = param(m, "cross.0.W");
  w[f[0].column * d + f[1].column] = 0.5f;
  for (int r = 0; r < 8; ++r) {
    for (int q = 0; q < 8; ++q) {
      w[(f[2].column + r) * d + f[3].column + q] = (r + q) % 2 ? 0.5f : -0.5f;
    }
  }
  // An 8 x 8 block with a smaller RMS but a larger Frobenius norm (2.4 > 0.5) ranks lower.
  for (int r = 0; r < 8; ++r) {
    for (int q = 0; q < 8; ++q) w[(f[3].column + r) * d + f[4].column + q] = 0.3f;
  }
  const Explanation e = explain_model(m, f, nullptr, kWeights);
  EXPECT_DOUBLE_EQ(e.matrix[0][1], 0.5);
  EXPECT_DOUBLE_EQ(e.matrix[2][3], 0.5);
  EXPECT_EQ(e.pairs[0].a, "N1");
  EXPECT_EQ(e.pairs[1].a, "C1");
  EXPECT_EQ(e.pairs[1].b, "C2");
  EXPECT_DOUBLE_EQ(e.pairs[0].strength, e.pairs[1].strength);
  EXPECT_EQ(e.pairs[2].a, "C2");
  EXPECT_EQ(e.pairs[2].b, "C3");
  EXPECT_NEAR(e.pairs[2].strength, 0.15, 1e-7);
}

// ---- input spreads ----

TEST(ExplainScale, SpreadFromTheModelWithoutRows) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9});
  Model<float> m(c, 3);
  for (const Batch<float>* none : {static_cast<const Batch<float>*>(nullptr)}) {
    const std::vector<double> s = input_spread(m, none);
    ASSERT_EQ(s.size(), static_cast<size_t>(m.input_width()));
    EXPECT_DOUBLE_EQ(s[0], 1 / std::sqrt(12.0));  // numeric: uniform on [0, 1]
    EXPECT_DOUBLE_EQ(s[1], 1 / std::sqrt(12.0));
    // Embedding column: the population std over the table's rows.
    const auto& t = m.embedding_tables()[1];  // 9 rows x 3
    for (int col = 0; col < 3; ++col) {
      double mean = 0, sq = 0;
      for (int r = 0; r < 9; ++r) mean += t.weight[r * 3 + col] / 9.0;
      for (int r = 0; r < 9; ++r) sq += std::pow(t.weight[r * 3 + col] - mean, 2) / 9.0;
      EXPECT_NEAR(s[2 + 4 + col], std::sqrt(sq), 1e-12);
    }
  }
  // A one-row sample cannot give a spread: the model's values are used.
  const Sample one = make_sample(c, 1, 4);
  EXPECT_EQ(input_spread(m, &one.batch), input_spread(m, nullptr));
}

TEST(ExplainScale, SpreadFromSampleRows) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9});
  Model<float> m(c, 3);
  const Sample s = make_sample(c, 30, 5);
  const std::vector<double> sigma = input_spread(m, &s.batch);
  m.reserve(30);
  m.forward(s.batch, Mode::kEval);
  for (int col = 0; col < m.input_width(); ++col) {
    double mean = 0, sq = 0;
    for (int r = 0; r < 30; ++r) mean += m.last_x0()(r, col) / 30.0;
    for (int r = 0; r < 30; ++r) sq += std::pow(m.last_x0()(r, col) - mean, 2) / 30.0;
    EXPECT_NEAR(sigma[col], std::sqrt(sq), 1e-6) << col;
  }
  Sample bad = s;
  bad.batch = {30, bad.x_num.data(), bad.x_cat.data(), nullptr};
  bad.x_cat[5 * 2] = -1;
  expect_data_error([&] { input_spread(m, &bad.batch); }, "id -1 is outside embedding table 1",
                    "explain sample row 6, categorical field 1");
}

TEST(ExplainScale, ScoresWeightsInInputUnits) {
  // Default scale: σ_a A[a, b] σ_b. A numeric 1 x 1 block and an 8 x 8 categorical block
  // whose scaled entries have the same RMS score alike.
  ModelConfig c = config(CrossType::kMatrix, 1, {64, 64, 64});
  Model<float> m(c, 3);
  const Sample s = make_sample(c, 50, 6);
  const int d = m.input_width();
  const auto f = model_fields(m, names_of(c));
  const std::vector<double> sigma = input_spread(m, &s.batch);
  float* w = param(m, "cross.0.W");
  std::vector<double> a(w, w + static_cast<size_t>(d) * d);
  const Explanation e0 = explain_model(m, f, &s.batch);
  EXPECT_EQ(e0.scale, "inputs");
  EXPECT_EQ(e0.column_scale, sigma);
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      const double want = block_rms(a, d, f[i], f[j], sigma);
      EXPECT_NEAR(e0.matrix[i][j], want, 1e-6 * want);
    }
  }
  EXPECT_NE(e0.note.find("over 50 sample rows"), std::string::npos) << e0.note;
  zero_param(m, "cross.0.W");
  w[f[0].column * d + f[1].column] = static_cast<float>(0.2 / (sigma[0] * sigma[1]));
  for (int r = f[2].column; r < f[2].column + 8; ++r) {
    for (int q = f[3].column; q < f[3].column + 8; ++q) {
      w[r * d + q] = static_cast<float>(((r + q) % 2 ? 0.2 : -0.2) / (sigma[r] * sigma[q]));
    }
  }
  const Explanation e = explain_model(m, f, &s.batch);
  EXPECT_NEAR(e.pairs[0].strength, 0.1, 1e-6);
  EXPECT_NEAR(e.pairs[1].strength, 0.1, 1e-6);
  EXPECT_EQ(e.pairs[0].a + e.pairs[0].b + e.pairs[1].a + e.pairs[1].b, "N1N2C1C2");
  const Explanation from_model = explain_model(m, f, nullptr);
  EXPECT_NE(from_model.note.find("no sample rows"), std::string::npos);
  EXPECT_EQ(from_model.column_scale, input_spread(m, nullptr));
  double mean_sq = 0;
  for (double v : from_model.column_scale) mean_sq += v * v / d;
  EXPECT_NEAR(from_model.init_level, mean_sq / std::sqrt(3.0 * d), 1e-12);
}

TEST(ExplainLowRank, ScoresTheMapUVt) {
  ModelConfig c = config(CrossType::kLowRank, 2, {16, 9, 25});
  c.low_rank = 3;
  Model<float> m(c, 4);
  const int d = m.input_width(), r = 3;
  const auto f = model_fields(m, names_of(c));
  const Explanation e = explain_model(m, f, nullptr, kWeights);
  std::vector<std::vector<double>> a;
  for (int l = 0; l < 2; ++l) {
    const std::string p = "cross." + std::to_string(l);
    a.push_back(map_of(param(m, p + ".U"), param(m, p + ".V"), identity(r), d, r));
  }
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      const double want = block_rms(a[0], d, f[i], f[j]) + block_rms(a[1], d, f[i], f[j]);
      EXPECT_NEAR(e.matrix[i][j], want, 1e-5 * want);
    }
  }
  EXPECT_EQ(e.cross, "lowrank");
  // Direction: one nonzero row a of U (C3's first column) and one of V (N2) give
  // A = U Vᵀ = e_a e_bᵀ · const: C3 receives from N2 only.
  zero_param(m, "cross.0.U");
  zero_param(m, "cross.0.V");
  zero_param(m, "cross.1.U");
  param(m, "cross.0.U")[f[4].column * r + 1] = 2.f;
  param(m, "cross.0.V")[f[1].column * r + 1] = 0.5f;
  const Explanation one = explain_model(m, f, nullptr, kWeights);
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      const double want = i == 4 && j == 1 ? 1.0 / std::sqrt(5.0) : 0.0;  // d_C3 = 5
      EXPECT_NEAR(one.matrix[i][j], want, 1e-7) << i << "," << j;
    }
  }
}

TEST(ExplainMix, OneExpertWithIdentityCIsTheLowRankFormula) {
  ModelConfig cm = config(CrossType::kMix, 2, {16, 9, 25});
  cm.low_rank = 4;
  cm.experts = 1;
  ModelConfig cl = cm;
  cl.cross = CrossType::kLowRank;
  Model<float> mix(cm, 7), low(cl, 8);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "cross." + std::to_string(l);
    for (const char* t : {".U", ".V"}) {
      std::copy_n(param(mix, p + t), param_size(mix, p + t), param(low, p + t));
    }
    float* cmat = param(mix, p + ".C");
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) cmat[i * 4 + j] = i == j ? 1.f : 0.f;
    }
  }
  const auto f = model_fields(mix, names_of(cm));
  const Explanation em = explain_model(mix, f, nullptr, kWeights),
                    el = explain_model(low, f, nullptr, kWeights);
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      EXPECT_NEAR(em.matrix[i][j], el.matrix[i][j], 1e-6 * el.matrix[i][j]);
    }
  }
  EXPECT_NE(em.note.find("uniform gates"), std::string::npos) << em.note;
}

TEST(ExplainMix, LinearisedMapMatchesTheForwardForSmallInputs) {
  // K = 1, a general C: for small x0, x1 − x0 = x0 ⊙ (tanh(tanh(x0 V) C) Uᵀ) ≈ x0 ⊙ (x0 Aᵀ)
  // with A = U Cᵀ Vᵀ, the map explain scores (checked on the same weights below).
  ModelConfig c = config(CrossType::kMix, 1, {16, 9}, 0);
  c.low_rank = 3;
  c.experts = 1;
  Model<float> m(c, 9);
  const int d = m.input_width(), r = 3;
  float* cmat = param(m, "cross.0.C");
  fill_normal(cmat, 9, 1.0, 11);
  for (auto& t : m.embedding_tables()) {
    for (size_t k = 0; k < t.weight.size(); ++k) t.weight[k] *= 0.01f;
  }
  std::vector<double> cd(cmat, cmat + 9);
  const std::vector<double> a = map_of(param(m, "cross.0.U"), param(m, "cross.0.V"), cd, d, r);
  m.reserve(1);
  const int32_t ids[2] = {3, 5};
  m.forward({1, nullptr, ids, nullptr}, Mode::kEval);
  for (int i = 0; i < d; ++i) {
    const double x0i = m.last_x0()(0, i);
    double lin = 0;
    for (int j = 0; j < d; ++j) lin += a[static_cast<size_t>(i) * d + j] * m.last_x0()(0, j);
    const double z = (m.last_cross_out()(0, i) - x0i) / x0i;
    EXPECT_NEAR(z, lin, 2e-3 * std::abs(lin) + 1e-6) << i;
  }
  const auto f = model_fields(m, names_of(c));
  const Explanation e = explain_model(m, f, nullptr, kWeights);
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      EXPECT_NEAR(e.matrix[i][j], block_rms(a, d, f[i], f[j]), 1e-5 * e.matrix[i][j]);
    }
  }
}

// Mean softmax(x Gᵀ) over the rows of x (B x D).
std::vector<double> mean_softmax(ConstMatrixView<float> x, const float* g, int k) {
  std::vector<double> mean(k, 0.0);
  for (int b = 0; b < x.rows; ++b) {
    std::vector<double> s(k);
    double total = 0;
    for (int e = 0; e < k; ++e) {
      for (int j = 0; j < x.cols; ++j) s[e] += double(x(b, j)) * g[e * x.cols + j];
      total += (s[e] = std::exp(s[e]));
    }
    for (int e = 0; e < k; ++e) mean[e] += s[e] / total / x.rows;
  }
  return mean;
}

TEST(ExplainMix, MeanGatesFollowEachLayersInput) {
  ModelConfig c = config(CrossType::kMix, 2, {16, 9, 25});
  c.low_rank = 4;
  c.experts = 3;
  Model<float> m(c, 12);
  float* gate = param(m, "cross.gate");
  fill_normal(gate, param_size(m, "cross.gate"), 0.8, 13);  // gates far from uniform
  const Sample s = make_sample(c, 40, 14);
  const auto g = mix_mean_gates(m, s.batch);
  ASSERT_EQ(g.size(), 2u);
  ASSERT_EQ(g[0].size(), 3u);
  // Layer 0 reads x0; layer 1 reads x1, the output of a one-layer copy of the model.
  m.reserve(40);
  m.forward(s.batch, Mode::kEval);
  const auto want0 = mean_softmax(m.last_x0(), gate, 3);
  ModelConfig c1 = c;
  c1.cross_layers = 1;
  Model<float> one(c1, 99);
  for (auto& t : one.tensors()) {
    for (auto& src : m.tensors()) {
      if (src.name == t.name && src.size == t.size) std::copy_n(src.value, t.size, t.value);
    }
  }
  one.reserve(40);
  one.forward(s.batch, Mode::kEval);
  const auto want1 = mean_softmax(one.last_cross_out(), gate, 3);
  double sum0 = 0;
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(g[0][k], want0[k], 1e-5);
    EXPECT_NEAR(g[1][k], want1[k], 1e-5);
    sum0 += g[0][k];
  }
  EXPECT_NEAR(sum0, 1.0, 1e-12);
  EXPECT_GT(std::abs(g[1][0] - g[0][0]), 1e-4);  // the layers' gates do differ

  // Experts 1 and 2 silenced: the score is expert 0's own score times its mean gate (the
  // gates of layer 1 change with x1, so they are taken again).
  const int d = m.input_width(), r = 4;
  for (int l = 0; l < 2; ++l) {
    float* u = param(m, "cross." + std::to_string(l) + ".U");
    std::fill(u + d * r, u + 3 * d * r, 0.f);
  }
  const auto g2 = mix_mean_gates(m, s.batch);
  EXPECT_EQ(g2[0], g[0]);
  const auto f = model_fields(m, names_of(c));
  const Explanation e = explain_model(m, f, &s.batch, kWeights);
  EXPECT_NE(e.note.find("40 sample rows"), std::string::npos) << e.note;
  std::vector<std::vector<double>> a;
  for (int l = 0; l < 2; ++l) {
    const std::string p = "cross." + std::to_string(l);
    const float* cm = param(m, p + ".C");
    a.push_back(
        map_of(param(m, p + ".U"), param(m, p + ".V"), std::vector<double>(cm, cm + 16), d, r));
  }
  for (size_t i = 0; i < f.size(); ++i) {
    for (size_t j = 0; j < f.size(); ++j) {
      const double want =
          g2[0][0] * block_rms(a[0], d, f[i], f[j]) + g2[1][0] * block_rms(a[1], d, f[i], f[j]);
      EXPECT_NEAR(e.matrix[i][j], want, 1e-5 * want);
    }
  }
}

TEST(ExplainMix, SampleIdOutsideItsTableIsADataError) {
  ModelConfig c = config(CrossType::kMix, 1, {16, 9});
  c.low_rank = 2;
  c.experts = 2;
  Model<float> m(c, 1);
  Sample s = make_sample(c, 3, 2);
  s.x_cat[2 * 2 + 1] = 9;  // row 3, field 2: table has 9 rows
  expect_data_error([&] { explain_model(m, model_fields(m, names_of(c)), &s.batch); },
                    "id 9 is outside embedding table 2 (9 rows)",
                    "explain sample row 3, categorical field 2");
}

TEST(ExplainVector, PairScoresSeparateIntoFieldTerms) {
  ModelConfig c = config(CrossType::kVector, 2, {16, 9, 25});  // N1 N2 | C1:4 C2:3 C3:5
  Model<float> m(c, 15);
  const auto f = model_fields(m, names_of(c));
  const Explanation e = explain_model(m, f, nullptr, kWeights);
  EXPECT_TRUE(e.separable);
  ASSERT_EQ(e.field_terms.size(), f.size());
  const float *w0 = param(m, "cross.0.w"), *w1 = param(m, "cross.1.w");
  for (size_t j = 0; j < f.size(); ++j) {
    double s0 = 0, s1 = 0;
    for (int q = f[j].column; q < f[j].column + f[j].width; ++q) {
      s0 += double(w0[q]) * w0[q];
      s1 += double(w1[q]) * w1[q];
    }
    const double t = (std::sqrt(s0 / f[j].width) + std::sqrt(s1 / f[j].width)) / 2;
    EXPECT_NEAR(e.field_terms[j], t, 1e-6 * t);
    for (size_t i = 0; i < f.size(); ++i) EXPECT_DOUBLE_EQ(e.matrix[i][j], e.matrix[0][j]);
    EXPECT_NEAR(e.matrix[j][j], 2 * e.field_terms[j], 1e-12);
  }
  for (const auto& p : e.pairs) {
    const double want = e.field_terms[index_of(e, p.a)] + e.field_terms[index_of(e, p.b)];
    EXPECT_NEAR(p.strength, want, 1e-12);
  }
  const std::string table = format_top_pairs(e, 3);
  EXPECT_NE(table.find("separable: strength(a, b) = term(a) + term(b)"), std::string::npos);
  EXPECT_NE(e.note.find("separate"), std::string::npos);
  const auto j = to_json(e, 3);
  ASSERT_TRUE(j.contains("field_terms"));
  EXPECT_EQ(j["field_terms"].size(), f.size());
  EXPECT_EQ(j["separable"], true);
}

TEST(ExplainVector, InputScaledTermsStillAdd) {
  ModelConfig c = config(CrossType::kVector, 1, {16, 9});
  Model<float> m(c, 16);
  const auto f = model_fields(m, names_of(c));
  const Explanation e = explain_model(m, f, nullptr);
  const std::vector<double>& sigma = e.column_scale;
  const float* w = param(m, "cross.0.w");
  for (size_t j = 0; j < f.size(); ++j) {
    double sq = 0;
    for (int b = f[j].column; b < f[j].column + f[j].width; ++b) sq += std::pow(sigma[b] * w[b], 2);
    EXPECT_NEAR(e.field_terms[j], std::sqrt(sq / f[j].width) / 2, 1e-7);
  }
  for (const auto& p : e.pairs) {
    EXPECT_NEAR(p.strength, e.field_terms[index_of(e, p.a)] + e.field_terms[index_of(e, p.b)],
                1e-12);
  }
}

TEST(ExplainAll, NoCrossLayersScoresNothing) {
  ModelConfig c = config(CrossType::kMatrix, 0, {16, 9});
  Model<float> m(c, 1);
  const Explanation e = explain_model(m, model_fields(m, names_of(c)), nullptr);
  EXPECT_EQ(e.pairs.size(), 6u);
  for (const auto& p : e.pairs) EXPECT_EQ(p.strength, 0.0);
  EXPECT_NE(e.note.find("no cross layers"), std::string::npos);
  EXPECT_EQ(e.init_level, 0.0);
}

TEST(ExplainAll, InitialLevelIsTheUntrainedScore) {
  // Freshly initialised, every block scores about init_level (RMS ≤ σ in expectation, E[s²]
  // = σ²): the mean off-diagonal score lies within a few percent below it.
  for (CrossType t :
       {CrossType::kMatrix, CrossType::kLowRank, CrossType::kMix, CrossType::kVector}) {
    ModelConfig c = config(t, 2, {400, 400, 400, 400, 400, 400, 400, 400, 100, 100}, 4);
    c.low_rank = 8;
    c.experts = 3;
    Model<float> m(c, 21);
    const Explanation e = explain_model(m, model_fields(m, names_of(c)), nullptr, kWeights);
    double mean_sq = 0;
    int count = 0;
    for (size_t i = 4; i < e.fields.size(); ++i) {
      for (size_t j = 4; j < e.fields.size(); ++j) {
        if (i == j) continue;
        const double v = e.matrix[i][j] / e.layers;
        mean_sq += v * v;
        ++count;
      }
    }
    const double rms = std::sqrt(mean_sq / count);
    EXPECT_NEAR(rms, e.init_level / e.layers, 0.08 * e.init_level / e.layers) << e.cross;
  }
}

// ---- output ----

TEST(ExplainOutput, JsonShape) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9, 25});
  Model<float> m(c, 2);
  const Explanation e = explain_model(m, model_fields(m, names_of(c)), nullptr);
  const nlohmann::json j = to_json(e, 4);
  EXPECT_EQ(j["cross"], "matrix");
  EXPECT_EQ(j["layers"], 1);
  EXPECT_EQ(j["separable"], false);
  EXPECT_EQ(j["scale"], "inputs");
  EXPECT_FALSE(j.contains("field_terms"));
  ASSERT_EQ(j["pairs"].size(), 4u);
  for (size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(j["pairs"][p].size(), 3u);
    EXPECT_EQ(j["pairs"][p]["a"], e.pairs[p].a);
    EXPECT_EQ(j["pairs"][p]["b"], e.pairs[p].b);
    EXPECT_EQ(j["pairs"][p]["strength"].get<double>(), e.pairs[p].strength);
    if (p > 0) {
      EXPECT_GE(j["pairs"][p - 1]["strength"], j["pairs"][p]["strength"]);
    }
  }
  EXPECT_EQ(to_json(e, 0)["pairs"].size(), 10u);
  EXPECT_EQ(to_json(e, 100)["pairs"].size(), 10u);
  ASSERT_EQ(j["self"].size(), 5u);
  EXPECT_EQ(j["self"][2]["field"], "C1");
  EXPECT_EQ(j["self"][2]["strength"].get<double>(), e.matrix[2][2]);
  EXPECT_EQ(j["matrix"]["fields"].size(), 5u);
  EXPECT_EQ(j["matrix"]["rows"][1][3].get<double>(), e.matrix[1][3]);
  EXPECT_EQ(j["init_level"].get<double>(), e.init_level);
  EXPECT_EQ(j["note"], e.note);
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);
}

TEST(ExplainOutput, TopPairsTableIsAligned) {
  ModelConfig c = config(CrossType::kMatrix, 1, {16, 9, 25});
  Model<float> m(c, 2);
  auto names = names_of(c);
  names[3] = "a_long_field_name";
  const Explanation e = explain_model(m, model_fields(m, names), nullptr);
  const std::string t = format_top_pairs(e, 5);
  EXPECT_EQ(t.rfind("matrix cross, 1 layer: top 5 of 10 field pairs", 0), 0u) << t;
  std::vector<std::string> lines;
  for (size_t p = 0, q; (q = t.find('\n', p)) != std::string::npos; p = q + 1) {
    lines.push_back(t.substr(p, q - p));
  }
  ASSERT_EQ(lines.size(), 8u);  // title, header, 5 rows, note
  const size_t end = lines[1].size();
  EXPECT_EQ(lines[1].substr(end - 8), "strength");
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(lines[2 + r].size(), end) << lines[2 + r];
    EXPECT_EQ(lines[2 + r].substr(0, 4), std::string(3, ' ') + std::to_string(r + 1));
    EXPECT_NE(lines[2 + r].find(format_strength(e.pairs[r].strength)), std::string::npos);
  }
  EXPECT_EQ(lines[7], e.note);
  EXPECT_NE(format_top_pairs(e, 0).find("top 10 of 10"), std::string::npos);
  EXPECT_EQ(format_strength(0.012345678), "0.01235");
}

// ---- the proof: planted crosses are found ----

// 8 categorical fields C1..C8 (vocab 10–20) and 2 noise numerics; the label depends only on
// the pairs (C2, C5) and (C3, C8) through random ±1 tables. After 24 epochs both planted pairs
// came out as the top two categorical pairs for model seeds 1–8 and 42, matrix and low-rank
// alike (with the default MLP 128-64-32 too, seeds 1–3 and 42). The test asserts that, for
// seed 42, they are the two strongest of all 45 field pairs (numeric ones included), in each of
// the three ways of scoring, at least 1.5 times the third (measured: 1.9–3.8 times).
struct Planted {
  ModelConfig config;
  std::vector<float> x_num, y;
  std::vector<int32_t> x_cat;
};

Planted make_planted(CrossType cross, int rows) {
  Planted p;
  p.config = config(cross, 2, {10, 12, 14, 16, 18, 20, 11, 13});
  p.config.mlp = {32, 16};
  p.config.low_rank = 8;
  Rng tables(77), rng(78);
  std::vector<double> t1(12 * 18), t2(14 * 13);
  for (auto& v : t1) v = tables.uniform() < 0.5 ? -1 : 1;
  for (auto& v : t2) v = tables.uniform() < 0.5 ? -1 : 1;
  for (int r = 0; r < rows; ++r) {
    int id[8];
    for (int j = 0; j < 8; ++j) {
      id[j] = static_cast<int>(rng.below(p.config.vocab_sizes[j]));
      p.x_cat.push_back(id[j]);
    }
    p.x_num.push_back(static_cast<float>(rng.uniform()));
    p.x_num.push_back(static_cast<float>(rng.uniform()));
    const double logit = 2.0 * t1[id[1] * 18 + id[4]] + 2.0 * t2[id[2] * 13 + id[7]];
    p.y.push_back(rng.uniform() < 1 / (1 + std::exp(-logit)) ? 1.f : 0.f);
  }
  return p;
}

void expect_planted_pairs_on_top(CrossType cross) {
  set_blas_threads(1);  // small GEMMs: one thread is fastest, and runs repeat exactly
  Planted p = make_planted(cross, 16000);
  Model<float> m(p.config, 42);
  const int batch = 256, n = static_cast<int>(p.y.size());
  m.reserve(batch);
  Adam<float> opt(m.params(), m.embedding_tables(), AdamOptions{});
  for (int epoch = 0; epoch < 24; ++epoch) {
    for (int s = 0; s + batch <= n; s += batch) {
      m.train_step_gradients({batch, &p.x_num[static_cast<size_t>(s) * 2],
                              &p.x_cat[static_cast<size_t>(s) * 8], &p.y[s]});
      opt.step();
    }
  }
  // Scored three ways: weights alone, inputs from the model, inputs from 4000 training rows.
  const auto fields = model_fields(m, names_of(p.config));
  const Batch<float> sample{4000, p.x_num.data(), p.x_cat.data(), nullptr};
  for (int way = 0; way < 3; ++way) {
    const Explanation e = way == 0   ? explain_model(m, fields, nullptr, kWeights)
                          : way == 1 ? explain_model(m, fields, nullptr)
                                     : explain_model(m, fields, &sample);
    std::printf("%s", format_top_pairs(e, 4).c_str());
    ASSERT_GE(e.pairs.size(), 3u);
    std::vector<std::string> top = {e.pairs[0].a + "x" + e.pairs[0].b,
                                    e.pairs[1].a + "x" + e.pairs[1].b};
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{"C2xC5", "C3xC8"})) << e.cross << " way " << way;
    // First by a margin: the weaker planted pair scores at least 1.5 times the strongest other.
    EXPECT_GT(e.pairs[1].strength, 1.5 * e.pairs[2].strength) << e.cross << " way " << way;
  }
}

TEST(ExplainPlanted, MatrixCrossRanksThePlantedPairsFirst) {
  expect_planted_pairs_on_top(CrossType::kMatrix);
}

TEST(ExplainPlanted, LowRankCrossRanksThePlantedPairsFirst) {
  expect_planted_pairs_on_top(CrossType::kLowRank);
}

}  // namespace
}  // namespace deepcross
