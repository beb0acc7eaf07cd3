#include "data/vocabulary.h"

#include <algorithm>
#include <limits>
#include <string>

#include "core/check.h"
#include "deepcross/error.h"

namespace deepcross {

Vocabulary Vocabulary::fit(const CategoricalColumn& col, std::span<const uint32_t> train_rows,
                           int min_count) {
  if (min_count < 1) {
    throw UsageError("minimum count must be at least 1, got " + std::to_string(min_count),
                     "min_count");
  }
  const size_t n_codes = col.dictionary.size();
  std::vector<int64_t> counts(n_codes, 0);
  for (uint32_t row : train_rows) {
    DC_CHECK(row < col.codes.size());
    const uint32_t code = col.codes[row];
    DC_CHECK(code < n_codes);
    ++counts[code];
  }
  Vocabulary vocab;
  for (size_t code = 0; code < n_codes; ++code) {
    if (col.dictionary[code].empty() || counts[code] == 0) continue;
    if (counts[code] >= min_count) {
      vocab.values_.push_back(col.dictionary[code]);
    } else {
      vocab.oov_train_rows_ += counts[code];
    }
  }
  if (vocab.values_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() - 2)) {
    throw DataError("too many distinct values (" + std::to_string(vocab.values_.size()) +
                        ") for a vocabulary; raise --min-count",
                    "column " + col.name);
  }
  // std::string's operator< compares as unsigned bytes (char_traits<char>::compare).
  std::sort(vocab.values_.begin(), vocab.values_.end());
  vocab.build_index();
  return vocab;
}

Vocabulary Vocabulary::from_values(std::vector<std::string> kept) {
  if (kept.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() - 2)) {
    throw DataError("vocabulary has too many values (" + std::to_string(kept.size()) + ")");
  }
  Vocabulary vocab;
  vocab.values_ = std::move(kept);
  for (size_t i = 0; i < vocab.values_.size(); ++i) {
    if (vocab.values_[i].empty()) {
      throw DataError("vocabulary value " + std::to_string(i + kFirstKept) +
                      " is empty (the empty value has the reserved id 1)");
    }
  }
  vocab.build_index();
  if (vocab.index_.size() != vocab.values_.size()) {
    for (size_t i = 0; i < vocab.values_.size(); ++i) {
      const int32_t first = vocab.index_.find(vocab.values_[i])->second;
      if (first != static_cast<int32_t>(i) + kFirstKept) {
        throw DataError("vocabulary value \"" + vocab.values_[i] + "\" appears twice (ids " +
                        std::to_string(first) + " and " + std::to_string(i + kFirstKept) + ")");
      }
    }
  }
  return vocab;
}

void Vocabulary::build_index() {
  index_.clear();
  index_.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    index_.emplace(values_[i], static_cast<int32_t>(i) + kFirstKept);  // keeps the first
  }
}

int32_t Vocabulary::encode(std::string_view value) const {
  if (value.empty()) return kMissing;
  const auto it = index_.find(value);
  return it == index_.end() ? kOov : it->second;
}

std::vector<int32_t> Vocabulary::encode_dictionary(const std::vector<std::string>& dict) const {
  std::vector<int32_t> ids(dict.size());
  for (size_t code = 0; code < dict.size(); ++code) ids[code] = encode(dict[code]);
  return ids;
}

}  // namespace deepcross
