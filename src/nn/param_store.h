// ParamStore: the one owner of the dense parameters and their gradients.
//
// Layers register their parameters by name and shape while the model is built; finalize()
// then allocates one flat, aligned buffer of values and one of gradients, so the optimizer
// sweeps a single array and save/load walks one list. Layers keep the integer id and ask
// for views when they run. Embedding tables are not here: they own their rows and sparse
// row gradients (nn/embedding.h), which lets the optimizer update them lazily.
//
//   ParamStore<float> store;
//   int w = store.add("cross.0.W", {D, D});
//   store.finalize();
//   MatrixView<float> W = store.matrix(w);   // D x D, row-major
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace deepcross {

template <typename T>
class ParamStore {
 public:
  struct Entry {
    std::string name;
    std::vector<int> shape;
    size_t offset = 0;  // into values()/grads(), in elements (64-byte aligned)
    size_t size = 0;    // product of shape
  };

  int add(std::string name, std::vector<int> shape);
  void finalize();
  bool finalized() const { return finalized_; }

  int find(const std::string& name) const;  // -1 when absent
  const Entry& entry(int id) const { return entries_[id]; }
  const std::vector<Entry>& entries() const { return entries_; }

  T* value(int id) { return values_.data() + entries_[id].offset; }
  const T* value(int id) const { return values_.data() + entries_[id].offset; }
  T* grad(int id) { return grads_.data() + entries_[id].offset; }
  // The parameter as a matrix: rows = shape[0], cols = product of the rest (1 for 1-d).
  MatrixView<T> matrix(int id) { return as_matrix(id, value(id)); }
  MatrixView<T> grad_matrix(int id) { return as_matrix(id, grad(id)); }

  Buffer<T>& values() { return values_; }
  const Buffer<T>& values() const { return values_; }
  Buffer<T>& grads() { return grads_; }
  void zero_grad() { grads_.zero(); }

 private:
  MatrixView<T> as_matrix(int id, T* p) const;
  std::vector<Entry> entries_;
  size_t total_ = 0;
  bool finalized_ = false;
  Buffer<T> values_;
  Buffer<T> grads_;
};

}  // namespace deepcross
