// Tests for QuantileTransform: agreement with scikit-learn 1.2.1 (SimpleImputer(mean) +
// QuantileTransformer, fixtures from tests/data/make_preprocess_fixtures.py), training-row
// selection, seeded sampling, empty columns, model-state round trip and its errors.
#include "data/quantile.h"

#include <gtest/gtest.h>

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

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

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

std::vector<double> column(const Sections& s, const std::string& name, size_t j = 0) {
  std::vector<double> out;
  for (const auto& row : s.at(name)) out.push_back(row.at(j));
  return out;
}

std::vector<uint32_t> iota_rows(size_t n) {
  std::vector<uint32_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(i);
  return rows;
}

void expect_relative(double got, double want, double rel, const std::string& what) {
  EXPECT_LE(std::abs(got - want), rel * std::abs(want))
      << what << ": got " << got << " want " << want;
}

// Fits on the fixture's values (no sampling) and checks mean, quantiles and transforms.
void check_against_sklearn(const std::string& name) {
  SCOPED_TRACE(name);
  const Sections s = read_fixture("quantile_" + name + ".txt");
  const std::vector<double> values64 = column(s, "values");
  const std::vector<float> values(values64.begin(), values64.end());
  const auto qt = QuantileTransform::fit(values, iota_rows(values.size()), 7, 1u << 30);
  ASSERT_FALSE(qt.empty());
  expect_relative(qt.mean(), column(s, "mean")[0], 1e-12, "mean");
  const std::vector<double> want_q = column(s, "quantiles");
  ASSERT_EQ(qt.quantiles().size(), want_q.size());
  for (size_t k = 0; k < want_q.size(); ++k) {
    expect_relative(qt.quantiles()[k], want_q[k], 1e-12, "quantile " + std::to_string(k));
  }
  const std::vector<double> x = column(s, "transform", 0);
  const std::vector<double> y = column(s, "transform", 1);
  std::vector<float> in(x.begin(), x.end()), out(in.size());
  qt.transform(in, out);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(out[i], y[i], 1e-6) << "x = " << x[i];
    EXPECT_EQ(qt.transform(in[i]), out[i]) << "x = " << x[i];
  }
}

TEST(QuantileTransform, MatchesSklearnOnCountsWithTies) { check_against_sklearn("counts"); }
TEST(QuantileTransform, MatchesSklearnOnConstantColumn) { check_against_sklearn("constant"); }
TEST(QuantileTransform, MatchesSklearnOnTwoValues) { check_against_sklearn("two_values"); }
TEST(QuantileTransform, MatchesSklearnOnNegativeValues) { check_against_sklearn("negative"); }
TEST(QuantileTransform, MatchesSklearnWithMissingValues) { check_against_sklearn("with_nans"); }
TEST(QuantileTransform, MatchesSklearnOnFewRows) { check_against_sklearn("small"); }
TEST(QuantileTransform, MatchesSklearnOnOneRow) { check_against_sklearn("single"); }
TEST(QuantileTransform, MatchesSklearnOnContinuousValues) { check_against_sklearn("continuous"); }

TEST(QuantileTransform, ConstantColumnMapsToZeroAndTiesToTheirMidpoint) {
  const std::vector<float> constant(20, 4.0f);
  const auto c = QuantileTransform::fit(constant, iota_rows(20), 1);
  EXPECT_EQ(c.transform(4.0f), 0.0f);  // x == q_last -> 1, then x == q_0 -> 0
  EXPECT_EQ(c.transform(3.0f), 0.0f);
  EXPECT_EQ(c.transform(5.0f), 1.0f);
  // 0,0,0,1,1 (n_q = 5, r = 0, .25, .5, .75, 1): q = 0,0,0,1,1.
  const std::vector<float> two = {0, 1, 0, 1, 0};
  const auto t = QuantileTransform::fit(two, iota_rows(5), 1);
  EXPECT_EQ(t.quantiles(), (std::vector<double>{0, 0, 0, 1, 1}));
  EXPECT_EQ(t.transform(0.0f), 0.0f);          // the bottom quantile
  EXPECT_EQ(t.transform(1.0f), 1.0f);          // the top quantile
  EXPECT_FLOAT_EQ(t.transform(0.5f), 0.625f);  // halfway between r = .5 and r = .75
}

TEST(QuantileTransform, OutputIsMonotoneInUnitInterval) {
  Rng rng(3);
  std::vector<float> values(5000);
  for (auto& v : values) v = static_cast<float>(std::floor(std::exp(rng.normal() * 1.5)));
  const auto qt = QuantileTransform::fit(values, iota_rows(values.size()), 9);
  float previous = -1;
  for (float x = -10; x < 200; x += 0.25f) {
    const float y = qt.transform(x);
    EXPECT_GE(y, 0.0f);
    EXPECT_LE(y, 1.0f);
    EXPECT_GE(y, previous) << x;
    previous = y;
  }
  EXPECT_EQ(qt.transform(-1e30f), 0.0f);
  EXPECT_EQ(qt.transform(1e30f), 1.0f);
}

TEST(QuantileTransform, UsesOnlyTrainingRowsInAnyOrder) {
  const Sections s = read_fixture("quantile_with_nans.txt");
  const std::vector<double> values64 = column(s, "values");
  const std::vector<float> fitted(values64.begin(), values64.end());
  // The same values interleaved with rows that are not training rows.
  std::vector<float> padded;
  std::vector<uint32_t> train;
  for (size_t i = 0; i < fitted.size(); ++i) {
    padded.push_back(1e6f * static_cast<float>(i % 7) - 3e6f);
    train.push_back(static_cast<uint32_t>(padded.size()));
    padded.push_back(fitted[i]);
    padded.push_back(kNaN);
  }
  Rng rng(17);
  for (size_t i = train.size(); i > 1; --i) std::swap(train[i - 1], train[rng.below(i)]);
  const auto a = QuantileTransform::fit(fitted, iota_rows(fitted.size()), 5, 1u << 30);
  const auto b = QuantileTransform::fit(padded, train, 5, 1u << 30);
  EXPECT_EQ(a.quantiles(), b.quantiles());
  EXPECT_NEAR(a.mean(), b.mean(), 1e-12 * std::abs(a.mean()));
}

TEST(QuantileTransform, MissingValuesTransformAsTheMean) {
  const std::vector<float> values = {1, 2, kNaN, 10, 4};
  const auto qt = QuantileTransform::fit(values, iota_rows(5), 1);
  EXPECT_DOUBLE_EQ(qt.mean(), 17.0 / 4);
  // The sample is {1, 2, 4.25, 10, 4} after imputation.
  EXPECT_EQ(qt.quantiles(), (std::vector<double>{1, 2, 4, 4.25, 10}));
  EXPECT_EQ(qt.transform(kNaN), 0.75f);
  EXPECT_EQ(qt.transform(4.25f), 0.75f);
}

TEST(QuantileTransform, ColumnWithoutValuesIsEmptyAndFeedsZero) {
  const std::vector<float> values = {kNaN, kNaN, 3.0f};
  const auto none = QuantileTransform::fit(values, std::vector<uint32_t>{0, 1}, 1);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.quantiles().empty());
  EXPECT_EQ(none.transform(3.0f), 0.0f);
  EXPECT_EQ(none.transform(kNaN), 0.0f);
  std::vector<float> out(3, 9.0f);
  none.transform(values, out);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0}));
  EXPECT_TRUE(QuantileTransform::fit(values, {}, 1).empty());
  EXPECT_TRUE(QuantileTransform().empty());
}

TEST(QuantileTransform, SampledFitIsSeededAndClose) {
  Rng rng(23);
  std::vector<float> values(20000);
  for (auto& v : values) v = static_cast<float>(rng.uniform());
  for (size_t i = 0; i < values.size(); i += 10) values[i] = kNaN;
  const auto rows = iota_rows(values.size());
  const auto a = QuantileTransform::fit(values, rows, 42, 2000, 100);
  const auto b = QuantileTransform::fit(values, rows, 42, 2000, 100);
  const auto c = QuantileTransform::fit(values, rows, 43, 2000, 100);
  const auto full = QuantileTransform::fit(values, rows, 42, 100000, 100);
  ASSERT_EQ(a.quantiles().size(), 100u);
  EXPECT_EQ(a.quantiles(), b.quantiles());
  EXPECT_EQ(a.mean(), b.mean());
  EXPECT_NE(a.quantiles(), c.quantiles());
  EXPECT_EQ(a.mean(), full.mean());  // the mean uses every training row
  // A 2000-row sample of U(0, 1) (10 % imputed at ~0.5): quantiles within a few percent.
  for (size_t k = 0; k < 100; ++k) {
    EXPECT_NEAR(a.quantiles()[k], full.quantiles()[k], 0.06) << k;
  }
  // No sampling when the rows fit: the seed does not matter.
  const auto d = QuantileTransform::fit(values, rows, 1, 20000, 100);
  const auto e = QuantileTransform::fit(values, rows, 2, 20000, 100);
  EXPECT_EQ(d.quantiles(), e.quantiles());
  EXPECT_EQ(d.quantiles(), full.quantiles());
}

TEST(QuantileTransform, QuantileCountIsCappedByRowsFitted) {
  std::vector<float> values(50);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  EXPECT_EQ(QuantileTransform::fit(values, iota_rows(50), 1).quantiles().size(), 50u);
  EXPECT_EQ(QuantileTransform::fit(values, iota_rows(50), 1, 100000, 10).quantiles().size(), 10u);
  EXPECT_EQ(QuantileTransform::fit(values, iota_rows(50), 1, 20, 1000).quantiles().size(), 20u);
  const auto ten = QuantileTransform::fit(values, iota_rows(50), 1, 100000, 10);
  EXPECT_DOUBLE_EQ(ten.quantiles()[1], 49.0 / 9);  // index (n - 1) / 9 of 0..49
  EXPECT_FLOAT_EQ(ten.transform(49.0f * 4 / 9), 4.0f / 9);
}

TEST(QuantileTransform, StateRoundTripsExactly) {
  Rng rng(8);
  std::vector<float> values(3000);
  for (auto& v : values) v = rng.below(10) == 0 ? kNaN : static_cast<float>(rng.normal() * 3);
  const auto qt = QuantileTransform::fit(values, iota_rows(values.size()), 4);
  const auto loaded = QuantileTransform::from_state(qt.mean(), qt.quantiles());
  EXPECT_EQ(loaded.mean(), qt.mean());
  EXPECT_EQ(loaded.quantiles(), qt.quantiles());
  std::vector<float> a(values.size()), b(values.size());
  qt.transform(values, a);
  loaded.transform(values, b);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(QuantileTransform::from_state(std::nan(""), {}).empty());
}

TEST(QuantileTransform, TransformInPlace) {
  std::vector<float> values = {3, 1, 2, kNaN};
  const auto qt = QuantileTransform::fit(values, iota_rows(4), 1);
  std::vector<float> expected(4);
  for (size_t i = 0; i < 4; ++i) expected[i] = qt.transform(values[i]);
  qt.transform(values, values);
  EXPECT_EQ(values, expected);
}

TEST(QuantileTransform, FromStateRejectsBadState) {
  auto expect_error = [](double mean, std::vector<double> q, const std::string& part) {
    try {
      QuantileTransform::from_state(mean, std::move(q));
      ADD_FAILURE() << "no DataError for " << part;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), 1);
    }
  };
  expect_error(0.5, {0, 2, 1, 3}, "quantiles decrease at index 2");
  expect_error(0.5, {0, std::nan(""), 1}, "quantile 1 is not finite");
  expect_error(0.5, {0, 1, HUGE_VAL}, "quantile 2 is not finite");
  expect_error(std::nan(""), {0, 1}, "mean is not finite");
}

}  // namespace
}  // namespace deepcross
