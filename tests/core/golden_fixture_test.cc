// Tests of the golden fixtures (tests/testdata/golden/*.bin) and their reader
// (tests/golden/fixture.h): every fixture loads, its config and shapes are what the C++ model
// tests expect, its numbers are self-consistent (x0 from the inputs and embeddings, loss from
// the logits, Adam steps from the gradients), and damaged files are refused with a position.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "golden/fixture.h"

namespace deepcross::testing {
namespace {

constexpr int64_t kBatch = 64;
constexpr int64_t kNumeric = 4;
constexpr int64_t kWidth = 24;  // D = 4 + 2 + 3 + 5 + 8 + 2
constexpr int64_t kLayers = 2;
constexpr int64_t kRank = 5;
constexpr int64_t kExperts = 3;
const std::vector<int64_t> kVocab = {4, 12, 30, 100, 7};
const std::vector<int64_t> kEmbedWidth = {2, 3, 5, 8, 2};
const std::vector<int64_t> kHidden = {16, 8};

struct Case {
  std::string cross;
  std::string structure;
  int classes;
  std::string file() const {
    return cross + "_" + structure + "_c" + std::to_string(classes) + ".bin";
  }
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* cross : {"vector", "matrix", "mix", "lowrank"}) {
    for (const char* structure : {"stacked", "parallel"}) {
      for (int classes : {1, 3}) cases.push_back({cross, structure, classes});
    }
  }
  return cases;
}

using Shape = std::vector<int64_t>;

// Every parameter the case must hold, with its shape.
std::map<std::string, Shape> expected_params(const Case& c) {
  std::map<std::string, Shape> p;
  for (size_t j = 0; j < kVocab.size(); ++j) {
    p["embedding." + std::to_string(j)] = {kVocab[j], kEmbedWidth[j]};
  }
  for (int l = 0; l < kLayers; ++l) {
    const std::string pre = "cross." + std::to_string(l) + ".";
    p[pre + "b"] = {kWidth};
    if (c.cross == "vector") {
      p[pre + "w"] = {kWidth};
    } else if (c.cross == "matrix") {
      p[pre + "W"] = {kWidth, kWidth};
    } else if (c.cross == "lowrank") {
      p[pre + "U"] = {kWidth, kRank};
      p[pre + "V"] = {kWidth, kRank};
    } else {
      p[pre + "U"] = {kExperts, kWidth, kRank};
      p[pre + "V"] = {kExperts, kWidth, kRank};
      p[pre + "C"] = {kExperts, kRank, kRank};
    }
  }
  if (c.cross == "mix") p["cross.gate"] = {kExperts, kWidth};
  int64_t in = kWidth;
  for (size_t i = 0; i < kHidden.size(); ++i) {
    const std::string pre = "mlp." + std::to_string(i) + ".";
    p[pre + "weight"] = {kHidden[i], in};
    p[pre + "bias"] = {kHidden[i]};
    p[pre + "bn.weight"] = {kHidden[i]};
    p[pre + "bn.bias"] = {kHidden[i]};
    in = kHidden[i];
  }
  const int64_t last_in = kHidden.back() + (c.structure == "parallel" ? kWidth : 0);
  const int64_t n_out = c.classes == 1 ? 1 : c.classes;
  p["out.weight"] = {n_out, last_in};
  p["out.bias"] = {n_out};
  return p;
}

void expect_tensor(const Fixture& fx, const std::string& name, int dtype, const Shape& shape) {
  ASSERT_TRUE(fx.has(name)) << fx.path() << " lacks " << name;
  const FixtureTensor& t = fx.at(name);
  EXPECT_EQ(t.dtype, dtype) << name;
  EXPECT_EQ(t.shape, shape) << name;
  EXPECT_EQ(t.values.size(), t.numel()) << name;
  for (double v : t.values) ASSERT_TRUE(std::isfinite(v)) << name;
}

class GoldenModelFixture : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenModelFixture, ConfigMatchesFileName) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  const nlohmann::json cfg = fx.config();
  EXPECT_EQ(cfg.at("cross"), c.cross);
  EXPECT_EQ(cfg.at("structure"), c.structure);
  EXPECT_EQ(cfg.at("classes"), c.classes);
  EXPECT_EQ(cfg.at("num_numeric"), kNumeric);
  EXPECT_EQ(cfg.at("vocab_sizes").get<std::vector<int64_t>>(), kVocab);
  EXPECT_EQ(cfg.at("embed_max"), 8);
  EXPECT_EQ(cfg.at("cross_layers"), kLayers);
  EXPECT_EQ(cfg.at("low_rank"), kRank);
  EXPECT_EQ(cfg.at("experts"), kExperts);
  EXPECT_EQ(cfg.at("mlp").get<std::vector<int64_t>>(), kHidden);
  EXPECT_EQ(cfg.at("dropout").get<double>(), 0.0);
  EXPECT_EQ(cfg.at("batch"), kBatch);
  EXPECT_EQ(cfg.size(), 12u);
}

TEST_P(GoldenModelFixture, InputsHaveShapesAndRanges) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  expect_tensor(fx, "x_num", FixtureTensor::kFloat32, {kBatch, kNumeric});
  expect_tensor(fx, "x_cat", FixtureTensor::kInt64, {kBatch, 5});
  expect_tensor(fx, "y", FixtureTensor::kFloat32, {kBatch});
  for (double v : fx.at("x_num").values) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
  const auto& ids = fx.at("x_cat").values;
  for (int64_t b = 0; b < kBatch; ++b) {
    for (size_t j = 0; j < kVocab.size(); ++j) {
      const double id = ids[b * 5 + j];
      EXPECT_GE(id, 0.0);
      EXPECT_LT(id, static_cast<double>(kVocab[j]));
    }
  }
  std::set<double> labels(fx.at("y").values.begin(), fx.at("y").values.end());
  const std::set<double> allowed =
      c.classes == 1 ? std::set<double>{0, 1} : std::set<double>{0, 1, 2};
  EXPECT_EQ(labels, allowed);  // every label value occurs in 64 rows
}

TEST_P(GoldenModelFixture, ParamsAndGradsPairUp) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  const auto want = expected_params(c);
  std::set<std::string> params, grads;
  for (const std::string& name : fx.names()) {
    if (name.rfind("param.", 0) == 0) params.insert(name.substr(6));
    if (name.rfind("grad.", 0) == 0) grads.insert(name.substr(5));
  }
  std::set<std::string> want_names;
  for (const auto& [name, shape] : want) want_names.insert(name);
  EXPECT_EQ(params, want_names);
  EXPECT_EQ(grads, want_names);
  for (const auto& [name, shape] : want) {
    expect_tensor(fx, "param." + name, FixtureTensor::kFloat32, shape);
    expect_tensor(fx, "grad." + name, FixtureTensor::kFloat32, shape);
    // Every parameter is exercised: some gradient entry is non-zero.
    bool any = false;
    for (double g : fx.at("grad." + name).values) any = any || g != 0.0;
    EXPECT_TRUE(any) << c.file() << ": grad." << name << " is all zero";
  }
}

TEST_P(GoldenModelFixture, OutputsAndBuffersHaveShapes) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  const int64_t n_out = c.classes == 1 ? 1 : c.classes;
  expect_tensor(fx, "x0", FixtureTensor::kFloat32, {kBatch, kWidth});
  expect_tensor(fx, "cross_out", FixtureTensor::kFloat32, {kBatch, kWidth});
  expect_tensor(fx, "logits", FixtureTensor::kFloat32, {kBatch, n_out});
  expect_tensor(fx, "eval_logits", FixtureTensor::kFloat32, {kBatch, n_out});
  expect_tensor(fx, "loss", FixtureTensor::kFloat32, {1});
  for (size_t i = 0; i < kHidden.size(); ++i) {
    const std::string bn = "mlp." + std::to_string(i) + ".bn.";
    for (const char* stage : {"buffer.", "after."}) {
      expect_tensor(fx, stage + bn + "running_mean", FixtureTensor::kFloat32, {kHidden[i]});
      expect_tensor(fx, stage + bn + "running_var", FixtureTensor::kFloat32, {kHidden[i]});
    }
    for (double v : fx.at("buffer." + bn + "running_mean").values) EXPECT_EQ(v, 0.0);
    for (double v : fx.at("buffer." + bn + "running_var").values) EXPECT_EQ(v, 1.0);
    // after = 0.9 * before + 0.1 * batch statistic; the unbiased variance is >= 0.
    for (double v : fx.at("after." + bn + "running_var").values) EXPECT_GE(v, 0.9 - 1e-6);
    EXPECT_NE(fx.at("after." + bn + "running_mean").values,
              fx.at("buffer." + bn + "running_mean").values);
  }
  // Training-mode (batch statistics) and eval-mode (running statistics) logits differ.
  EXPECT_NE(fx.at("logits").values, fx.at("eval_logits").values);
  // No record the format does not name.
  for (const std::string& name : fx.names()) {
    const bool known = name == "config" || name == "x_num" || name == "x_cat" || name == "y" ||
                       name == "x0" || name == "cross_out" || name == "logits" || name == "loss" ||
                       name == "eval_logits" || name.rfind("param.", 0) == 0 ||
                       name.rfind("grad.", 0) == 0 || name.rfind("buffer.", 0) == 0 ||
                       name.rfind("after.", 0) == 0;
    EXPECT_TRUE(known) << name;
  }
}

TEST_P(GoldenModelFixture, X0IsNumericThenEmbeddingRows) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  const auto& x0 = fx.at("x0").values;
  const auto& num = fx.at("x_num").values;
  const auto& ids = fx.at("x_cat").values;
  for (int64_t b = 0; b < kBatch; ++b) {
    int64_t col = 0;
    for (; col < kNumeric; ++col) EXPECT_EQ(x0[b * kWidth + col], num[b * kNumeric + col]);
    for (size_t j = 0; j < kVocab.size(); ++j) {
      const auto& table = fx.at("param.embedding." + std::to_string(j)).values;
      const auto row = static_cast<int64_t>(ids[b * 5 + j]);
      for (int64_t k = 0; k < kEmbedWidth[j]; ++k, ++col) {
        EXPECT_EQ(x0[b * kWidth + col], table[row * kEmbedWidth[j] + k]);
      }
    }
    EXPECT_EQ(col, kWidth);
  }
}

TEST_P(GoldenModelFixture, LossFollowsFromLogits) {
  const Case& c = GetParam();
  const Fixture fx = Fixture::load(golden_path(c.file()));
  const auto& z = fx.at("logits").values;
  const auto& y = fx.at("y").values;
  double sum = 0;
  for (int64_t b = 0; b < kBatch; ++b) {
    if (c.classes == 1) {
      // BCE with logits: max(z, 0) - z y + log(1 + exp(-|z|))
      sum += std::max(z[b], 0.0) - z[b] * y[b] + std::log1p(std::exp(-std::abs(z[b])));
    } else {
      // cross-entropy: logsumexp(z) - z_y
      double m = z[b * c.classes];
      for (int k = 1; k < c.classes; ++k) m = std::max(m, z[b * c.classes + k]);
      double s = 0;
      for (int k = 0; k < c.classes; ++k) s += std::exp(z[b * c.classes + k] - m);
      sum += m + std::log(s) - z[b * c.classes + static_cast<int>(y[b])];
    }
  }
  EXPECT_NEAR(sum / kBatch, fx.at("loss").values[0], 1e-5);
}

INSTANTIATE_TEST_SUITE_P(AllCases, GoldenModelFixture, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& case_info) {
                           return case_info.param.cross + "_" + case_info.param.structure + "_c" +
                                  std::to_string(case_info.param.classes);
                         });

// Adam as torch computes it (coupled weight decay), in double:
//   g += wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
void check_adam(const std::string& file, double weight_decay) {
  const Fixture fx = Fixture::load(golden_path(file));
  const nlohmann::json cfg = fx.config();
  EXPECT_EQ(cfg.at("lr").get<double>(), 0.01);
  EXPECT_EQ(cfg.at("beta1").get<double>(), 0.9);
  EXPECT_EQ(cfg.at("beta2").get<double>(), 0.999);
  EXPECT_EQ(cfg.at("eps").get<double>(), 1e-8);
  EXPECT_EQ(cfg.at("weight_decay").get<double>(), weight_decay);
  ASSERT_EQ(cfg.at("steps").get<int>(), 3);
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const std::vector<Shape> shapes = {{5, 3}, {7}};
  for (size_t k = 0; k < shapes.size(); ++k) {
    const std::string pk = "param." + std::to_string(k);
    expect_tensor(fx, pk + ".init", FixtureTensor::kFloat32, shapes[k]);
    std::vector<double> p = fx.at(pk + ".init").values;
    std::vector<double> m(p.size(), 0.0), v(p.size(), 0.0);
    bool zero = false, large = false, tiny = false;
    for (int t = 1; t <= 3; ++t) {
      const std::string step = ".step" + std::to_string(t);
      const std::string gk = "grad." + std::to_string(k) + step;
      expect_tensor(fx, gk, FixtureTensor::kFloat32, shapes[k]);
      expect_tensor(fx, pk + step, FixtureTensor::kFloat32, shapes[k]);
      const auto& grad = fx.at(gk).values;
      for (size_t i = 0; i < p.size(); ++i) {
        zero = zero || grad[i] == 0.0;
        large = large || std::abs(grad[i]) == 1e3;
        tiny = tiny || std::abs(grad[i] - 1e-6) < 1e-12;
        const double g = grad[i] + weight_decay * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)) + eps;
        p[i] -= lr / (1 - std::pow(b1, t)) * m[i] / denom;
        EXPECT_NEAR(p[i], fx.at(pk + step).values[i], 2e-6) << file << " " << pk << step;
      }
    }
    EXPECT_TRUE(zero && large && tiny) << file << ": gradients lack zero/large/tiny values";
  }
}

TEST(GoldenAdamFixture, WithWeightDecayMatchesTorchFormula) { check_adam("adam.bin", 0.1); }
TEST(GoldenAdamFixture, WithoutWeightDecayMatchesTorchFormula) { check_adam("adam_nowd.bin", 0.0); }

// ----------------------------------------------------------------------------- reader errors

class FixtureReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dc_golden_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // Little-endian record builder.
  static std::string le(uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
  }
  static std::string header(const std::string& name, int dtype, const std::vector<int64_t>& dims) {
    std::string s = le(name.size(), 4) + name + le(dtype, 1) + le(dims.size(), 4);
    for (int64_t d : dims) s += le(static_cast<uint64_t>(d), 8);
    return s;
  }

  // Expects load(path) to throw a message that names the path and contains `part`.
  static void expect_refused(const std::string& path, const std::string& part) {
    try {
      Fixture::load(path);
      ADD_FAILURE() << "accepted " << path;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
    }
  }

  std::filesystem::path dir_;
  const std::string magic_ = std::string("DCFIXT1\n");
};

TEST_F(FixtureReaderTest, ReadsEveryDtype) {
  std::string f = magic_;
  f += header("f32", 0, {2, 2});
  for (float x : {1.5f, -2.0f, 0.25f, 1e-6f}) f += le(std::bit_cast<uint32_t>(x), 4);
  f += header("i64", 1, {3}) + le(static_cast<uint64_t>(-7), 8) + le(0, 8) + le(99, 8);
  f += header("f64", 2, {}) + le(std::bit_cast<uint64_t>(3.141592653589793), 8);
  f += header("raw", 3, {5}) + "hello";
  f += header("empty", 0, {0, 4});
  const Fixture fx = Fixture::load(write("ok.bin", f));
  EXPECT_EQ(fx.names(), (std::vector<std::string>{"f32", "i64", "f64", "raw", "empty"}));
  EXPECT_EQ(fx.at("f32").values, (std::vector<double>{1.5, -2.0, 0.25, double{1e-6f}}));
  EXPECT_EQ(fx.at("f32").shape, (Shape{2, 2}));
  EXPECT_EQ(fx.at("i64").values, (std::vector<double>{-7, 0, 99}));
  EXPECT_EQ(fx.at("i64").dtype, FixtureTensor::kInt64);
  EXPECT_EQ(fx.at("f64").values, (std::vector<double>{3.141592653589793}));
  EXPECT_EQ(fx.at("f64").numel(), 1u);
  EXPECT_EQ(fx.at("raw").bytes, "hello");
  EXPECT_TRUE(fx.at("raw").values.empty());
  EXPECT_EQ(fx.at("empty").numel(), 0u);
  EXPECT_TRUE(fx.has("raw"));
  EXPECT_FALSE(fx.has("nope"));
}

TEST_F(FixtureReaderTest, MagicOnlyIsAnEmptyFixture) {
  const Fixture fx = Fixture::load(write("empty.bin", magic_));
  EXPECT_TRUE(fx.names().empty());
}

TEST_F(FixtureReaderTest, MissingRecordIsNamed) {
  const Fixture fx = Fixture::load(golden_path("adam.bin"));
  try {
    fx.at("param.9.init");
    ADD_FAILURE() << "missing record accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'param.9.init'"), std::string::npos) << e.what();
  }
}

TEST_F(FixtureReaderTest, ConfigMustExistAndBeJson) {
  const Fixture none = Fixture::load(write("noconf.bin", magic_));
  EXPECT_THROW(none.config(), std::runtime_error);
  const Fixture bad =
      Fixture::load(write("badconf.bin", magic_ + header("config", 3, {3}) + "{no"));
  EXPECT_THROW(bad.config(), std::runtime_error);
  const Fixture f32 = Fixture::load(write("f32conf.bin", magic_ + header("config", 0, {0})));
  EXPECT_THROW(f32.config(), std::runtime_error);
}

TEST_F(FixtureReaderTest, MissingFileIsRefused) {
  expect_refused((dir_ / "absent.bin").string(), "cannot open");
}

TEST_F(FixtureReaderTest, BadMagicIsRefused) {
  expect_refused(write("magic.bin", "DCFIXT2\n"), "byte 0: bad magic");
  expect_refused(write("short.bin", "DCF"), "bad magic");
  expect_refused(write("zero.bin", ""), "bad magic");
}

TEST_F(FixtureReaderTest, EveryTruncationOfARealFixtureIsRefused) {
  const std::string bytes = read(golden_path("mix_parallel_c3.bin"));
  ASSERT_GT(bytes.size(), 1000u);
  // Cut inside the magic, inside headers and inside data, and one byte short of the end.
  std::vector<size_t> cuts = {0, 4, 9, 12, 13, 20, 100, 1000, bytes.size() / 2, bytes.size() - 1};
  for (size_t cut : cuts) {
    const std::string path = write("cut" + std::to_string(cut) + ".bin", bytes.substr(0, cut));
    expect_refused(path, cut < 8 ? "bad magic" : "truncated");
  }
  EXPECT_NO_THROW(Fixture::load(write("whole.bin", bytes)));
}

TEST_F(FixtureReaderTest, TruncationMessageGivesByteOffset) {
  const std::string f = magic_ + header("x", 0, {3}) + le(0, 4);  // 3 floats declared, 1 present
  // magic 8 + name_len 4 + name 1 + dtype 1 + ndim 4 + dim 8 = 26: where the data starts.
  expect_refused(write("t.bin", f), "byte 26: truncated: data of 'x' needs 12 bytes, 4 remain");
}

TEST_F(FixtureReaderTest, BadHeadersAreRefused) {
  expect_refused(write("dtype.bin", magic_ + header("x", 4, {1}) + le(0, 8)),
                 "byte 13: record 'x': unknown dtype 4");
  expect_refused(write("ndim.bin", magic_ + header("x", 0, std::vector<int64_t>(9, 1))),
                 "ndim 9 exceeds 8");
  expect_refused(write("neg.bin", magic_ + header("x", 0, {-1})), "dim 0 = -1 is negative");
  expect_refused(write("huge.bin", magic_ + header("x", 0, {int64_t{1} << 62})),
                 "dim 0 = 4611686018427387904 cannot fit in the 26-byte file");
  expect_refused(write("prod.bin", magic_ + header("x", 0, {6, 6})),
                 "36+ elements cannot fit in the 34-byte file");
  expect_refused(write("raw2.bin", magic_ + header("x", 3, {1, 1}) + "a"), "ndim 1");
  expect_refused(write("name.bin", magic_ + le(1000, 4) + "abc"), "record name needs 1000");
  const std::string rec = header("x", 3, {1}) + "a";
  expect_refused(write("dup.bin", magic_ + rec + rec), "byte 27: duplicate record 'x'");
}

TEST(GoldenPath, JoinsTestdataDir) {
  EXPECT_EQ(golden_path("adam.bin"), std::string(DEEPCROSS_TESTDATA_DIR) + "/golden/adam.bin");
}

}  // namespace
}  // namespace deepcross::testing
