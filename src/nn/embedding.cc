#include "nn/embedding.h"

#include <algorithm>
#include <cstring>

#include "nn/config.h"

namespace deepcross {

template <typename T>
void SparseRows<T>::reserve(int table_rows, int width, int max_touched) {
  width_ = width;
  slot_.assign(table_rows, -1);
  rows_.clear();
  rows_.reserve(max_touched);
  values_.resize(static_cast<size_t>(max_touched) * width);
}

template <typename T>
T* SparseRows<T>::accumulate(int32_t id) {
  int32_t s = slot_[id];
  if (s < 0) {
    s = static_cast<int32_t>(rows_.size());
    DC_CHECK(static_cast<size_t>(s + 1) * width_ <= values_.size());
    slot_[id] = s;
    rows_.push_back(id);
    std::memset(values_.data() + static_cast<size_t>(s) * width_, 0, sizeof(T) * width_);
  }
  return values_.data() + static_cast<size_t>(s) * width_;
}

template <typename T>
void SparseRows<T>::clear() {
  for (int32_t id : rows_) slot_[id] = -1;
  rows_.clear();
}

template <typename T>
Embeddings<T>::Embeddings(int num_numeric, const std::vector<int>& vocab_sizes, int embed_max,
                          bool allocate)
    : num_numeric_(num_numeric), width_(num_numeric) {
  tables_.resize(vocab_sizes.size());
  for (size_t j = 0; j < vocab_sizes.size(); ++j) {
    EmbeddingTable<T>& t = tables_[j];
    t.name = "embedding." + std::to_string(j);
    t.rows = vocab_sizes[j];
    t.width = embedding_width(vocab_sizes[j], embed_max);
    if (allocate) t.weight.resize(static_cast<size_t>(t.rows) * t.width);
    offsets_.push_back(width_);
    width_ += t.width;
  }
}

template <typename T>
void Embeddings<T>::share_weights_from(const Embeddings& source) {
  DC_CHECK(source.tables_.size() == tables_.size() && source.width_ == width_);
  for (size_t j = 0; j < tables_.size(); ++j) {
    DC_CHECK(source.tables_[j].rows == tables_[j].rows);
    tables_[j].weight.resize(0);
  }
  shared_ = &source;
}

template <typename T>
void Embeddings<T>::reserve(int max_batch) {
  // An inference clone (shared weights) never runs backward: no gradient rows, whose index
  // alone is a slot per table row (megabytes for the large fields, per scoring thread).
  if (shared_) return;
  for (auto& t : tables_) t.grad.reserve(t.rows, t.width, std::min(t.rows, max_batch));
}

template <typename T>
void Embeddings<T>::forward(int batch, const T* x_num, const int32_t* x_cat,
                            MatrixView<T> x0) const {
  const int n_cat = static_cast<int>(tables_.size());
  const std::vector<EmbeddingTable<T>>& tables = shared_ ? shared_->tables_ : tables_;
#pragma omp parallel for schedule(static) if (batch >= 256)
  for (int b = 0; b < batch; ++b) {
    T* out = x0.row(b);
    if (num_numeric_ > 0) {
      std::memcpy(out, x_num + static_cast<size_t>(b) * num_numeric_, sizeof(T) * num_numeric_);
    }
    const int32_t* ids = x_cat + static_cast<size_t>(b) * n_cat;
    for (int j = 0; j < n_cat; ++j) {
      const EmbeddingTable<T>& t = tables[j];
      const int32_t id = ids[j];
      DC_CHECK(id >= 0 && id < t.rows);
      std::memcpy(out + offsets_[j], t.weight.data() + static_cast<size_t>(id) * t.width,
                  sizeof(T) * t.width);
    }
  }
}

template <typename T>
void Embeddings<T>::backward(int batch, const int32_t* x_cat, ConstMatrixView<T> dx0) {
  DC_CHECK(shared_ == nullptr);  // inference clones have no gradients
  const int n_cat = static_cast<int>(tables_.size());
  // Each field is independent: parallel over fields, serial over the batch, so every row's
  // sum is taken in batch order (deterministic for any thread count).
#pragma omp parallel for schedule(dynamic) if (batch >= 256)
  for (int j = 0; j < n_cat; ++j) {
    EmbeddingTable<T>& t = tables_[j];
    t.grad.clear();
    const int off = offsets_[j];
    for (int b = 0; b < batch; ++b) {
      T* g = t.grad.accumulate(x_cat[static_cast<size_t>(b) * n_cat + j]);
      const T* d = dx0.row(b) + off;
      for (int k = 0; k < t.width; ++k) g[k] += d[k];
    }
  }
}

template class SparseRows<float>;
template class SparseRows<double>;
template class Embeddings<float>;
template class Embeddings<double>;

}  // namespace deepcross
