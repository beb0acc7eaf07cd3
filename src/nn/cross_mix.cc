#include "nn/cross_mix.h"

#include <algorithm>
#include <cmath>

#include "core/blas.h"
#include "core/fast_math.h"
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
  const size_t B = max_batch, D = this->d_, KR = static_cast<size_t>(k_) * r_;
  for (auto* v : {&ucat_, &vcat_, &pi_, &a_, &c_act_, &z_}) v->resize(this->layers_);
  for (int l = 0; l < this->layers_; ++l) {
    ucat_[l].resize(D * KR);
    vcat_[l].resize(D * KR);
    pi_[l].resize(B * k_);
    a_[l].resize(B * KR);
    c_act_[l].resize(B * KR);
    z_[l].resize(B * D);
  }
  gx_.resize(B * D);
  pc_.resize(B * KR);
  gk_.resize(B * KR);
  da_.resize(B * KR);
  dpi_.resize(B * k_);
  ducat_.resize(D * KR);
  dvcat_.resize(D * KR);
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
void CrossMix<T>::pack(const T* stacked, T* cat) const {
  const int D = this->d_, R = r_, KR = k_ * r_;
  for (int k = 0; k < k_; ++k)
    for (int d = 0; d < D; ++d)
      for (int j = 0; j < R; ++j) cat[d * KR + k * R + j] = stacked[(k * D + d) * R + j];
}

template <typename T>
void CrossMix<T>::unpack_add(const T* cat, T* stacked) const {
  const int D = this->d_, R = r_, KR = k_ * r_;
  for (int k = 0; k < k_; ++k)
    for (int d = 0; d < D; ++d)
      for (int j = 0; j < R; ++j) stacked[(k * D + d) * R + j] += cat[d * KR + k * R + j];
}

template <typename T>
void CrossMix<T>::layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                MatrixView<T> next) {
  const int B = xl.rows, D = this->d_, K = k_, R = r_, KR = k_ * r_;
  pack(this->store_->value(u_[l]), ucat_[l].data());
  pack(this->store_->value(v_[l]), vcat_[l].data());
  MatrixView<T> ucat{ucat_[l].data(), D, KR}, vcat{vcat_[l].data(), D, KR};
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
  // a = tanh(x_l V_cat); c_k = tanh(a_k C_k); [π c]; z = [π c] U_catᵀ + b.
  MatrixView<T> a{a_[l].data(), B, KR}, c{c_act_[l].data(), B, KR}, pc{pc_.data(), B, KR};
  gemm<T>(Trans::kNo, Trans::kNo, T(1), xl, vcat, T(0), a);
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) tanh_inplace(a.row(b), KR);
  for (int k = 0; k < K; ++k) {
    gemm<T>(Trans::kNo, Trans::kNo, T(1), a.columns(k * R, R), expert(c_[l], k, R, R), T(0),
            c.columns(k * R, R));
  }
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    T* cr = c.row(b);
    T* pr = pc.row(b);
    const T* p = pi.row(b);
    tanh_inplace(cr, KR);
    for (int j = 0; j < KR; ++j) pr[j] = p[j / R] * cr[j];
  }
  MatrixView<T> z{z_[l].data(), B, D};
  gemm<T>(Trans::kNo, Trans::kYes, T(1), pc, ucat, T(0), z);
  const T* bias = this->store_->value(b_[l]);
  cross_output<T>(x0, xl, bias, z, next);
}

template <typename T>
void CrossMix<T>::layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                                 MatrixView<T> g, MatrixView<T> dx0) {
  const int B = xl.rows, D = this->d_, K = k_, R = r_, KR = k_ * r_;
  MatrixView<T> ucat{ucat_[l].data(), D, KR}, vcat{vcat_[l].data(), D, KR};
  MatrixView<T> pi{pi_[l].data(), B, K}, a{a_[l].data(), B, KR}, c{c_act_[l].data(), B, KR};
  MatrixView<T> z{z_[l].data(), B, D}, gx{gx_.data(), B, D}, dpi{dpi_.data(), B, K};
  MatrixView<T> pc{pc_.data(), B, KR}, gk{gk_.data(), B, KR}, da{da_.data(), B, KR};
  const T* bias = this->store_->value(b_[l]);
  // gx = g ⊙ x0;  dx0 += g ⊙ z;  gx · b (for dπ);  [π c] again for dU_cat.
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* gr = g.row(b);
    const T* a0 = x0.row(b);
    const T* zr = z.row(b);
    T* gxr = gx.row(b);
    T* o = dx0.row(b);
    T gxb = 0;
#pragma omp simd reduction(+ : gxb)
    for (int j = 0; j < D; ++j) {
      gxr[j] = gr[j] * a0[j];
      o[j] += gr[j] * zr[j];
      gxb += gxr[j] * bias[j];
    }
    T* dp = dpi.row(b);
    for (int k = 0; k < K; ++k) dp[k] = gxb;
    const T* p = pi.row(b);
    const T* cr = c.row(b);
    T* pr = pc.row(b);
    for (int j = 0; j < KR; ++j) pr[j] = p[j / R] * cr[j];
  }
  add_column_sums<T>(gx, this->store_->grad(b_[l]));
  MatrixView<T> ducat{ducat_.data(), D, KR}, dvcat{dvcat_.data(), D, KR};
  gemm<T>(Trans::kNo, Trans::kNo, T(1), gx, ucat, T(0), gk);    // G = gx U_cat
  gemm<T>(Trans::kYes, Trans::kNo, T(1), gx, pc, T(0), ducat);  // dU_cat = gxᵀ [π c]
  // dπ_k += c_k · G_k;  dĉ = π_k G_k ⊙ (1 − c²)  (into gk).
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    T* gr = gk.row(b);
    const T* cr = c.row(b);
    const T* p = pi.row(b);
    T* dp = dpi.row(b);
    for (int k = 0; k < K; ++k) {
      T acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int j = k * R; j < (k + 1) * R; ++j) {
        acc += cr[j] * gr[j];
        gr[j] = p[k] * gr[j] * (T(1) - cr[j] * cr[j]);
      }
      dp[k] += acc;
    }
  }
  // Per expert: dC_k += a_kᵀ dĉ_k;  dâ_k = dĉ_k C_kᵀ.
  for (int k = 0; k < K; ++k) {
    gemm<T>(Trans::kYes, Trans::kNo, T(1), a.columns(k * R, R), gk.columns(k * R, R), T(1),
            grad_expert(c_[l], k, R, R));
    gemm<T>(Trans::kNo, Trans::kYes, T(1), gk.columns(k * R, R), expert(c_[l], k, R, R), T(0),
            da.columns(k * R, R));
  }
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    T* d = da.row(b);
    const T* ar = a.row(b);
    for (int j = 0; j < KR; ++j) d[j] *= T(1) - ar[j] * ar[j];
  }
  gemm<T>(Trans::kYes, Trans::kNo, T(1), xl, da, T(0), dvcat);  // dV_cat = x_lᵀ dâ
  gemm<T>(Trans::kNo, Trans::kYes, T(1), da, vcat, T(1), g);    // ∂L/∂x_l += dâ V_catᵀ
  unpack_add(ducat_.data(), this->store_->grad(u_[l]));
  unpack_add(dvcat_.data(), this->store_->grad(v_[l]));
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
