#include "nn/cross_mix.h"

#include <algorithm>
#include <cmath>

#include "core/blas.h"
#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
CrossMix<T>::CrossMix(ParamStore<T>& store, int width, int layers, int rank, int experts)
    : CrossNet<T>(store, width, layers), r_(rank), k_(experts) {
  for (int l = 0; l < layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    u_.push_back(store.add(p + ".U", {experts, width, rank}));
    v_.push_back(store.add(p + ".V", {experts, width, rank}));
    c_.push_back(store.add(p + ".C", {experts, rank, rank}));
    b_.push_back(store.add(p + ".b", {width}));
  }
  gate_ = store.add("cross.gate", {experts, width});
}

template <typename T>
void CrossMix<T>::init(Rng& rng) {
  const int D = this->d_;
  const size_t n_uv = static_cast<size_t>(k_) * D * r_;
  const size_t n_c = static_cast<size_t>(k_) * r_ * r_;
  const double std_uv = xavier_std({k_, D, r_});
  const double std_c = xavier_std({k_, r_, r_});
  for (int l = 0; l < this->layers_; ++l) {
    init_normal(this->store_->value(u_[l]), n_uv, std_uv, rng);
    init_normal(this->store_->value(v_[l]), n_uv, std_uv, rng);
    init_normal(this->store_->value(c_[l]), n_c, std_c, rng);
    init_constant(this->store_->value(b_[l]), D, T(0));
  }
  init_uniform(this->store_->value(gate_), static_cast<size_t>(k_) * D,
               1.0 / std::sqrt(static_cast<double>(D)), rng);
}

template <typename T>
void CrossMix<T>::reserve_scratch(int max_batch) {
  max_batch_ = max_batch;
  const size_t B = max_batch, D = this->d_;
  pi_.resize(this->layers_);
  a_.resize(this->layers_);
  c_act_.resize(this->layers_);
  z_.resize(this->layers_);
  for (int l = 0; l < this->layers_; ++l) {
    pi_[l].resize(B * k_);
    a_[l].resize(k_ * B * r_);
    c_act_[l].resize(k_ * B * r_);
    z_[l].resize(k_ * B * D);
  }
  gx_.resize(B * D);
  dz_.resize(B * D);
  dc_.resize(B * r_);
  da_.resize(B * r_);
  dpi_.resize(B * k_);
}

template <typename T>
MatrixView<T> CrossMix<T>::expert(int id, int k, int rows, int cols) {
  return {this->store_->value(id) + static_cast<size_t>(k) * rows * cols, rows, cols};
}

template <typename T>
MatrixView<T> CrossMix<T>::grad_expert(int id, int k, int rows, int cols) {
  return {this->store_->grad(id) + static_cast<size_t>(k) * rows * cols, rows, cols};
}

template <typename T>
void CrossMix<T>::layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                MatrixView<T> next) {
  const int B = xl.rows, D = this->d_, K = k_, R = r_;
  const size_t BR = static_cast<size_t>(max_batch_) * R, BD = static_cast<size_t>(max_batch_) * D;
  // Gates: π = softmax(x_l Gᵀ), row-wise, max-subtracted.
  MatrixView<T> pi{pi_[l].data(), B, K};
  gemm<T>(Trans::kNo, Trans::kYes, T(1), xl, this->store_->matrix(gate_), T(0), pi);
  for (int b = 0; b < B; ++b) {
    T* p = pi.row(b);
    T m = *std::max_element(p, p + K);
    T s = 0;
    for (int k = 0; k < K; ++k) s += (p[k] = std::exp(p[k] - m));
    for (int k = 0; k < K; ++k) p[k] /= s;
  }
  const T* bias = this->store_->value(b_[l]);
  for (int k = 0; k < K; ++k) {
    MatrixView<T> a{a_[l].data() + k * BR, B, R}, c{c_act_[l].data() + k * BR, B, R};
    MatrixView<T> z{z_[l].data() + k * BD, B, D};
    gemm<T>(Trans::kNo, Trans::kNo, T(1), xl, expert(v_[l], k, D, R), T(0), a);
    for (int b = 0; b < B; ++b) {
      T* r = a.row(b);
      for (int j = 0; j < R; ++j) r[j] = std::tanh(r[j]);
    }
    gemm<T>(Trans::kNo, Trans::kNo, T(1), a, expert(c_[l], k, R, R), T(0), c);
    for (int b = 0; b < B; ++b) {
      T* r = c.row(b);
      for (int j = 0; j < R; ++j) r[j] = std::tanh(r[j]);
    }
    gemm<T>(Trans::kNo, Trans::kYes, T(1), c, expert(u_[l], k, D, R), T(0), z);
    add_row_vector(z, bias);
  }
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* a0 = x0.row(b);
    const T* x = xl.row(b);
    const T* p = pi.row(b);
    T* o = next.row(b);
    for (int j = 0; j < D; ++j) o[j] = 0;
    for (int k = 0; k < K; ++k) {
      const T* z = z_[l].data() + k * BD + static_cast<size_t>(b) * D;
      for (int j = 0; j < D; ++j) o[j] += p[k] * (a0[j] * z[j]);
    }
    for (int j = 0; j < D; ++j) o[j] += x[j];
  }
}

template <typename T>
void CrossMix<T>::layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                 MatrixView<T> g, MatrixView<T> dx0) {
  const int B = xl.rows, D = this->d_, K = k_, R = r_;
  const size_t BR = static_cast<size_t>(max_batch_) * R, BD = static_cast<size_t>(max_batch_) * D;
  MatrixView<T> pi{pi_[l].data(), B, K}, gx{gx_.data(), B, D}, dpi{dpi_.data(), B, K};
  // gx = g ⊙ x0;  dx0 += g ⊙ Σ_k π_k z_k;  dπ_k = Σ_j gx_j z_kj.
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* gr = g.row(b);
    const T* a0 = x0.row(b);
    const T* p = pi.row(b);
    T* gxr = gx.row(b);
    T* o = dx0.row(b);
    T* dp = dpi.row(b);
    for (int j = 0; j < D; ++j) gxr[j] = gr[j] * a0[j];
    for (int k = 0; k < K; ++k) {
      const T* z = z_[l].data() + k * BD + static_cast<size_t>(b) * D;
      T acc = 0;
      for (int j = 0; j < D; ++j) {
        acc += gxr[j] * z[j];
        o[j] += gr[j] * p[k] * z[j];
      }
      dp[k] = acc;
    }
  }
  add_column_sums<T>(gx, this->store_->grad(b_[l]));
  MatrixView<T> dz{dz_.data(), B, D}, dc{dc_.data(), B, R}, da{da_.data(), B, R};
  for (int k = 0; k < K; ++k) {
    MatrixView<T> a{a_[l].data() + k * BR, B, R}, c{c_act_[l].data() + k * BR, B, R};
    for (int b = 0; b < B; ++b) {
      const T pk = pi(b, k);
      const T* gxr = gx.row(b);
      T* d = dz.row(b);
      for (int j = 0; j < D; ++j) d[j] = pk * gxr[j];
    }
    gemm<T>(Trans::kYes, Trans::kNo, T(1), dz, c, T(1), grad_expert(u_[l], k, D, R));
    gemm<T>(Trans::kNo, Trans::kNo, T(1), dz, expert(u_[l], k, D, R), T(0), dc);
    for (int b = 0; b < B; ++b) {
      T* d = dc.row(b);
      const T* cr = c.row(b);
      for (int j = 0; j < R; ++j) d[j] *= T(1) - cr[j] * cr[j];
    }
    gemm<T>(Trans::kYes, Trans::kNo, T(1), a, dc, T(1), grad_expert(c_[l], k, R, R));
    gemm<T>(Trans::kNo, Trans::kYes, T(1), dc, expert(c_[l], k, R, R), T(0), da);
    for (int b = 0; b < B; ++b) {
      T* d = da.row(b);
      const T* ar = a.row(b);
      for (int j = 0; j < R; ++j) d[j] *= T(1) - ar[j] * ar[j];
    }
    gemm<T>(Trans::kYes, Trans::kNo, T(1), xl, da, T(1), grad_expert(v_[l], k, D, R));
    gemm<T>(Trans::kNo, Trans::kYes, T(1), da, expert(v_[l], k, D, R), T(1), g);
  }
  // Softmax: dγ_k = π_k (dπ_k − Σ_m π_m dπ_m), written over dπ.
  for (int b = 0; b < B; ++b) {
    const T* p = pi.row(b);
    T* dp = dpi.row(b);
    T dot = 0;
    for (int k = 0; k < K; ++k) dot += p[k] * dp[k];
    for (int k = 0; k < K; ++k) dp[k] = p[k] * (dp[k] - dot);
  }
  gemm<T>(Trans::kYes, Trans::kNo, T(1), dpi, xl, T(1), this->store_->grad_matrix(gate_));
  gemm<T>(Trans::kNo, Trans::kNo, T(1), dpi, this->store_->matrix(gate_), T(1), g);
}

template class CrossMix<float>;
template class CrossMix<double>;

}  // namespace deepcross
