// Tests for split_rows: scikit-learn's rounding, a partition of all rows, seeded shuffling,
// shuffled (unsorted) order, and too few rows.
#include "data/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {
namespace {

void expect_partition(const Split& s, size_t n) {
  std::vector<uint32_t> all;
  for (const auto* part : {&s.train, &s.valid, &s.test}) {
    all.insert(all.end(), part->begin(), part->end());
  }
  ASSERT_EQ(all.size(), n);
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i);
}

TEST(Split, RoundsHeldOutPartsUpLikeSklearn) {
  const Split s = split_rows(10109, 42);
  EXPECT_EQ(s.train.size(), 6469u);
  EXPECT_EQ(s.valid.size(), 1618u);
  EXPECT_EQ(s.test.size(), 2022u);
  expect_partition(s, 10109);
}

TEST(Split, SizesFollowTheFormula) {
  // test = ceil(0.2 n), valid = ceil(0.2 (n - test)); values from sklearn's train_test_split.
  struct Case {
    size_t n, train, valid, test;
  };
  for (const Case& c :
       {Case{3, 1, 1, 1}, Case{5, 3, 1, 1}, Case{10, 6, 2, 2}, Case{100, 64, 16, 20},
        Case{101, 64, 16, 21}, Case{1000000, 640000, 160000, 200000}}) {
    const Split s = split_rows(c.n, 1);
    EXPECT_EQ(s.train.size(), c.train) << c.n;
    EXPECT_EQ(s.valid.size(), c.valid) << c.n;
    EXPECT_EQ(s.test.size(), c.test) << c.n;
  }
}

TEST(Split, OtherFractions) {
  const Split no_valid = split_rows(50, 3, 0.3, 0.0);
  EXPECT_EQ(no_valid.test.size(), 15u);
  EXPECT_TRUE(no_valid.valid.empty());
  EXPECT_EQ(no_valid.train.size(), 35u);
  expect_partition(no_valid, 50);
  const Split no_test = split_rows(50, 3, 0.0, 0.5);
  EXPECT_TRUE(no_test.test.empty());
  EXPECT_EQ(no_test.valid.size(), 25u);
  EXPECT_EQ(no_test.train.size(), 25u);
}

TEST(Split, SameSeedSameSplitOtherSeedOtherSplit) {
  const Split a = split_rows(1000, 7);
  const Split b = split_rows(1000, 7);
  const Split c = split_rows(1000, 8);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
  expect_partition(c, 1000);
}

TEST(Split, ListsAreShuffledNotSorted) {
  const Split s = split_rows(1000, 11);
  for (const auto* part : {&s.train, &s.valid, &s.test}) {
    EXPECT_FALSE(std::is_sorted(part->begin(), part->end()));
  }
  // Each part is drawn from the whole range, not a contiguous block.
  auto mean = [](const std::vector<uint32_t>& v) {
    double sum = 0;
    for (uint32_t x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  EXPECT_NEAR(mean(s.test), 499.5, 60);
  EXPECT_NEAR(mean(s.train), 499.5, 60);
}

TEST(Split, TooFewRowsIsADataError) {
  for (size_t n : {0, 1, 2}) {
    try {
      split_rows(n, 1);
      ADD_FAILURE() << "no DataError for " << n << " rows";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot split " + std::to_string(n) + " rows"),
                std::string::npos)
          << e.what();
      EXPECT_EQ(e.exit_code(), 1);
    }
  }
}

}  // namespace
}  // namespace deepcross
