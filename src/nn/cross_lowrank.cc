#include "nn/cross_lowrank.h"

#include "core/blas.h"
#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
CrossLowRank<T>::CrossLowRank(ParamStore<T>& store, int width, int layers, int rank)
    : CrossNet<T>(store, width, layers), r_(rank) {
  for (int l = 0; l < layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    u_.push_back(store.add(p + ".U", {width, rank}));
    v_.push_back(store.add(p + ".V", {width, rank}));
    b_.push_back(store.add(p + ".b", {width}));
  }
}

template <typename T>
void CrossLowRank<T>::init(Rng& rng) {
  const size_t n = static_cast<size_t>(this->d_) * r_;
  const double std = xavier_std({this->d_, r_});
  for (int l = 0; l < this->layers_; ++l) {
    init_normal(this->store_->value(u_[l]), n, std, rng);
    init_normal(this->store_->value(v_[l]), n, std, rng);
    init_constant(this->store_->value(b_[l]), this->d_, T(0));
  }
}

template <typename T>
void CrossLowRank<T>::reserve_scratch(int max_batch) {
  p_.resize(this->layers_);
  z_.resize(this->layers_);
  for (int l = 0; l < this->layers_; ++l) {
    p_[l].resize(static_cast<size_t>(max_batch) * r_);
    z_[l].resize(static_cast<size_t>(max_batch) * this->d_);
  }
  dz_.resize(static_cast<size_t>(max_batch) * this->d_);
  dp_.resize(static_cast<size_t>(max_batch) * r_);
}

template <typename T>
void CrossLowRank<T>::layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                    MatrixView<T> next) {
  const int B = xl.rows, D = this->d_;
  MatrixView<T> p{p_[l].data(), B, r_}, z{z_[l].data(), B, D};
  gemm<T>(Trans::kNo, Trans::kNo, T(1), xl, this->store_->matrix(v_[l]), T(0), p);
  gemm<T>(Trans::kNo, Trans::kYes, T(1), p, this->store_->matrix(u_[l]), T(0), z);
  const T* bias = this->store_->value(b_[l]);
  cross_output<T>(x0, xl, bias, z, next);
}

template <typename T>
void CrossLowRank<T>::layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                     MatrixView<T> g, MatrixView<T> dx0) {
  const int B = xl.rows, D = this->d_;
  MatrixView<T> p{p_[l].data(), B, r_}, z{z_[l].data(), B, D};
  MatrixView<T> dz{dz_.data(), B, D}, dp{dp_.data(), B, r_};
  cross_output_backward<T>(g, x0, z, dz, dx0);
  gemm<T>(Trans::kYes, Trans::kNo, T(1), dz, p, T(1), this->store_->grad_matrix(u_[l]));
  add_column_sums<T>(dz, this->store_->grad(b_[l]));
  gemm<T>(Trans::kNo, Trans::kNo, T(1), dz, this->store_->matrix(u_[l]), T(0), dp);
  gemm<T>(Trans::kYes, Trans::kNo, T(1), xl, dp, T(1), this->store_->grad_matrix(v_[l]));
  gemm<T>(Trans::kNo, Trans::kYes, T(1), dp, this->store_->matrix(v_[l]), T(1), g);
}

template class CrossLowRank<float>;
template class CrossLowRank<double>;

}  // namespace deepcross
