// Embeddings: one table per categorical field, gathered straight into x0.
//
//   x0 = concat(x_num, E_1[x_cat_1], ..., E_n[x_cat_n])      (B x D)
//   E_j: c_j rows x d_j columns, d_j = min(max(floor(sqrt(c_j)), 2), d_embed_max), init N(0, 1)
//
// Backward scatters the x0 gradient of each field's columns into a sparse row gradient:
// the rows a batch touched, each summed over the batch rows that used it (SparseRows). The
// optimizer reads those rows; the dense (exact) Adam treats untouched rows as zero gradient,
// the lazy one skips them. Nothing here allocates after reserve().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace deepcross {

// Gradient rows of one table for one batch: rows() lists the touched ids (first-touch order)
// and row(i) their summed gradients. clear() forgets them in O(touched).
template <typename T>
class SparseRows {
 public:
  void reserve(int table_rows, int width, int max_touched);
  T* accumulate(int32_t id);  // the gradient row of `id` (zeroed on first touch)
  const std::vector<int32_t>& rows() const { return rows_; }
  T* row(size_t i) { return values_.data() + i * width_; }
  const T* row(size_t i) const { return values_.data() + i * width_; }
  // Gradient row of `id`, or nullptr when the batch did not touch it.
  const T* find(int32_t id) const {
    int32_t s = slot_[id];
    return s < 0 ? nullptr : values_.data() + static_cast<size_t>(s) * width_;
  }
  void clear();

 private:
  int width_ = 0;
  std::vector<int32_t> slot_;  // id -> index into rows_, or -1
  std::vector<int32_t> rows_;
  Buffer<T> values_;
};

template <typename T>
struct EmbeddingTable {
  std::string name;  // "embedding.<j>"
  int rows = 0;      // c_j
  int width = 0;     // d_j
  Buffer<T> weight;  // rows x width
  SparseRows<T> grad;

  MatrixView<T> matrix() { return {weight.data(), rows, width}; }
};

template <typename T>
class Embeddings {
 public:
  // allocate = false leaves the tables without rows of their own (see share_weights_from).
  Embeddings(int num_numeric, const std::vector<int>& vocab_sizes, int embed_max,
             bool allocate = true);
  // Reads the rows of `source`'s tables from now on (read-only; inference clones). `source`
  // must outlive this object and have the same layout.
  void share_weights_from(const Embeddings& source);
  void reserve(int max_batch);
  int width() const { return width_; }  // D
  int num_numeric() const { return num_numeric_; }
  int column(int field) const { return offsets_[field]; }  // first x0 column of field j
  std::vector<EmbeddingTable<T>>& tables() { return tables_; }
  const std::vector<EmbeddingTable<T>>& tables() const { return tables_; }

  // x0 (B x D) from x_num (B x d_num, row stride d_num) and x_cat (B x n_cat ids).
  void forward(int batch, const T* x_num, const int32_t* x_cat, MatrixView<T> x0) const;
  // Adds dx0's field columns into the tables' sparse gradients (clears them first).
  void backward(int batch, const int32_t* x_cat, ConstMatrixView<T> dx0);

 private:
  int num_numeric_;
  int width_;
  std::vector<int> offsets_;
  std::vector<EmbeddingTable<T>> tables_;
  const Embeddings* shared_ = nullptr;
};

}  // namespace deepcross
