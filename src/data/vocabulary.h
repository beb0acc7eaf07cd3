// Vocabulary: the map from a categorical field's raw values to embedding-table rows.
//
// Fitted on the TRAINING rows only and stored in the model. Row 0 is the out-of-vocabulary
// id (values never seen in training, or seen fewer than `min_count` times), row 1 is the
// empty (missing) value, always reserved, and the kept values get ids 2.. in byte-wise
// sorted order of their strings, so the ids depend only on the training counts, never on
// the row order. Training rows whose value is rarer than `min_count` map to OOV too, which
// gives the OOV embedding training signal (SPEC.md, last paragraph).
//
//   Vocabulary vocab = Vocabulary::fit(table.categorical[j], split.train, /*min_count=*/2);
//   std::vector<int32_t> ids = vocab.encode_dictionary(table.categorical[j].dictionary);
//   int32_t id = ids[table.categorical[j].codes[row]];   // per row: an array lookup
//   vocab.encode("68fd1e64");                            // one value: a hash lookup
//   vocab.size();                                        // embedding rows: kept + 2
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/table.h"

namespace deepcross {

class Vocabulary {
 public:
  static constexpr int32_t kOov = 0;      // out-of-vocabulary: unseen or rarer than min_count
  static constexpr int32_t kMissing = 1;  // the empty value (always reserved, even if unseen)
  static constexpr int32_t kFirstKept = 2;

  // Counts `col.codes[r]` over the rows r in `train_rows`; the non-empty values with
  // count >= min_count get ids 2.. in byte-wise sorted order of their strings.
  // Throws UsageError if min_count < 1 (a count of 0 would keep values no training row has).
  static Vocabulary fit(const CategoricalColumn& col, std::span<const uint32_t> train_rows,
                        int min_count);

  // For loading from a model file: `kept[i]` gets id i + 2. Throws DataError if a value is
  // empty or repeated (the reader adds where in the file).
  static Vocabulary from_values(std::vector<std::string> kept);

  Vocabulary() = default;

  // "" -> kMissing; a kept value -> its id; anything else -> kOov.
  int32_t encode(std::string_view value) const;
  // The id of every entry of an interned dictionary (code -> id), for encoding whole columns.
  std::vector<int32_t> encode_dictionary(const std::vector<std::string>& dict) const;

  // Embedding-table rows: kept values + 2.
  int32_t size() const { return static_cast<int32_t>(values_.size()) + kFirstKept; }
  // The kept values; values()[i] has id i + 2.
  const std::vector<std::string>& values() const { return values_; }
  // Training rows mapped to OOV because their value was rarer than min_count (0 after
  // from_values).
  int64_t oov_train_rows() const { return oov_train_rows_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void build_index();

  std::vector<std::string> values_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index_;
  int64_t oov_train_rows_ = 0;
};

}  // namespace deepcross
