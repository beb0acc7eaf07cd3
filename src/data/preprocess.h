// Preprocessor: the fitted feature pipeline stored with a model, and the encoded dataset.
//
// Fitted on the training rows only (SPEC.md "Pipeline"; INTERFACE.md):
//   categorical field j → Vocabulary (id 0 = out-of-vocabulary, 1 = missing, 2.. = values
//                         seen at least min_count times in training, byte-sorted)
//   numeric field i     → QuantileTransform (missing → training mean, then scikit-learn's
//                         uniform quantile transform fitted on a seeded ≤ 100k-row sample)
// Any table with the same field names (validation/test files, prediction input, HTTP rows)
// is then encoded the same way: fields are matched by name, so column order may differ.
//
//   Preprocessor pre = Preprocessor::fit(table, split.train, {.min_count = 2, .seed = 42});
//   EncodedData train = pre.encode(table, split.train);
//   EncodedData batch = pre.encode(other_table);   // all rows
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/quantile.h"
#include "data/table.h"
#include "data/vocabulary.h"

namespace deepcross {

struct PreprocessOptions {
  int min_count = 2;
  uint64_t seed = 42;
  size_t quantile_sample = 100000;
  int quantiles = 1000;
};

// Rows in model-ready form: x_num (rows x d_num, transformed), x_cat (rows x n_cat ids).
struct EncodedData {
  size_t rows = 0;
  int num_numeric = 0;
  int num_categorical = 0;
  bool has_labels = false;
  std::vector<float> x_num;
  std::vector<int32_t> x_cat;
  std::vector<float> labels;
  // Rows of each categorical field that fell to the OOV id (unseen or rare values).
  std::vector<int64_t> oov_rows;
};

class Preprocessor {
 public:
  Preprocessor() = default;
  // Fits on `train_rows` of `table`. Warnings (e.g. a numeric column with no value in
  // training) are appended to `warnings`.
  static Preprocessor fit(const Table& table, std::span<const uint32_t> train_rows,
                          const PreprocessOptions& options, std::vector<std::string>* warnings);
  // From stored parts (model loading).
  Preprocessor(std::vector<std::string> numeric_names, std::vector<QuantileTransform> transforms,
               std::vector<std::string> categorical_names, std::vector<Vocabulary> vocabularies);

  // Encodes `rows` of `table` (all rows when `rows` is empty). The table must hold every field
  // of the model under the same name (DataError naming the first missing one) and no
  // others of the opposite kind. `threads` parallelises over fields.
  EncodedData encode(const Table& table, std::span<const uint32_t> rows = {},
                     int threads = 1) const;

  const std::vector<std::string>& numeric_names() const { return numeric_names_; }
  const std::vector<std::string>& categorical_names() const { return categorical_names_; }
  const std::vector<QuantileTransform>& transforms() const { return transforms_; }
  const std::vector<Vocabulary>& vocabularies() const { return vocabularies_; }
  std::vector<int> vocab_sizes() const;

 private:
  std::vector<std::string> numeric_names_;
  std::vector<QuantileTransform> transforms_;
  std::vector<std::string> categorical_names_;
  std::vector<Vocabulary> vocabularies_;
};

}  // namespace deepcross
