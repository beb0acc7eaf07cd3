// End to end on the shipped 10k-row Criteo sample: train (default 64/16/20 split) → eval →
// predict → info, and a model reloaded in fresh processes, all through the deepcross binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

constexpr int kEpochs = 2;

// One training run on the shipped sample, shared by the tests of this suite (per process).
struct TrainedSample {
  TempDir dir;
  std::string model = dir.file("m.dcn");
  CliRun train;
};

class ShippedSample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    trained_ = new TrainedSample;
    trained_->train = run_deepcross({"train", "--data", sample_path(), "--model", trained_->model,
                                     "--epochs", std::to_string(kEpochs), "--threads", "1"});
  }
  static void TearDownTestSuite() {
    delete trained_;
    trained_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(succeeded(trained_->train)); }

  static const std::string& model() { return trained_->model; }
  static const CliRun& train() { return trained_->train; }
  static const TempDir& dir() { return trained_->dir; }

  static TrainedSample* trained_;
};

TrainedSample* ShippedSample::trained_ = nullptr;

TEST_F(ShippedSample, TrainPrintsExactlyTheInterfaceJsonOnStdout) {
  const nlohmann::json j = parse_json_object(train().out);
  ASSERT_FALSE(j.is_discarded()) << "stdout is not one JSON object:\n" << train().out;
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"best_epoch", "epochs_run", "model", "seconds",
                                                  "test_auc", "test_logloss", "train_samples_per_s",
                                                  "val_auc", "val_logloss"}));
  ASSERT_TRUE(j["best_epoch"].is_number_integer());
  ASSERT_TRUE(j["epochs_run"].is_number_integer());
  EXPECT_EQ(j["epochs_run"].get<int>(), kEpochs);
  EXPECT_GE(j["best_epoch"].get<int>(), 1);
  EXPECT_LE(j["best_epoch"].get<int>(), kEpochs);
  for (const char* key : {"val_auc", "test_auc"}) {
    ASSERT_TRUE(j[key].is_number()) << key;
    EXPECT_GT(j[key].get<double>(), 0.5) << key;  // better than chance after two epochs
    EXPECT_LT(j[key].get<double>(), 1.0) << key;
  }
  for (const char* key : {"val_logloss", "test_logloss", "seconds", "train_samples_per_s"}) {
    ASSERT_TRUE(j[key].is_number()) << key;
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
    EXPECT_TRUE(std::isfinite(j[key].get<double>())) << key;
  }
  EXPECT_EQ(j["model"], model());
}

TEST_F(ShippedSample, TrainWritesTheConfigurationAndEpochTableToStderr) {
  const std::vector<std::string> lines = split_lines(train().err);
  EXPECT_NE(train().err.find("epochs"), std::string::npos);  // the effective configuration
  size_t header = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with("epoch") && lines[i].find("val AUC") != std::string::npos) {
      header = i;
      break;
    }
  }
  ASSERT_LT(header + kEpochs, lines.size()) << train().err;
  for (int e = 1; e <= kEpochs; ++e) {
    const std::string& row = lines[header + e];
    const size_t first = row.find_first_not_of(' ');
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(row.substr(first, row.find(' ', first) - first), std::to_string(e)) << row;
  }
  EXPECT_EQ(train().err.find("deepcross: error"), std::string::npos);
}

TEST_F(ShippedSample, HistoryAndCurvesDefaultToFilesBesideTheModel) {
  const std::string history = model() + ".history.csv";
  const std::string curves = model() + ".curves.svg";
  ASSERT_TRUE(file_exists(history));
  ASSERT_TRUE(file_exists(curves));
  const std::vector<std::string> rows = split_lines(read_file(history));
  ASSERT_EQ(rows.size(), 1u + kEpochs);  // header + one row per epoch
  EXPECT_TRUE(rows[0].starts_with("epoch,")) << rows[0];
  EXPECT_TRUE(rows[1].starts_with("1,")) << rows[1];
  const std::string svg = read_file(curves);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST_F(ShippedSample, EvalPrintsRowsAucLogloss) {
  const CliRun r =
      run_deepcross({"eval", "--model", model(), "--data", sample_path(), "--threads", "2"});
  ASSERT_TRUE(succeeded(r));
  const nlohmann::json j = parse_json_object(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"auc", "logloss", "rows"}));
  EXPECT_EQ(j["rows"], sample_lines().size());
  EXPECT_GT(j["auc"].get<double>(), 0.5);
  EXPECT_LT(j["auc"].get<double>(), 1.0);
  EXPECT_GT(j["logloss"].get<double>(), 0.0);
}

TEST_F(ShippedSample, PredictPrintsOneProbabilityPerRowIdenticallyRunAfterRun) {
  const std::vector<std::string> args = {"predict",     "--model",   model(), "--data",
                                         sample_path(), "--threads", "2"};
  const CliRun first = run_deepcross(args);
  ASSERT_TRUE(succeeded(first));
  const auto probabilities = parse_predictions(first.out);
  ASSERT_TRUE(probabilities.has_value()) << "a line is not a probability in [0, 1]";
  EXPECT_EQ(probabilities->size(), sample_lines().size());
  const CliRun second = run_deepcross(args);
  ASSERT_TRUE(succeeded(second));
  EXPECT_TRUE(first.out == second.out) << "two predict runs differ";
}

TEST_F(ShippedSample, PredictWithoutTheLabelColumnGivesTheSameNumbers) {
  std::vector<std::string> with_label(sample_lines().begin(), sample_lines().begin() + 500);
  std::vector<std::string> without_label;
  for (const std::string& line : with_label)
    without_label.push_back(line.substr(line.find('\t') + 1));
  ASSERT_EQ(split(without_label[0], '\t').size(), 39u);
  write_file(dir().file("with_label.tsv"), join_lines(with_label));
  write_file(dir().file("without_label.tsv"), join_lines(without_label));
  const CliRun a = run_deepcross(
      {"predict", "--model", model(), "--data", dir().file("with_label.tsv"), "--threads", "1"});
  const CliRun b = run_deepcross(
      {"predict", "--model", model(), "--data", dir().file("without_label.tsv"), "--threads", "1"});
  ASSERT_TRUE(succeeded(a));
  ASSERT_TRUE(succeeded(b));
  ASSERT_EQ(split_lines(a.out).size(), 500u);
  EXPECT_EQ(a.out, b.out);
}

TEST_F(ShippedSample, PredictOutputWritesTheBytesStdoutWouldGet) {
  const std::string out_path = dir().file("predictions.txt");
  const CliRun to_file = run_deepcross({"predict", "--model", model(), "--data", sample_path(),
                                        "--output", out_path, "--threads", "2"});
  ASSERT_TRUE(succeeded(to_file));
  EXPECT_EQ(to_file.out, "") << "predictions leaked to stdout";
  const CliRun to_stdout =
      run_deepcross({"predict", "--model", model(), "--data", sample_path(), "--threads", "2"});
  ASSERT_TRUE(succeeded(to_stdout));
  ASSERT_TRUE(file_exists(out_path));
  EXPECT_TRUE(read_file(out_path) == to_stdout.out) << "--output differs from stdout";
}

TEST_F(ShippedSample, InfoDescribesTheModel) {
  const CliRun r = run_deepcross({"info", "--model", model()});
  ASSERT_TRUE(succeeded(r));
  const nlohmann::json j = parse_json_object(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"classes", "config", "cross", "data", "fields",
                                                  "format_version", "parameters", "structure"}));
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["cross"], "matrix");
  EXPECT_EQ(j["structure"], "stacked");
  EXPECT_EQ(j["classes"], 1);
  EXPECT_TRUE(j["config"].is_object());
  ASSERT_TRUE(j["parameters"].is_number_integer());
  EXPECT_GT(j["parameters"].get<int64_t>(), 0);
  ASSERT_TRUE(j["data"].is_object());
  EXPECT_EQ(keys_of(j["data"]), (std::vector<std::string>{"rows", "sha256"}));
  EXPECT_EQ(j["data"]["rows"], sample_lines().size());
  const std::string sha = j["data"]["sha256"].get<std::string>();
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos) << sha;

  const nlohmann::json& fields = j["fields"];
  ASSERT_TRUE(fields.is_array());
  ASSERT_EQ(fields.size(), 39u);
  for (size_t i = 0; i < fields.size(); ++i) {
    const nlohmann::json& f = fields[i];
    SCOPED_TRACE(f.dump());
    EXPECT_EQ(keys_of(f), (std::vector<std::string>{"kind", "name", "vocabulary", "width"}));
    const bool numeric = i < 13;
    EXPECT_EQ(f["name"], (numeric ? "I" : "C") + std::to_string(i + 1));
    EXPECT_EQ(f["kind"], numeric ? "numeric" : "categorical");
    EXPECT_GE(f["width"].get<int64_t>(), 1);
    if (!numeric) {
      EXPECT_GT(f["vocabulary"].get<int64_t>(), 0);
    }
  }
}

TEST_F(ShippedSample, ACopiedModelPredictsTheSameInAFreshProcess) {
  TempDir elsewhere;
  const std::string copy = elsewhere.file("copy.dcn");
  write_file(copy, read_file(model()));
  const CliRun a =
      run_deepcross({"predict", "--model", model(), "--data", sample_path(), "--threads", "1"});
  const CliRun b =
      run_deepcross({"predict", "--model", copy, "--data", sample_path(), "--threads", "1"});
  ASSERT_TRUE(succeeded(a));
  ASSERT_TRUE(succeeded(b));
  EXPECT_TRUE(a.out == b.out);
  const CliRun info_a = run_deepcross({"info", "--model", model()});
  const CliRun info_b = run_deepcross({"info", "--model", copy});
  EXPECT_EQ(info_a.out, info_b.out);
}

// With explicit --valid and --test files (slices of the sample), the test metrics printed by
// train are what `eval` computes on the same file after reloading the saved model.
TEST(ShippedSampleSplits, EvalOnTheTestFileReproducesTrainsTestMetrics) {
  TempDir dir;
  const auto& all = sample_lines();
  write_file(dir.file("train.tsv"), join_lines({all.begin(), all.begin() + 7000}));
  write_file(dir.file("valid.tsv"), join_lines({all.begin() + 7000, all.begin() + 8500}));
  write_file(dir.file("test.tsv"), join_lines({all.begin() + 8500, all.end()}));
  const CliRun train = run_deepcross(
      {"train", "--data", dir.file("train.tsv"), "--valid", dir.file("valid.tsv"), "--test",
       dir.file("test.tsv"), "--model", dir.file("m.dcn"), "--epochs", "2", "--threads", "1"});
  ASSERT_TRUE(succeeded(train));
  const nlohmann::json t = parse_json_object(train.out);
  ASSERT_FALSE(t.is_discarded()) << train.out;
  const CliRun eval = run_deepcross(
      {"eval", "--model", dir.file("m.dcn"), "--data", dir.file("test.tsv"), "--threads", "1"});
  ASSERT_TRUE(succeeded(eval));
  const nlohmann::json e = parse_json_object(eval.out);
  ASSERT_FALSE(e.is_discarded()) << eval.out;
  EXPECT_EQ(e["rows"], all.size() - 8500);
  EXPECT_NEAR(e["auc"].get<double>(), t["test_auc"].get<double>(), 1e-6);
  EXPECT_NEAR(e["logloss"].get<double>(), t["test_logloss"].get<double>(), 1e-6);
}

// --history, --curves and --report put their files where they say, and nothing goes to the
// default places beside the model.
TEST(ShippedSampleOutputs, HistoryCurvesAndReportGoWhereTheFlagsSay) {
  TempDir dir;
  write_file(dir.file("rows.tsv"), sample_head(2000));
  std::filesystem::create_directory(dir.file("out"));
  const CliRun r =
      run_deepcross({"train", "--data", dir.file("rows.tsv"), "--model", dir.file("m.dcn"),
                     "--epochs", "1", "--threads", "1", "--history", dir.file("out/h.csv"),
                     "--curves", dir.file("out/c.svg"), "--report", dir.file("out/r.json")});
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(file_exists(dir.file("m.dcn")));
  EXPECT_TRUE(file_exists(dir.file("out/h.csv")));
  EXPECT_TRUE(file_exists(dir.file("out/c.svg")));
  ASSERT_TRUE(file_exists(dir.file("out/r.json")));
  EXPECT_FALSE(file_exists(dir.file("m.dcn.history.csv")));
  EXPECT_FALSE(file_exists(dir.file("m.dcn.curves.svg")));
  EXPECT_EQ(split_lines(read_file(dir.file("out/h.csv"))).size(), 2u);
  const nlohmann::json report = parse_json_object(read_file(dir.file("out/r.json")));
  const nlohmann::json printed = parse_json_object(r.out);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report, printed);
}

// "none" turns an output off: no history, curves, report or cache, and no file called "none".
TEST(ShippedSampleOutputs, NoneWritesNoHistoryCurvesReportOrCache) {
  TempDir dir;
  write_file(dir.file("rows.tsv"), sample_head(1000));
  const CliRun r = run_deepcross({"train", "--data", "rows.tsv", "--model", "m.dcn", "--epochs",
                                  "1", "--threads", "1", "--history", "none", "--curves", "none",
                                  "--report", "none", "--cache", "none"},
                                 in_dir(dir.path()));
  ASSERT_TRUE(succeeded(r));
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"m.dcn", "rows.tsv"}));
  EXPECT_NE(r.err.find("history: not written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("curves: not written"), std::string::npos) << r.err;
}

// --profile: one line per phase of the training step, in ms per step and percent, summing to
// the total; the machine-facing stdout is unchanged.
TEST(ShippedSampleOutputs, ProfilePrintsWhereTheStepTimeWent) {
  TempDir dir;
  write_file(dir.file("rows.tsv"), sample_head(3000));
  const CliRun r = run_deepcross({"train", "--data", "rows.tsv", "--epochs", "2", "--threads", "1",
                                  "--batch-size", "256", "--profile"},
                                 in_dir(dir.path()));
  ASSERT_TRUE(succeeded(r));
  EXPECT_FALSE(parse_json_object(r.out).is_discarded()) << r.out;
  const size_t at = r.err.find("profile: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::vector<std::string> lines = split_lines(r.err.substr(at));
  ASSERT_GE(lines.size(), 10u);
  // 3000 rows: 1920 training rows, 256 per batch -> 8 steps per epoch, 2 epochs.
  EXPECT_EQ(lines[0].rfind("profile: 16 training steps, ", 0), 0u) << lines[0];
  double percent = 0;
  for (size_t i = 1; i <= 9; ++i) {
    const std::vector<std::string> words = split(lines[i], '%');
    ASSERT_EQ(words.size(), 2u) << lines[i];
    const size_t ms = words[0].find(" ms ");
    ASSERT_NE(ms, std::string::npos) << lines[i];
    percent += std::stod(words[0].substr(ms + 4));
  }
  EXPECT_NEAR(percent, 100.0, 0.6);
  EXPECT_NE(lines[1].find("batch gather"), std::string::npos);
  EXPECT_NE(lines[9].find("optimizer"), std::string::npos);
}

// Training without --model is allowed ("not saved"): it reports metrics and writes no files.
TEST(ShippedSampleOutputs, TrainWithoutModelReportsAndWritesNothing) {
  TempDir dir;
  write_file(dir.file("rows.tsv"), sample_head(1000));
  const CliRun r = run_deepcross(
      {"train", "--data", "rows.tsv", "--epochs", "1", "--threads", "1", "--batch-size", "128"},
      in_dir(dir.path()));
  ASSERT_TRUE(succeeded(r));
  const nlohmann::json j = parse_json_object(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j.contains("test_auc"));
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "train without --model left files behind";
}

}  // namespace
}  // namespace deepcross::e2e
