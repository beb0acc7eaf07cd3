#include "optim/adam.h"

#include <algorithm>
#include <cmath>

namespace deepcross {

namespace {

// The per-step scalars, computed once (in double, as torch does) and applied to T arrays.
template <typename T>
struct AdamStep {
  T step_size, bc2_sqrt, b1, b2, one_minus_b1, one_minus_b2, wd, eps;
  AdamStep(const AdamOptions& o, int64_t t) {
    const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
    step_size = static_cast<T>(o.lr / bc1);
    bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    b1 = static_cast<T>(o.beta1);
    b2 = static_cast<T>(o.beta2);
    one_minus_b1 = static_cast<T>(1.0 - o.beta1);
    one_minus_b2 = static_cast<T>(1.0 - o.beta2);
    wd = static_cast<T>(o.weight_decay);
    eps = static_cast<T>(o.eps);
  }
  // One element; grad may be null (a zero gradient: only weight decay and the moments act).
  inline void apply(T* param, const T* grad, T* m, T* v, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      T g = grad ? grad[i] : T(0);
      g += wd * param[i];
      m[i] = m[i] * b1 + g * one_minus_b1;
      v[i] = v[i] * b2 + g * g * one_minus_b2;
      const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      param[i] -= step_size * (m[i] / denom);
    }
  }
};

}  // namespace

template <typename T>
void adam_update(T* param, const T* grad, T* m, T* v, size_t n, const AdamOptions& o, int64_t t) {
  const AdamStep<T> s(o, t);
  constexpr size_t kChunk = 4096;
  const size_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 8)
  for (size_t c = 0; c < chunks; ++c) {
    const size_t at = c * kChunk, len = std::min(kChunk, n - at);
    s.apply(param + at, grad ? grad + at : nullptr, m + at, v + at, len);
  }
}

template <typename T>
Adam<T>::Adam(ParamStore<T>& dense, std::vector<EmbeddingTable<T>>& tables,
              const AdamOptions& options)
    : dense_(&dense), tables_(&tables), options_(options) {
  m_.resize(dense.values().size());
  v_.resize(dense.values().size());
  for (auto& t : tables) {
    table_m_.emplace_back(t.weight.size());
    table_v_.emplace_back(t.weight.size());
    table_grad_.emplace_back(options.mode == OptimizerMode::kExact ? t.weight.size() : 0);
  }
}

template <typename T>
void Adam<T>::step() {
  ++t_;
  adam_update(dense_->values().data(), dense_->grads().data(), m_.data(), v_.data(),
              dense_->values().size(), options_, t_);
  const AdamStep<T> s(options_, t_);
  for (size_t k = 0; k < tables_->size(); ++k) {
    EmbeddingTable<T>& tab = (*tables_)[k];
    T* w = tab.weight.data();
    T* m = table_m_[k].data();
    T* v = table_v_[k].data();
    const size_t width = tab.width;
    if (options_.mode == OptimizerMode::kExact) {
      // Every row, every step: torch's dense Adam on nn.Embedding (untouched rows have a zero
      // gradient, so weight decay and their moments still move them). The touched rows'
      // gradients are scattered into a dense zero table, one long vectorised sweep updates
      // the whole table, and the touched rows are zeroed again.
      T* g = table_grad_[k].data();
      const auto& touched = tab.grad.rows();
      for (size_t i = 0; i < touched.size(); ++i) {
        std::copy(tab.grad.row(i), tab.grad.row(i) + width, g + static_cast<size_t>(touched[i]) * width);
      }
      adam_update(w, g, m, v, tab.weight.size(), options_, t_);
      for (int32_t r : touched) std::fill(g + static_cast<size_t>(r) * width, g + (r + 1) * width, T(0));
    } else {
      // Only the rows this batch touched.
      const auto& touched = tab.grad.rows();
      const int count = static_cast<int>(touched.size());
#pragma omp parallel for schedule(static) if (count >= 4096)
      for (int i = 0; i < count; ++i) {
        const size_t off = static_cast<size_t>(touched[i]) * width;
        s.apply(w + off, tab.grad.row(i), m + off, v + off, width);
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
