// Preprocessor::encode against its definition: every row's numeric values through their
// field's QuantileTransform::transform and every categorical value through its Vocabulary,
// for any row subset and thread count (encode memoises transforms and works in row blocks:
// neither may change a single bit).
#include "data/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/reader.h"

namespace deepcross {
namespace {

// Criteo rows: I1 a small integer (heavy repeats), I2 continuous (few repeats: memo
// collisions), I3 mostly missing, I4..I13 mixed incl. negative zero; C14..C39 from small
// alphabets so that min-count leaves some values out of the vocabulary.
std::string criteo_text(int rows, uint64_t seed) {
  Rng rng(seed);
  std::string text;
  for (int r = 0; r < rows; ++r) {
    text += std::to_string(rng.next() % 2);
    for (int i = 1; i <= 13; ++i) {
      text += '\t';
      const uint64_t u = rng.next();
      if (i == 1) {
        text += std::to_string(u % 20);
      } else if (i == 2) {
        text += std::to_string(static_cast<double>(u % 1000003) / 7.0);
      } else if (i == 3) {
        if (u % 10 == 0) text += std::to_string(u % 50);
      } else if (u % 7 == 0) {
        text += "-0";
      } else if (u % 5 != 0) {
        text += std::to_string(static_cast<int64_t>(u % 300) - 20);
      }
    }
    for (int j = 0; j < 26; ++j) {
      text += '\t';
      const uint64_t u = rng.next();
      if (u % 9 != 0) text += "v" + std::to_string(u % (3 + 40 * j));
    }
    text += '\n';
  }
  return text;
}

Table table_of(const std::string& text) {
  ReadOptions o;
  return parse_table(text, "rows.tsv", o);
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_encoding_is_the_definition(const Preprocessor& pre, const Table& t,
                                       const std::vector<uint32_t>& rows, int threads) {
  const EncodedData e = pre.encode(t, rows, threads);
  const size_t n = rows.empty() ? t.rows : rows.size();
  ASSERT_EQ(e.rows, n);
  const int d = e.num_numeric, c = e.num_categorical;
  ASSERT_EQ(d, 13);
  ASSERT_EQ(c, 26);
  std::vector<int64_t> oov(c, 0);
  for (size_t r = 0; r < n; ++r) {
    const uint32_t row = rows.empty() ? static_cast<uint32_t>(r) : rows[r];
    for (int f = 0; f < d; ++f) {
      const float want = pre.transforms()[f].transform(t.numeric[f].values[row]);
      ASSERT_TRUE(same_bits(e.x_num[r * d + f], want))
          << "row " << r << " field " << f << ": " << e.x_num[r * d + f] << " vs " << want;
    }
    for (int j = 0; j < c; ++j) {
      const auto& col = t.categorical[j];
      const int32_t want = pre.vocabularies()[j].encode(col.dictionary[col.codes[row]]);
      ASSERT_EQ(e.x_cat[r * c + j], want) << "row " << r << " field " << j;
      oov[j] += want == Vocabulary::kOov;
    }
    ASSERT_EQ(e.labels[r], t.labels[row]);
  }
  EXPECT_EQ(e.oov_rows, oov);
}

TEST(PreprocessorEncode, EqualsTransformAndVocabularyPerValueForAnyRowsAndThreads) {
  const Table t = table_of(criteo_text(30000, 7));
  std::vector<uint32_t> train(t.rows / 2);
  std::iota(train.begin(), train.end(), 0u);
  PreprocessOptions po;
  po.min_count = 3;
  po.quantiles = 100;
  std::vector<std::string> warnings;
  const Preprocessor pre = Preprocessor::fit(t, train, po, &warnings);
  // A shuffled subset spanning several row blocks, and all rows.
  std::vector<uint32_t> shuffled(t.rows);
  std::iota(shuffled.begin(), shuffled.end(), 0u);
  Rng rng(3);
  for (size_t i = shuffled.size() - 1; i > 0; --i) std::swap(shuffled[i], shuffled[rng.next() % (i + 1)]);
  shuffled.resize(20011);
  const std::vector<uint32_t> few(shuffled.begin(), shuffled.begin() + 100);  // no memo
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    expect_encoding_is_the_definition(pre, t, {}, threads);
    expect_encoding_is_the_definition(pre, t, shuffled, threads);
    expect_encoding_is_the_definition(pre, t, few, threads);
  }
}

TEST(PreprocessorEncode, ResultDoesNotDependOnTheThreadCount) {
  const Table t = table_of(criteo_text(9000, 11));
  std::vector<uint32_t> train(t.rows);
  std::iota(train.begin(), train.end(), 0u);
  std::vector<std::string> warnings;
  const Preprocessor pre = Preprocessor::fit(t, train, PreprocessOptions{}, &warnings);
  const EncodedData one = pre.encode(t, {}, 1);
  const EncodedData two = pre.encode(t, {}, 2);
  EXPECT_EQ(0, std::memcmp(one.x_num.data(), two.x_num.data(), one.x_num.size() * sizeof(float)));
  EXPECT_EQ(one.x_cat, two.x_cat);
  EXPECT_EQ(one.oov_rows, two.oov_rows);
}

}  // namespace
}  // namespace deepcross
