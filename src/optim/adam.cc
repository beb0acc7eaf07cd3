#include "optim/adam.h"

#include <algorithm>
#include <cmath>

namespace deepcross {

template <typename T>
void adam_update(T* param, const T* grad, T* m, T* v, size_t n, const AdamOptions& o, int64_t t) {
  // Scalars as torch computes them: in double, then applied to the T tensor.
  const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
  const T step_size = static_cast<T>(o.lr / bc1);
  const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
  const T one_minus_b1 = static_cast<T>(1.0 - o.beta1), one_minus_b2 = static_cast<T>(1.0 - o.beta2);
  const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (size_t i = 0; i < n; ++i) {
    T g = grad ? grad[i] : T(0);
    if (wd != T(0)) g += wd * param[i];
    m[i] = m[i] * b1 + g * one_minus_b1;
    v[i] = v[i] * b2 + g * g * one_minus_b2;
    const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
    param[i] -= step_size * (m[i] / denom);
  }
}

template <typename T>
Adam<T>::Adam(ParamStore<T>& dense, std::vector<EmbeddingTable<T>>& tables,
              const AdamOptions& options)
    : dense_(&dense), tables_(&tables), options_(options) {
  m_.resize(dense.values().size());
  v_.resize(dense.values().size());
  int widest = 0;
  for (auto& t : tables) {
    table_m_.emplace_back(t.weight.size());
    table_v_.emplace_back(t.weight.size());
    widest = std::max(widest, t.width);
  }
  zero_row_.resize(widest);
}

template <typename T>
void Adam<T>::step() {
  ++t_;
  adam_update(dense_->values().data(), dense_->grads().data(), m_.data(), v_.data(),
              dense_->values().size(), options_, t_);
  for (size_t k = 0; k < tables_->size(); ++k) {
    EmbeddingTable<T>& tab = (*tables_)[k];
    T* w = tab.weight.data();
    T* m = table_m_[k].data();
    T* v = table_v_[k].data();
    const size_t width = tab.width;
    if (options_.mode == OptimizerMode::kExact) {
      for (int r = 0; r < tab.rows; ++r) {
        const T* g = tab.grad.find(r);
        const size_t off = static_cast<size_t>(r) * width;
        adam_update(w + off, g, m + off, v + off, width, options_, t_);
      }
    } else {
      const auto& rows = tab.grad.rows();
      for (size_t i = 0; i < rows.size(); ++i) {
        const size_t off = static_cast<size_t>(rows[i]) * width;
        adam_update(w + off, tab.grad.row(i), m + off, v + off, width, options_, t_);
      }
    }
  }
}

template void adam_update(float*, const float*, float*, float*, size_t, const AdamOptions&,
                          int64_t);
template void adam_update(double*, const double*, double*, double*, size_t, const AdamOptions&,
                          int64_t);
template class Adam<float>;
template class Adam<double>;

}  // namespace deepcross
