// Tests for Vocabulary: fitting on training rows, min_count and OOV, byte-wise id order,
// encoding, loading from kept values, and the error paths.
#include "data/vocabulary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/rng.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

// A column whose rows hold the given strings, interned in order of first appearance.
CategoricalColumn make_column(const std::vector<std::string>& rows) {
  CategoricalColumn col;
  col.name = "C14";
  std::map<std::string, uint32_t> code_of;
  for (const auto& value : rows) {
    auto [it, inserted] = code_of.emplace(value, static_cast<uint32_t>(col.dictionary.size()));
    if (inserted) col.dictionary.push_back(value);
    col.codes.push_back(it->second);
  }
  return col;
}

std::vector<uint32_t> all_rows(size_t n) {
  std::vector<uint32_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(i);
  return rows;
}

TEST(Vocabulary, FitKeepsTrainingValuesInSortedOrder) {
  const auto col = make_column({"b", "", "a", "c", "b", "zz", "a"});
  const std::vector<uint32_t> train = {0, 1, 2, 4, 6};  // "c" and "zz" only outside training
  const auto vocab = Vocabulary::fit(col, train, 1);
  EXPECT_EQ(vocab.values(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(vocab.size(), 4);
  EXPECT_EQ(vocab.encode(""), Vocabulary::kMissing);
  EXPECT_EQ(vocab.encode("a"), 2);
  EXPECT_EQ(vocab.encode("b"), 3);
  EXPECT_EQ(vocab.encode("c"), Vocabulary::kOov);
  EXPECT_EQ(vocab.encode("zz"), Vocabulary::kOov);
  EXPECT_EQ(vocab.encode("never"), Vocabulary::kOov);
  EXPECT_EQ(vocab.oov_train_rows(), 0);
}

TEST(Vocabulary, MissingIsReservedEvenWhenUnseen) {
  const auto col = make_column({"x", "y", ""});
  const auto vocab = Vocabulary::fit(col, std::vector<uint32_t>{0, 1}, 1);
  EXPECT_EQ(vocab.size(), 4);  // OOV, missing, x, y
  EXPECT_EQ(vocab.encode(""), Vocabulary::kMissing);
  EXPECT_EQ(vocab.encode("x"), 2);
}

TEST(Vocabulary, EmptyTrainingGivesOnlyReservedIds) {
  const auto col = make_column({"x", ""});
  const auto vocab = Vocabulary::fit(col, {}, 1);
  EXPECT_EQ(vocab.size(), 2);
  EXPECT_TRUE(vocab.values().empty());
  EXPECT_EQ(vocab.encode("x"), Vocabulary::kOov);
}

TEST(Vocabulary, MinCountMapsRareTrainingValuesToOov) {
  // counts in training: a 3, b 2, c 1, "" 1 (the missing value is never OOV), d 1
  const auto col = make_column({"a", "b", "c", "a", "", "b", "a", "d"});
  const auto vocab = Vocabulary::fit(col, all_rows(8), 2);
  EXPECT_EQ(vocab.values(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(vocab.encode("c"), Vocabulary::kOov);
  EXPECT_EQ(vocab.encode("d"), Vocabulary::kOov);
  EXPECT_EQ(vocab.encode(""), Vocabulary::kMissing);
  EXPECT_EQ(vocab.oov_train_rows(), 2);  // the rows holding c and d
  const auto strict = Vocabulary::fit(col, all_rows(8), 3);
  EXPECT_EQ(strict.values(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(strict.oov_train_rows(), 4);
  const auto none = Vocabulary::fit(col, all_rows(8), 100);
  EXPECT_EQ(none.size(), 2);
  EXPECT_EQ(none.oov_train_rows(), 7);
}

TEST(Vocabulary, MinCountCountsOnlyTrainingRows) {
  const auto col = make_column({"a", "a", "a", "b", "b"});
  // "a" appears three times overall but once in training.
  const auto vocab = Vocabulary::fit(col, std::vector<uint32_t>{0, 3, 4}, 2);
  EXPECT_EQ(vocab.values(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(vocab.oov_train_rows(), 1);
}

TEST(Vocabulary, IdsAreByteWiseSortedAndIndependentOfRowOrder) {
  const std::vector<std::string> values = {"b",    "B",     "a",        "ab", "abc", "\xff",
                                           "\x01", "\x80z", "68fd1e64", "Z",  "aa"};
  std::vector<std::string> rows = values;
  const auto forward = Vocabulary::fit(make_column(rows), all_rows(rows.size()), 1);
  std::reverse(rows.begin(), rows.end());
  const auto backward = Vocabulary::fit(make_column(rows), all_rows(rows.size()), 1);
  const std::vector<std::string> expected = {"\x01", "68fd1e64", "B", "Z",     "a",   "aa",
                                             "ab",   "abc",      "b", "\x80z", "\xff"};
  EXPECT_EQ(forward.values(), expected);
  EXPECT_EQ(backward.values(), expected);
  // Shuffled training row list: same vocabulary.
  std::vector<uint32_t> train = all_rows(rows.size());
  Rng rng(5);
  for (size_t i = train.size(); i > 1; --i) std::swap(train[i - 1], train[rng.below(i)]);
  EXPECT_EQ(Vocabulary::fit(make_column(rows), train, 1).values(), expected);
}

TEST(Vocabulary, EncodeTakesAnyStringView) {
  const auto col = make_column({"abc", "ab"});
  const auto vocab = Vocabulary::fit(col, all_rows(2), 1);
  const std::string text = "abcdef";
  EXPECT_EQ(vocab.encode(std::string_view(text).substr(0, 2)), 2);  // "ab"
  EXPECT_EQ(vocab.encode(std::string_view(text).substr(0, 3)), 3);  // "abc"
  EXPECT_EQ(vocab.encode(std::string_view(text).substr(0, 4)), Vocabulary::kOov);
  EXPECT_EQ(vocab.encode(std::string_view(text).substr(3, 0)), Vocabulary::kMissing);
  EXPECT_EQ(vocab.encode(std::string("ab\0", 3)), Vocabulary::kOov);  // embedded NUL differs
}

TEST(Vocabulary, EncodeDictionaryMatchesEncode) {
  const auto col = make_column({"q", "", "r", "q", "s"});
  const auto vocab = Vocabulary::fit(col, std::vector<uint32_t>{0, 1, 2, 3}, 2);
  const std::vector<std::string> dict = {"s", "q", "", "r", "unseen"};
  const auto ids = vocab.encode_dictionary(dict);
  ASSERT_EQ(ids.size(), dict.size());
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 2, 1, 0, 0}));
  for (size_t i = 0; i < dict.size(); ++i) EXPECT_EQ(ids[i], vocab.encode(dict[i]));
  EXPECT_TRUE(vocab.encode_dictionary({}).empty());
}

TEST(Vocabulary, ManyValuesAgreeWithAnOrderedMap) {
  Rng rng(11);
  std::vector<std::string> rows;
  for (int i = 0; i < 20000; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08llx",
                  static_cast<unsigned long long>(rng.below(5000) * 2654435761ULL % 4294967291ULL));
    rows.push_back(rng.below(20) == 0 ? std::string() : std::string(buf));
  }
  const auto col = make_column(rows);
  std::vector<uint32_t> train;
  for (uint32_t i = 0; i < rows.size(); i += 2) train.push_back(i);
  std::map<std::string, int> counts;
  for (uint32_t r : train) ++counts[rows[r]];
  const int min_count = 3;
  std::map<std::string, int32_t> expected;
  int64_t oov = 0;
  for (const auto& [value, count] : counts) {
    if (value.empty()) continue;
    if (count >= min_count) {
      expected.emplace(value, static_cast<int32_t>(expected.size()) + 2);
    } else {
      oov += count;
    }
  }
  const auto vocab = Vocabulary::fit(col, train, min_count);
  EXPECT_EQ(vocab.size(), static_cast<int32_t>(expected.size()) + 2);
  EXPECT_EQ(vocab.oov_train_rows(), oov);
  for (const auto& value : rows) {
    const auto it = expected.find(value);
    const int32_t want = value.empty() ? 1 : (it == expected.end() ? 0 : it->second);
    ASSERT_EQ(vocab.encode(value), want) << value;
  }
}

TEST(Vocabulary, FromValuesRoundTrips) {
  const auto col = make_column({"k", "j", "", "k", "m", "j"});
  const auto fitted = Vocabulary::fit(col, all_rows(6), 2);
  ASSERT_EQ(fitted.oov_train_rows(), 1);
  const auto loaded = Vocabulary::from_values(fitted.values());
  EXPECT_EQ(loaded.values(), fitted.values());
  EXPECT_EQ(loaded.size(), fitted.size());
  EXPECT_EQ(loaded.oov_train_rows(), 0);
  EXPECT_EQ(loaded.encode_dictionary(col.dictionary), fitted.encode_dictionary(col.dictionary));
  // Ids follow the given order, sorted or not.
  const auto given = Vocabulary::from_values({"z", "a"});
  EXPECT_EQ(given.encode("z"), 2);
  EXPECT_EQ(given.encode("a"), 3);
  EXPECT_EQ(Vocabulary::from_values({}).size(), 2);
}

TEST(Vocabulary, FromValuesRejectsEmptyAndRepeatedValues) {
  try {
    Vocabulary::from_values({"a", "", "b"});
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("value 3 is empty"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 1);
  }
  try {
    Vocabulary::from_values({"a", "b", "c", "b"});
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("\"b\" appears twice (ids 3 and 5)"), std::string::npos)
        << e.what();
  }
}

TEST(Vocabulary, MinCountBelowOneIsAUsageError) {
  const auto col = make_column({"a"});
  for (int bad : {0, -3}) {
    try {
      Vocabulary::fit(col, all_rows(1), bad);
      FAIL() << "no UsageError for " << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.where(), "min_count");
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace deepcross
