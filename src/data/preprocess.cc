#include "data/preprocess.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "deepcross/error.h"

namespace deepcross {

Preprocessor Preprocessor::fit(const Table& table, std::span<const uint32_t> train_rows,
                               const PreprocessOptions& options,
                               std::vector<std::string>* warnings) {
  Preprocessor p;
  const size_t n_num = table.numeric.size(), n_cat = table.categorical.size();
  p.transforms_.resize(n_num);
  p.vocabularies_.resize(n_cat);
#pragma omp parallel for schedule(dynamic)
  for (size_t i = 0; i < n_num + n_cat; ++i) {
    if (i < n_num) {
      // One seed per column, derived from the run's seed, so columns sample independently.
      p.transforms_[i] =
          QuantileTransform::fit(table.numeric[i].values, train_rows, options.seed * 1000003 + i,
                                 options.quantile_sample, options.quantiles);
    } else {
      p.vocabularies_[i - n_num] =
          Vocabulary::fit(table.categorical[i - n_num], train_rows, options.min_count);
    }
  }
  for (size_t i = 0; i < n_num; ++i) {
    p.numeric_names_.push_back(table.numeric[i].name);
    if (p.transforms_[i].empty() && warnings) {
      warnings->push_back("numeric column " + table.numeric[i].name +
                          " has no value in the training rows; it will feed 0");
    }
  }
  for (const auto& c : table.categorical) p.categorical_names_.push_back(c.name);
  return p;
}

Preprocessor::Preprocessor(std::vector<std::string> numeric_names,
                           std::vector<QuantileTransform> transforms,
                           std::vector<std::string> categorical_names,
                           std::vector<Vocabulary> vocabularies)
    : numeric_names_(std::move(numeric_names)),
      transforms_(std::move(transforms)),
      categorical_names_(std::move(categorical_names)),
      vocabularies_(std::move(vocabularies)) {}

std::vector<int> Preprocessor::vocab_sizes() const {
  std::vector<int> out;
  for (const auto& v : vocabularies_) out.push_back(v.size());
  return out;
}

namespace {

template <typename Column>
const Column& find_column(const std::vector<Column>& cols, const std::string& name,
                          const Table& table, const char* kind) {
  for (const auto& c : cols) {
    if (c.name == name) return c;
  }
  const std::string source = table.sources.empty() ? std::string("input") : table.sources.front();
  throw DataError("the model's " + std::string(kind) + " field " + name +
                      " is not in the input",
                  source);
}

}  // namespace

EncodedData Preprocessor::encode(const Table& table, std::span<const uint32_t> rows,
                                 int threads) const {
  std::vector<uint32_t> all;
  if (rows.empty()) {
    all.resize(table.rows);
    std::iota(all.begin(), all.end(), 0u);
    rows = all;
  }
  EncodedData out;
  out.rows = rows.size();
  out.num_numeric = static_cast<int>(numeric_names_.size());
  out.num_categorical = static_cast<int>(categorical_names_.size());
  out.x_num.resize(out.rows * out.num_numeric);
  out.x_cat.resize(out.rows * out.num_categorical);
  out.oov_rows.assign(out.num_categorical, 0);
  std::vector<const NumericColumn*> num(out.num_numeric);
  std::vector<const CategoricalColumn*> cat(out.num_categorical);
  for (int i = 0; i < out.num_numeric; ++i)
    num[i] = &find_column(table.numeric, numeric_names_[i], table, "numeric");
  for (int j = 0; j < out.num_categorical; ++j)
    cat[j] = &find_column(table.categorical, categorical_names_[j], table, "categorical");

  const int d = out.num_numeric, c = out.num_categorical;
  const int nthreads = threads > 0 ? threads : 1;
  // Each categorical field's dictionary (distinct values, in the table's code order) mapped to
  // ids once; rows then only index these.
  std::vector<std::vector<int32_t>> ids(c);
#pragma omp parallel for schedule(dynamic) num_threads(nthreads)
  for (int j = 0; j < c; ++j) ids[j] = vocabularies_[j].encode_dictionary(cat[j]->dictionary);

  // Rows in blocks, every field of a row by the same thread (no two threads write the same
  // cache line of x_num or x_cat). Numeric values repeat a lot (Criteo's are mostly small
  // integers), so each thread keeps a direct-mapped memo of transform() per field, keyed by
  // the value's bits; the empty slots hold a NaN's bits, which no looked-up value has (NaN,
  // missing, transforms as the field's mean: nan_y).
  constexpr size_t kBlock = 4096;
  constexpr int kMemoBits = 10;
  const size_t blocks = (out.rows + kBlock - 1) / kBlock;
  std::vector<float> nan_y(d);
  for (int f = 0; f < d; ++f) nan_y[f] = transforms_[f].transform(std::numeric_limits<float>::quiet_NaN());
  std::vector<int64_t> oov_total(c, 0);
#pragma omp parallel num_threads(nthreads) if (blocks > 1)
  {
    struct Slot {
      uint32_t bits;
      float y;
    };
    // Worth its set-up (8 KiB per field) only for many rows: a served request has one.
    const bool memoize = out.rows >= kBlock;
    std::vector<Slot> memo(memoize ? static_cast<size_t>(d) << kMemoBits : 0,
                           Slot{0xFFFFFFFFu, 0.0f});
    std::vector<int64_t> oov(c, 0);
#pragma omp for schedule(static)
    for (size_t blk = 0; blk < blocks; ++blk) {
      const size_t end = std::min(out.rows, (blk + 1) * kBlock);
      for (size_t r = blk * kBlock; r < end; ++r) {
        const uint32_t row = rows[r];
        float* xn = out.x_num.data() + r * d;
        for (int f = 0; f < d; ++f) {
          const float x = num[f]->values[row];
          if (std::isnan(x)) {
            xn[f] = nan_y[f];
            continue;
          }
          if (!memoize) {
            xn[f] = transforms_[f].transform(x);
            continue;
          }
          uint32_t bits;
          std::memcpy(&bits, &x, sizeof bits);
          Slot& slot = memo[(static_cast<size_t>(f) << kMemoBits) |
                            ((bits * 0x9E3779B1u) >> (32 - kMemoBits))];
          if (slot.bits != bits) slot = {bits, transforms_[f].transform(x)};
          xn[f] = slot.y;
        }
        int32_t* xc = out.x_cat.data() + r * c;
        for (int j = 0; j < c; ++j) {
          const int32_t id = ids[j][cat[j]->codes[row]];
          xc[j] = id;
          oov[j] += id == Vocabulary::kOov;
        }
      }
    }
#pragma omp critical
    for (int j = 0; j < c; ++j) oov_total[j] += oov[j];
  }
  out.oov_rows = std::move(oov_total);
  if (table.has_label) {
    out.has_labels = true;
    out.labels.resize(out.rows);
    for (size_t r = 0; r < out.rows; ++r) out.labels[r] = table.labels[rows[r]];
  }
  return out;
}

}  // namespace deepcross
