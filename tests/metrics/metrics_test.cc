// Tests for the metrics: agreement with scikit-learn 1.2.1 (roc_auc_score, log_loss,
// accuracy_score; fixtures from tests/data/make_preprocess_fixtures.py) to 1e-12, exact AUC
// against a naive reference on a million rows, clipping, ties, and the error paths.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

// A fixture file: "section NAME COUNT" followed by COUNT lines of numbers.
using Sections = std::map<std::string, std::vector<std::vector<double>>>;

Sections read_fixture(const std::string& name) {
  const std::string path = std::string(DEEPCROSS_TESTDATA_DIR) + "/preprocess/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  Sections sections;
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string word;
    if (line.rfind("section ", 0) == 0) {
      words >> word >> current;
      sections[current];
      continue;
    }
    std::vector<double> row;
    while (words >> word) {
      double v = 0;
      const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
      EXPECT_TRUE(ec == std::errc() && end == word.data() + word.size()) << path << ": " << word;
      row.push_back(v);
    }
    sections[current].push_back(row);
  }
  return sections;
}

// All numbers of a section, row after row, as float.
std::vector<float> flat(const Sections& s, const std::string& name) {
  std::vector<float> out;
  for (const auto& row : s.at(name)) out.insert(out.end(), row.begin(), row.end());
  return out;
}

double scalar(const Sections& s, const std::string& name) { return s.at(name).at(0).at(0); }

void expect_close(double got, double want, const std::string& what) {
  EXPECT_LE(std::abs(got - want), 1e-12 * std::abs(want))
      << what << ": got " << got << " want " << want;
}

// The textbook O(n^2)-free reference: sort pairs, then count pairs per tie group.
double naive_auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  std::vector<std::pair<float, float>> rows;
  for (size_t i = 0; i < scores.size(); ++i) rows.emplace_back(scores[i], labels[i]);
  std::sort(rows.begin(), rows.end());
  double pairs = 0, negatives_below = 0, positives = 0, negatives = 0;
  for (size_t i = 0; i < rows.size();) {
    size_t j = i;
    double pos = 0, neg = 0;
    for (; j < rows.size() && rows[j].first == rows[i].first; ++j) (rows[j].second ? pos : neg)++;
    pairs += pos * negatives_below + 0.5 * pos * neg;
    negatives_below += neg;
    positives += pos;
    negatives += neg;
    i = j;
  }
  return pairs / (positives * negatives);
}

template <class F>
void expect_data_error(F&& f, const std::string& what_part, const std::string& where) {
  try {
    f();
    ADD_FAILURE() << "no DataError (" << what_part << ")";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(what_part), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), where) << e.what();
    EXPECT_EQ(e.exit_code(), 1);
  }
}

TEST(Metrics, BinaryMatchesSklearn) {
  for (const std::string name : {"hand", "untied", "tied", "extreme", "logits"}) {
    SCOPED_TRACE(name);
    const Sections s = read_fixture("metrics_binary_" + name + ".txt");
    const auto scores = flat(s, "scores");
    const auto labels = flat(s, "labels");
    expect_close(roc_auc(scores, labels), scalar(s, "auc"), "auc");
    if (s.count("logloss")) expect_close(log_loss(scores, labels), scalar(s, "logloss"), "logloss");
  }
}

TEST(Metrics, MultiClassMatchesSklearn) {
  for (const std::string name : {"k3", "k10", "k4_tied"}) {
    SCOPED_TRACE(name);
    const Sections s = read_fixture("metrics_multiclass_" + name + ".txt");
    const int k = static_cast<int>(scalar(s, "k"));
    const auto probs = flat(s, "probs");
    const auto labels = flat(s, "labels");
    ASSERT_EQ(probs.size(), labels.size() * k);
    expect_close(log_loss_multiclass(probs, labels, k), scalar(s, "logloss"), "logloss");
    expect_close(macro_auc_ovr(probs, labels, k), scalar(s, "macro_auc"), "macro_auc");
    expect_close(accuracy(probs, labels, k), scalar(s, "accuracy"), "accuracy");
  }
}

TEST(Metrics, AucBasics) {
  EXPECT_EQ(roc_auc(std::vector<float>{0.1f, 0.4f, 0.35f, 0.8f}, std::vector<float>{0, 0, 1, 1}),
            0.75);
  EXPECT_EQ(roc_auc(std::vector<float>{1, 2, 3, 4}, std::vector<float>{0, 0, 1, 1}), 1.0);
  EXPECT_EQ(roc_auc(std::vector<float>{4, 3, 2, 1}, std::vector<float>{0, 0, 1, 1}), 0.0);
  // Every score tied: each pair counts one half.
  EXPECT_EQ(roc_auc(std::vector<float>(6, 0.3f), std::vector<float>{0, 1, 0, 1, 1, 0}), 0.5);
  // -0.0 and +0.0 are one score (one tie group), like numpy's comparison.
  EXPECT_EQ(roc_auc(std::vector<float>{-0.0f, 0.0f}, std::vector<float>{1, 0}), 0.5);
  EXPECT_EQ(roc_auc(std::vector<float>{0.0f, -0.0f}, std::vector<float>{1, 0}), 0.5);
  // Negative scores, infinities, denormals.
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(roc_auc(std::vector<float>{-inf, -2.5f, -tiny, tiny, 3, inf},
                    std::vector<float>{0, 0, 0, 1, 1, 1}),
            1.0);
  EXPECT_EQ(roc_auc(std::vector<float>{-inf, -2.5f, -tiny, tiny, 3, inf},
                    std::vector<float>{1, 0, 1, 0, 1, 0}),
            1.0 / 3);
}

TEST(Metrics, AucExactOnAMillionRowsAndOrderFree) {
  Rng rng(99);
  const size_t n = 1000000;
  std::vector<float> scores(n), labels(n);
  for (size_t i = 0; i < n; ++i) {
    labels[i] = rng.uniform() < 0.25 ? 1.0f : 0.0f;
    const double z = rng.normal() + 0.8 * labels[i];
    // Half the rows rounded to 3 decimals: many ties mixed with distinct scores.
    scores[i] = static_cast<float>(i % 2 ? std::round(z * 1000) / 1000 : z);
  }
  const double auc = roc_auc(scores, labels);
  expect_close(auc, naive_auc(scores, labels), "auc");
  EXPECT_GT(auc, 0.6);
  // Reversing the rows changes nothing.
  std::reverse(scores.begin(), scores.end());
  std::reverse(labels.begin(), labels.end());
  EXPECT_EQ(roc_auc(scores, labels), auc);
}

TEST(Metrics, LogLossClipsLikeSklearnForFloat32) {
  const double eps = std::numeric_limits<float>::epsilon();
  // p = 0 with label 1 is clipped to eps; p = 1 with label 1 to 1 - eps.
  EXPECT_DOUBLE_EQ(log_loss(std::vector<float>{0.0f}, std::vector<float>{1}), -std::log(eps));
  EXPECT_DOUBLE_EQ(log_loss(std::vector<float>{1.0f}, std::vector<float>{1}), -std::log1p(-eps));
  EXPECT_DOUBLE_EQ(log_loss(std::vector<float>{1.0f}, std::vector<float>{0}), -std::log(eps));
  EXPECT_DOUBLE_EQ(log_loss(std::vector<float>{0.5f, 0.25f}, std::vector<float>{1, 0}),
                   -(std::log(0.5) + std::log(0.75)) / 2);
  // One class only is fine for log loss.
  EXPECT_DOUBLE_EQ(log_loss(std::vector<float>{0.5f, 0.5f}, std::vector<float>{0, 0}),
                   std::log(2.0));
  // Multi-class rows are clipped, then renormalized by their sum.
  const std::vector<float> probs = {0.0f, 0.5f, 0.5f};
  const double sum = eps + 0.5 + 0.5;
  EXPECT_DOUBLE_EQ(log_loss_multiclass(probs, std::vector<float>{0}, 3), -std::log(eps / sum));
  EXPECT_DOUBLE_EQ(log_loss_multiclass(probs, std::vector<float>{2}, 3), -std::log(0.5 / sum));
}

TEST(Metrics, AccuracyTakesTheFirstMaximum) {
  const std::vector<float> probs = {0.4f, 0.4f, 0.2f,   // tie: class 0
                                    0.1f, 0.3f, 0.6f,   // class 2
                                    0.2f, 0.5f, 0.3f};  // class 1
  EXPECT_EQ(accuracy(probs, std::vector<float>{0, 2, 1}, 3), 1.0);
  EXPECT_EQ(accuracy(probs, std::vector<float>{1, 2, 0}, 3), 1.0 / 3);
}

TEST(Metrics, MacroAucIsTheMeanOfOneVsRest) {
  // Class 0 ranked perfectly (1.0), class 1 perfectly wrong (0.0), class 2 all tied (0.5).
  const std::vector<float> probs = {0.9f, 0.0f, 0.1f,  //
                                    0.1f, 0.8f, 0.1f,  //
                                    0.1f, 0.8f, 0.1f,  //
                                    0.2f, 0.7f, 0.1f};
  const std::vector<float> labels = {0, 1, 2, 2};
  // class 1: positive row 1 (0.8) vs negatives 0.0, 0.8, 0.7 -> (1 + 0.5 + 1) / 3
  const double want = (1.0 + 2.5 / 3 + 0.5) / 3;
  EXPECT_DOUBLE_EQ(macro_auc_ovr(probs, labels, 3), want);
}

TEST(Metrics, ErrorsSayWhatAndWhere) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  using V = std::vector<float>;
  expect_data_error([&] { roc_auc(V{0.1f, 0.2f}, V{1, 1}); }, "all have label 1", "");
  expect_data_error([&] { roc_auc(V{0.1f, 0.2f}, V{0, 0}); }, "all have label 0", "");
  expect_data_error([&] { roc_auc(V{}, V{}); }, "AUC needs both classes", "");
  expect_data_error([&] { roc_auc(V{0.1f, 0.2f, 0.3f}, V{0, 1, 2}); }, "is not 0 or 1", "row 3");
  expect_data_error([&] { roc_auc(V{0.1f, nan}, V{0, 1}); }, "score is NaN", "row 2");
  expect_data_error([&] { log_loss(V{}, V{}); }, "no rows", "");
  expect_data_error([&] { log_loss(V{0.5f}, V{0.5f}); }, "is not 0 or 1", "row 1");
  expect_data_error([&] { log_loss(V{0.5f, nan}, V{0, 1}); }, "probability is NaN", "row 2");
  const V probs = {0.5f, 0.5f, 0.3f, 0.7f};
  expect_data_error(
      [&] {
        log_loss_multiclass(probs, V{0, 2}, 2);
      },
      "is not a class 0..1", "row 2");
  expect_data_error([&] { log_loss_multiclass(probs, V{0, 0.5f}, 2); }, "is not a class", "row 2");
  expect_data_error([&] { log_loss_multiclass(probs, V{-1, 0}, 2); }, "is not a class", "row 1");
  expect_data_error([&] { log_loss_multiclass(V{}, V{}, 2); }, "no rows", "");
  expect_data_error(
      [&] {
        log_loss_multiclass(V{0.5f, nan}, V{0}, 2);
      },
      "probability is NaN", "row 1");
  expect_data_error([&] { macro_auc_ovr(probs, V{1, 1}, 2); }, "no row has label 0", "");
  expect_data_error([&] { macro_auc_ovr(V{}, V{}, 2); }, "no row has label 0", "");
  expect_data_error([&] { macro_auc_ovr(probs, V{0, 3}, 2); }, "is not a class", "row 2");
  expect_data_error(
      [&] {
        macro_auc_ovr(V{0.5f, 0.5f, nan, 1}, V{0, 1}, 2);
      },
      "probability is NaN", "row 2");
  expect_data_error([&] { accuracy(V{}, V{}, 2); }, "no rows", "");
  expect_data_error([&] { accuracy(probs, V{0, 7}, 2); }, "is not a class", "row 2");
  expect_data_error([&] { accuracy(V{nan, 0.5f}, V{0}, 2); }, "probability is NaN", "row 1");
}

}  // namespace
}  // namespace deepcross
