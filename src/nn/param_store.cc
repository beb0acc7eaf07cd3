#include "nn/param_store.h"

namespace deepcross {

template <typename T>
int ParamStore<T>::add(std::string name, std::vector<int> shape) {
  DC_CHECK(!finalized_);
  DC_CHECK(find(name) < 0);
  size_t size = 1;
  for (int d : shape) {
    DC_CHECK(d >= 0);
    size *= static_cast<size_t>(d);
  }
  constexpr size_t kAlign = 64 / sizeof(T);
  Entry e{std::move(name), std::move(shape), total_, size};
  total_ += (size + kAlign - 1) / kAlign * kAlign;
  entries_.push_back(std::move(e));
  return static_cast<int>(entries_.size()) - 1;
}

template <typename T>
void ParamStore<T>::finalize() {
  DC_CHECK(!finalized_);
  values_.resize(total_);
  grads_.resize(total_);
  finalized_ = true;
}

template <typename T>
int ParamStore<T>::find(const std::string& name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

template <typename T>
MatrixView<T> ParamStore<T>::as_matrix(int id, T* p) const {
  const Entry& e = entries_[id];
  int rows = e.shape.empty() ? 1 : e.shape[0];
  int cols = rows == 0 ? 0 : static_cast<int>(e.size / static_cast<size_t>(rows));
  if (e.shape.size() == 1) {
    rows = 1;
    cols = e.shape[0];
  }
  return {p, rows, cols};
}

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace deepcross
