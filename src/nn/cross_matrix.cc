#include "nn/cross_matrix.h"

#include <cmath>

#include "core/blas.h"
#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
CrossMatrix<T>::CrossMatrix(ParamStore<T>& store, int width, int layers)
    : CrossNet<T>(store, width, layers) {
  for (int l = 0; l < layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    w_.push_back(store.add(p + ".W", {width, width}));
    b_.push_back(store.add(p + ".b", {width}));
  }
}

template <typename T>
void CrossMatrix<T>::init(Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(this->d_));
  for (int l = 0; l < this->layers_; ++l) {
    init_uniform(this->store_->value(w_[l]), static_cast<size_t>(this->d_) * this->d_, bound, rng);
    init_uniform(this->store_->value(b_[l]), this->d_, bound, rng);
  }
}

template <typename T>
void CrossMatrix<T>::reserve_scratch(int max_batch) {
  z_.resize(this->layers_);
  for (auto& z : z_) z.resize(static_cast<size_t>(max_batch) * this->d_);
  dz_.resize(static_cast<size_t>(max_batch) * this->d_);
}

template <typename T>
void CrossMatrix<T>::layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                   MatrixView<T> next) {
  const int B = xl.rows, D = this->d_;
  MatrixView<T> z{z_[l].data(), B, D};
  gemm<T>(Trans::kNo, Trans::kYes, T(1), xl, this->store_->matrix(w_[l]), T(0), z);
  const T* bias = this->store_->value(b_[l]);
  cross_output<T>(x0, xl, bias, z, next);
}

template <typename T>
void CrossMatrix<T>::layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                    MatrixView<T> g, MatrixView<T> dx0) {
  const int B = xl.rows, D = this->d_;
  MatrixView<T> z{z_[l].data(), B, D}, dz{dz_.data(), B, D};
  cross_output_backward<T>(g, x0, z, dz, dx0);
  gemm<T>(Trans::kYes, Trans::kNo, T(1), dz, xl, T(1), this->store_->grad_matrix(w_[l]));
  add_column_sums<T>(dz, this->store_->grad(b_[l]));
  gemm<T>(Trans::kNo, Trans::kNo, T(1), dz, this->store_->matrix(w_[l]), T(1), g);
}

template class CrossMatrix<float>;
template class CrossMatrix<double>;

}  // namespace deepcross
