#include "nn/cross_vector.h"

#include <cmath>

#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
CrossVector<T>::CrossVector(ParamStore<T>& store, int width, int layers)
    : CrossNet<T>(store, width, layers) {
  for (int l = 0; l < layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    w_.push_back(store.add(p + ".w", {width}));
    b_.push_back(store.add(p + ".b", {width}));
  }
}

template <typename T>
void CrossVector<T>::init(Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(this->d_));
  for (int l = 0; l < this->layers_; ++l) {
    init_uniform(this->store_->value(w_[l]), this->d_, bound, rng);
    init_constant(this->store_->value(b_[l]), this->d_, T(0));
  }
}

template <typename T>
void CrossVector<T>::reserve_scratch(int max_batch) {
  s_.resize(this->layers_);
  for (auto& s : s_) s.resize(max_batch);
  ds_.resize(max_batch);
}

template <typename T>
void CrossVector<T>::layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                   MatrixView<T> next) {
  const int B = xl.rows, D = this->d_;
  const T* w = this->store_->value(w_[l]);
  const T* bias = this->store_->value(b_[l]);
  T* s = s_[l].data();
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* x = xl.row(b);
    const T* a = x0.row(b);
    // `omp simd`: partial sums in vector lanes (a plain float reduction stays scalar — one
    // dependent add per element); a fixed order for a given build, the same for every row.
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int j = 0; j < D; ++j) dot += x[j] * w[j];
    s[b] = dot;
    T* o = next.row(b);
    for (int j = 0; j < D; ++j) o[j] = a[j] * dot + bias[j] + x[j];
  }
}

template <typename T>
void CrossVector<T>::layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                    MatrixView<T> g, MatrixView<T> dx0) {
  const int B = xl.rows, D = this->d_;
  const T* w = this->store_->value(w_[l]);
  const T* s = s_[l].data();
  T* ds = ds_.data();
  add_column_sums<T>(g, this->store_->grad(b_[l]));
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* gr = g.row(b);
    const T* a = x0.row(b);
    T* o = dx0.row(b);
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int j = 0; j < D; ++j) {
      acc += gr[j] * a[j];
      o[j] += gr[j] * s[b];
    }
    ds[b] = acc;
  }
  blocked_column_sums<T>(B, D, this->store_->grad(w_[l]), [&](int b, T* acc) {
    const T* x = xl.row(b);
    for (int j = 0; j < D; ++j) acc[j] += ds[b] * x[j];
  });
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    T* gr = g.row(b);
    for (int j = 0; j < D; ++j) gr[j] += ds[b] * w[j];
  }
}

template class CrossVector<float>;
template class CrossVector<double>;

}  // namespace deepcross
