// The public Predictor (include/deepcross/predictor.h): one model scored from many threads at
// once gives the numbers of one thread, bit for bit; every way of giving rows (files, text
// lines, JSON rows, typed columns) gives the same scores; errors name rows and fields.
#include "deepcross/predictor.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "data/reader.h"
#include "deepcross/error.h"
#include "deepcross/training.h"

namespace deepcross {
namespace {

const std::string kData = std::string(DEEPCROSS_SOURCE_DIR) + "/data/criteo_kaggle_head_10k.tsv.gz";

// One small model, trained once for the suite.
class PredictorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("deepcross_predictor_test_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    TrainingSpec spec;
    spec.data.train = {kData};
    spec.model.mlp = {32, 16};
    spec.trainer.epochs = 2;
    spec.trainer.batch_size = 512;
    spec.trainer.threads = 2;
    spec.model_path = (*dir_ / "m.model").string();
    train(spec);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string model_path() { return (*dir_ / "m.model").string(); }
  static std::filesystem::path* dir_;
};
std::filesystem::path* PredictorTest::dir_ = nullptr;

bool same_bits(const Scores& a, const Scores& b) {
  return a.rows == b.rows && a.outputs == b.outputs && a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0;
}

TEST_F(PredictorTest, EightThreadsAtOnceScoreAsOneThread) {
  PredictorOptions o;
  o.threads = 4;
  o.batch_rows = 64;  // many chunks per call
  const Predictor p = Predictor::load(model_path(), o);
  const Rows rows = p.read({kData});
  ASSERT_EQ(rows.size(), 10109u);  // the sample's rows
  const Scores alone = p.predict(rows);
  for (float v : alone.values) ASSERT_TRUE(v > 0 && v < 1);

  std::vector<Scores> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 3; ++repeat) got[t] = p.predict(rows);
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_TRUE(same_bits(got[t], alone)) << "thread " << t;

  // A predictor with one clone and one thread agrees too (the passes are the same).
  PredictorOptions one;
  one.threads = 1;
  one.batch_rows = 64;
  EXPECT_TRUE(same_bits(Predictor::load(model_path(), one).predict(rows), alone));
}

TEST_F(PredictorTest, FilesTextJsonAndColumnsGiveTheSameScores) {
  const Predictor p = Predictor::load(model_path());
  ReadOptions layout;
  layout.label_policy = LabelPolicy::kRequired;
  Table t = read_table({kData}, layout);
  const size_t n = 300;

  std::string text;
  nlohmann::json json_rows = nlohmann::json::array();
  std::vector<Column> columns;
  for (const auto& c : t.numeric) columns.push_back({c.name, {}, {}});
  for (const auto& c : t.categorical) columns.push_back({c.name, {}, {}});
  for (size_t r = 0; r < n; ++r) {
    nlohmann::json row = nlohmann::json::object();
    text += t.labels[r] ? "1" : "0";
    size_t j = 0;
    for (const auto& c : t.numeric) {
      const float v = c.values[r];
      char num[32] = "";
      if (!std::isnan(v)) *std::to_chars(num, num + 31, v).ptr = '\0';
      text += std::string("\t") + num;
      row[c.name] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(std::string(num));
      columns[j++].numbers.push_back(v);
    }
    for (const auto& c : t.categorical) {
      const std::string& s = c.dictionary[c.codes[r]];
      text += "\t" + s;
      row[c.name] = s;
      columns[j++].strings.push_back(s);
    }
    text += "\n";
    json_rows.push_back(row);
  }
  const std::vector<float> labels(t.labels.begin(), t.labels.begin() + n);

  const Scores from_file = p.predict(p.read({kData}));
  const Scores from_text = p.predict(p.parse_text(text));
  const Scores from_json = p.predict(p.parse_json(nlohmann::json{{"rows", json_rows}}.dump()));
  const Rows col_rows = p.encode(columns, labels);
  const Scores from_columns = p.predict(col_rows);
  // The same rows in the same passes: the same bits. The file's first pass (256 rows) is the
  // same as theirs; its second holds more rows than their last one, and agrees to rounding.
  for (const Scores* s : {&from_text, &from_json, &from_columns}) {
    ASSERT_EQ(s->rows, n);
    EXPECT_EQ(std::memcmp(s->values.data(), from_text.values.data(), n * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(s->values.data(), from_file.values.data(), 256 * sizeof(float)), 0);
    for (size_t r = 256; r < n; ++r) EXPECT_NEAR((*s)(r), from_file(r), 1e-5) << r;
  }
  const EvaluationResult e = p.evaluate(col_rows);
  EXPECT_EQ(e.rows, n);
  EXPECT_GT(e.auc, 0.5);
  EXPECT_GT(e.logloss, 0.0);
  EXPECT_TRUE(std::isnan(e.accuracy));  // binary model
}

TEST_F(PredictorTest, BadRowsAreErrorsNamingWhere) {
  const Predictor p = Predictor::load(model_path());
  try {
    p.parse_json(R"({"rows": [{"I1": 1}, {"C14": {"x": 1}}]})");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "row 1 (C14)");
  }
  try {
    p.encode({{.name = "I1", .numbers = {}, .strings = {"3"}}});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "I1");
  }
  try {
    p.encode({{.name = "I1", .numbers = {1, 2}, .strings = {}},
              {.name = "I2", .numbers = {1}, .strings = {}}});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "I2");
  }
  // A missing field: the preprocessor names it.
  EXPECT_THROW(p.encode({{.name = "I1", .numbers = {1}, .strings = {}}}), DataError);
  EXPECT_THROW(p.evaluate(p.parse_json(R"({"rows": [{"I1": 1}]})")), DataError);
  try {
    PredictorOptions o;
    o.batch_rows = 0;
    Predictor::load(model_path(), o);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.where(), "batch_rows");
  }
  EXPECT_THROW(Predictor::load((*dir_ / "missing.model").string()), DataError);
}

TEST_F(PredictorTest, InfoAndExplain) {
  const Predictor p = Predictor::load(model_path());
  const nlohmann::json info = nlohmann::json::parse(p.info_json());
  EXPECT_EQ(info["cross"], "matrix");
  EXPECT_EQ(p.field_names().size(), 39u);
  EXPECT_FALSE(p.is_categorical(0));
  EXPECT_TRUE(p.is_categorical(13));
  ExplainRequest r;
  r.top = 5;
  r.sample_files = {kData};
  const ExplainReport e = p.explain(r);
  EXPECT_EQ(nlohmann::json::parse(e.json)["pairs"].size(), 5u);
  EXPECT_NE(e.svg.find("<svg"), std::string::npos);
  EXPECT_NE(e.svg.find("matrix cross, " + model_path()), std::string::npos);
  EXPECT_FALSE(e.table.empty());
}

}  // namespace
}  // namespace deepcross
