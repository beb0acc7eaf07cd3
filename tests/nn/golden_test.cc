// Golden parity with PyTorch: the same weights and inputs give the same x0, cross output,
// logits, loss, gradient of every parameter, BatchNorm running statistics and eval-mode
// logits, for every cross type × structure × class count. The fixtures come from the
// project's own PyTorch model (tests/golden/make_fixtures.py), written from SPEC.md.
// Tolerance per tensor: |ours − torch| ≤ 1e-4 · max|torch| + 1e-6.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "golden/fixture.h"
#include "golden/max_error.h"
#include "nn/model.h"

namespace deepcross {
namespace {

using testing::Fixture;
using testing::FixtureTensor;

void expect_close(const std::string& what, const float* ours, const FixtureTensor& torch) {
  double max_ref = 0;
  testing::MaxError err;  // NaN on either side: infinite, so the comparison fails
  for (size_t i = 0; i < torch.numel(); ++i) max_ref = std::max(max_ref, std::abs(torch.values[i]));
  for (size_t i = 0; i < torch.numel(); ++i) err.add(i, std::abs(ours[i] - torch.values[i]));
  const size_t worst = err.at;
  EXPECT_LE(err.value, 1e-4 * max_ref + 1e-6)
      << what << ": worst element " << worst << " ours " << ours[worst] << " torch "
      << torch.values[worst] << " (max |torch| " << max_ref << ")";
}

ModelConfig config_from(const nlohmann::json& j) {
  ModelConfig c;
  c.num_numeric = j.at("num_numeric");
  c.vocab_sizes = j.at("vocab_sizes").get<std::vector<int>>();
  c.embed_max = j.at("embed_max");
  EXPECT_TRUE(parse_cross_type(j.at("cross").get<std::string>(), &c.cross));
  EXPECT_TRUE(parse_structure(j.at("structure").get<std::string>(), &c.structure));
  c.cross_layers = j.at("cross_layers");
  c.low_rank = j.at("low_rank");
  c.experts = j.at("experts");
  c.mlp = j.at("mlp").get<std::vector<int>>();
  c.dropout = j.at("dropout");
  c.classes = j.at("classes");
  return c;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesPyTorch) {
  const Fixture fx = Fixture::load(testing::golden_path(GetParam() + ".bin"));
  const ModelConfig c = config_from(fx.config());
  const int B = fx.config().at("batch");
  Model<float> model(c, 1);
  model.reserve(B);

  // Load torch's weights and starting running statistics into our model.
  int loaded = 0;
  for (auto& t : model.tensors()) {
    const std::string key = (t.is_parameter ? "param." : "buffer.") + t.name;
    ASSERT_TRUE(fx.has(key)) << key;
    const FixtureTensor& src = fx.at(key);
    ASSERT_EQ(src.numel(), t.size) << key;
    for (size_t i = 0; i < t.size; ++i) t.value[i] = static_cast<float>(src.values[i]);
    ++loaded;
  }
  int params_in_fixture = 0;
  for (const auto& n : fx.names()) params_in_fixture += n.rfind("param.", 0) == 0;
  int params_in_model = 0;
  for (auto& t : model.tensors()) params_in_model += t.is_parameter;
  EXPECT_EQ(params_in_fixture, params_in_model) << "parameter sets differ";

  std::vector<float> x_num(fx.at("x_num").values.begin(), fx.at("x_num").values.end());
  std::vector<int32_t> x_cat(fx.at("x_cat").values.begin(), fx.at("x_cat").values.end());
  std::vector<float> y(fx.at("y").values.begin(), fx.at("y").values.end());
  const Batch<float> batch{B, x_num.data(), x_cat.data(), y.data()};

  const double loss = model.train_step_gradients(batch);
  expect_close("x0", model.last_x0().data, fx.at("x0"));
  expect_close("cross_out", model.last_cross_out().data, fx.at("cross_out"));
  EXPECT_NEAR(loss, fx.at("loss").values[0], 1e-4 * std::abs(fx.at("loss").values[0]) + 1e-6);

  // Gradients: dense parameters from the store, embeddings densified from their rows.
  auto& store = model.params();
  for (int id = 0; id < static_cast<int>(store.entries().size()); ++id) {
    expect_close("grad." + store.entry(id).name, store.grad(id),
                 fx.at("grad." + store.entry(id).name));
  }
  for (auto& t : model.embedding_tables()) {
    std::vector<float> dense(t.weight.size(), 0.f);
    for (size_t i = 0; i < t.grad.rows().size(); ++i) {
      std::memcpy(&dense[static_cast<size_t>(t.grad.rows()[i]) * t.width], t.grad.row(i),
                  sizeof(float) * t.width);
    }
    expect_close("grad." + t.name, dense.data(), fx.at("grad." + t.name));
  }
  for (auto& t : model.tensors()) {
    if (!t.is_parameter) expect_close("after." + t.name, t.value, fx.at("after." + t.name));
  }
  // The training-mode logits, recomputed (running statistics do not enter training mode).
  ConstMatrixView<float> train_logits = model.forward(batch, Mode::kTrain);
  expect_close("logits", train_logits.data, fx.at("logits"));
  // Restore the running statistics after exactly one update, then evaluate.
  for (auto& t : model.tensors()) {
    if (t.is_parameter) continue;
    const FixtureTensor& src = fx.at("after." + t.name);
    for (size_t i = 0; i < t.size; ++i) t.value[i] = static_cast<float>(src.values[i]);
  }
  ConstMatrixView<float> eval_logits = model.forward(batch, Mode::kEval);
  expect_close("eval_logits", eval_logits.data, fx.at("eval_logits"));
  EXPECT_GT(loaded, 10);
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const char* t : {"vector", "matrix", "mix", "lowrank"})
    for (const char* s : {"stacked", "parallel"})
      for (const char* k : {"c1", "c3"}) out.push_back(std::string(t) + "_" + s + "_" + k);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, Golden, ::testing::ValuesIn(cases()),
                         [](const auto& test_info) { return test_info.param; });

// A NaN on either side fails the comparison (it used to be skipped as no larger than the rest).
TEST(GoldenCompare, FailsOnNaN) {
  FixtureTensor torch;
  torch.values = {1.0, -2.0, 3.0};
  torch.shape = {3};
  const float same[] = {1.0f, -2.0f, 3.0f};
  expect_close("equal", same, torch);
  const float ours_nan[] = {1.0f, std::nanf(""), 3.0f};
  EXPECT_NONFATAL_FAILURE(expect_close("ours", ours_nan, torch), "ours: worst element 1");
  torch.values[2] = std::nan("");
  EXPECT_NONFATAL_FAILURE(expect_close("torch", same, torch), "torch: worst element 2");
}

}  // namespace
}  // namespace deepcross
