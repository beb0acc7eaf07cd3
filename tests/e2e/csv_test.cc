// End to end on files with a header: an Avazu-style CSV (id, click, hour, categorical columns,
// no numeric one) with roles from --label/--ignore/--categorical, and a three-class TSV.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

// splitmix64: a tiny portable generator, so the files are the same on every platform.
class Mix {
 public:
  explicit Mix(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

constexpr int kAvazuCategorical = 12;
const char* const kAvazuCategoricalFlag = "hour,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12";

// id,click,hour,c1..c12; click depends on c1 == c2 (a cross) and on c3.
std::string avazu_csv(int rows, bool with_click = true) {
  Mix mix(11);
  std::string text = with_click ? "id,click,hour" : "id,hour";
  for (int c = 1; c <= kAvazuCategorical; ++c) text += ",c" + std::to_string(c);
  text += "\n";
  for (int i = 0; i < rows; ++i) {
    std::vector<int> v(kAvazuCategorical);
    for (int& x : v) x = mix.below(5);
    const double p = 0.1 + 0.5 * (v[0] == v[1]) + 0.2 * (v[2] == 0);
    const int click = mix.uniform() < p ? 1 : 0;
    text += std::to_string(100000 + i);
    if (with_click) text += "," + std::to_string(click);
    text += "," + std::to_string(14102100 + mix.below(24));
    for (int x : v) text += ",v" + std::to_string(x);
    text += "\n";
  }
  return text;
}

TEST(AvazuCsv, TrainsEvaluatesAndPredictsWithColumnRoles) {
  TempDir dir;
  write_file(dir.file("train.csv"), avazu_csv(3000));
  const CliRun train =
      run_deepcross({"train", "--data", "train.csv", "--format", "csv", "--label", "click",
                     "--ignore", "id", "--categorical", kAvazuCategoricalFlag, "--model", "m.dcn",
                     "--epochs", "3", "--batch-size", "256", "--threads", "1"},
                    in_dir(dir.path()));
  ASSERT_TRUE(succeeded(train));
  const nlohmann::json t = parse_json_object(train.out);
  ASSERT_FALSE(t.is_discarded()) << train.out;
  EXPECT_GT(t["test_auc"].get<double>(), 0.5);

  const CliRun eval =
      run_deepcross({"eval", "--model", "m.dcn", "--data", "train.csv"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(eval));
  const nlohmann::json e = parse_json_object(eval.out);
  ASSERT_FALSE(e.is_discarded()) << eval.out;
  EXPECT_EQ(keys_of(e), (std::vector<std::string>{"auc", "logloss", "rows"}));
  EXPECT_EQ(e["rows"], 3000);
  EXPECT_GT(e["auc"].get<double>(), 0.55);  // the c1 == c2 cross and c3 are strong signals

  const CliRun predict =
      run_deepcross({"predict", "--model", "m.dcn", "--data", "train.csv"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(predict));
  const auto p = parse_predictions(predict.out);
  ASSERT_TRUE(p.has_value()) << predict.out.substr(0, 500);
  EXPECT_EQ(p->size(), 3000u);

  // Without the label column, the same rows predict the same.
  write_file(dir.file("unlabelled.csv"), avazu_csv(3000, /*with_click=*/false));
  const CliRun bare = run_deepcross({"predict", "--model", "m.dcn", "--data", "unlabelled.csv"},
                                    in_dir(dir.path()));
  ASSERT_TRUE(succeeded(bare));
  EXPECT_EQ(bare.out, predict.out);

  // The model describes its fields by their header names, all categorical.
  const CliRun info = run_deepcross({"info", "--model", "m.dcn"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(info));
  const nlohmann::json j = parse_json_object(info.out);
  ASSERT_FALSE(j.is_discarded()) << info.out;
  const std::vector<std::string> names = split(kAvazuCategoricalFlag, ',');
  ASSERT_EQ(j["fields"].size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(j["fields"][i]["name"], names[i]);
    EXPECT_EQ(j["fields"][i]["kind"], "categorical");
    EXPECT_GT(j["fields"][i]["vocabulary"].get<int64_t>(), 0);
  }
}

// A header column without a role is refused, naming the column.
TEST(AvazuCsv, AColumnWithNoRoleIsAnErrorNamingIt) {
  TempDir dir;
  write_file(dir.file("train.csv"), avazu_csv(200));
  const CliRun r = run_deepcross(
      {"train", "--data", "train.csv", "--format", "csv", "--label", "click", "--ignore", "id",
       "--categorical", "hour,c1,c2", "--epochs", "1", "--threads", "1"},
      in_dir(dir.path()));
  // Exit 1: the file and the declared roles disagree, which the reader finds in the data
  // (as for any other column problem), naming the file, line and column.
  EXPECT_TRUE(failed_with(r, 1, "'c3'"));
  EXPECT_NE(error_line(r).find("train.csv:1:column 6 (c3)"), std::string::npos) << r.err;
}

// y,n1,n2,ca,cb with labels 0..2; the class mostly follows ca.
std::string three_class_tsv(int rows) {
  Mix mix(5);
  std::string text = "y\tn1\tn2\tca\tcb\n";
  for (int i = 0; i < rows; ++i) {
    const int a = mix.below(3);
    const int y = mix.uniform() < 0.7 ? a : mix.below(3);
    text += std::to_string(y) + "\t" + std::to_string(mix.below(1000) / 100.0) + "\t" +
            std::to_string(mix.below(100)) + "\tk" + std::to_string(a) + "\tz" +
            std::to_string(mix.below(7)) + "\n";
  }
  return text;
}

TEST(ThreeClasses, TrainEvalAndPredictGiveClassProbabilities) {
  TempDir dir;
  write_file(dir.file("rows.tsv"), three_class_tsv(1500));
  const CliRun train = run_deepcross(
      {"train", "--data",        "rows.tsv", "--format",  "tsv", "--label", "y",     "--numeric",
       "n1,n2", "--categorical", "ca,cb",    "--classes", "3",   "--model", "m.dcn", "--epochs",
       "3",     "--batch-size",  "128",      "--threads", "1"},
      in_dir(dir.path()));
  ASSERT_TRUE(succeeded(train));
  ASSERT_FALSE(parse_json_object(train.out).is_discarded()) << train.out;

  const CliRun eval =
      run_deepcross({"eval", "--model", "m.dcn", "--data", "rows.tsv"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(eval));
  const nlohmann::json e = parse_json_object(eval.out);
  ASSERT_FALSE(e.is_discarded()) << eval.out;
  EXPECT_EQ(keys_of(e), (std::vector<std::string>{"accuracy", "auc", "logloss", "rows"}));
  EXPECT_EQ(e["rows"], 1500);
  EXPECT_GT(e["accuracy"].get<double>(), 0.5);  // chance is 1/3; ca gives about 0.8
  EXPECT_LE(e["accuracy"].get<double>(), 1.0);
  EXPECT_GT(e["auc"].get<double>(), 0.6);

  const CliRun predict =
      run_deepcross({"predict", "--model", "m.dcn", "--data", "rows.tsv"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(predict));
  const auto p = parse_predictions(predict.out, 3);
  ASSERT_TRUE(p.has_value()) << "not 3 comma-separated probabilities per line:\n"
                             << predict.out.substr(0, 500);
  ASSERT_EQ(p->size(), 1500u);
  for (size_t i = 0; i < p->size(); ++i) {
    const auto& row = (*p)[i];
    EXPECT_NEAR(row[0] + row[1] + row[2], 1.0, 1e-5) << "row " << i + 1;
  }

  const CliRun info = run_deepcross({"info", "--model", "m.dcn"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(info));
  const nlohmann::json j = parse_json_object(info.out);
  EXPECT_EQ(j["classes"], 3);
  ASSERT_EQ(j["fields"].size(), 4u);
  EXPECT_EQ(j["fields"][0]["name"], "n1");
  EXPECT_EQ(j["fields"][0]["kind"], "numeric");
  EXPECT_EQ(j["fields"][3]["name"], "cb");
  EXPECT_EQ(j["fields"][3]["kind"], "categorical");

  // A label outside 0..2 in a file to evaluate names the line and the label column.
  write_file(dir.file("bad.tsv"), "y\tn1\tn2\tca\tcb\n1\t2\t3\tk1\tz1\n3\t2\t3\tk1\tz1\n");
  const CliRun bad =
      run_deepcross({"eval", "--model", "m.dcn", "--data", "bad.tsv"}, in_dir(dir.path()));
  EXPECT_TRUE(failed_with(bad, 1, "invalid label '3'"));
  EXPECT_NE(error_line(bad).find("bad.tsv:3:column 1 (y)"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace deepcross::e2e
