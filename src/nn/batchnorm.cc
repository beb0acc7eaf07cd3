#include "nn/batchnorm.h"

#include <cmath>
#include <vector>

#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
BatchNorm<T>::BatchNorm(ParamStore<T>& store, const std::string& name, int n, double eps,
                        double momentum)
    : store_(&store), name_(name), n_(n), eps_(eps), momentum_(momentum) {
  gamma_ = store.add(name + ".weight", {n});
  beta_ = store.add(name + ".bias", {n});
  running_mean_.resize(n);
  running_var_.resize(n);
  inv_std_.resize(n);
  acc_.resize(2 * static_cast<size_t>(n));
  vec_a_.resize(n);
  vec_b_.resize(n);
  vec_c_.resize(n);
  eval_scale_.resize(n);
  eval_shift_.resize(n);
}

template <typename T>
void BatchNorm<T>::init() {
  init_constant(store_->value(gamma_), n_, T(1));
  init_constant(store_->value(beta_), n_, T(0));
  init_constant(running_mean_.data(), n_, T(0));
  init_constant(running_var_.data(), n_, T(1));
}

template <typename T>
void BatchNorm<T>::reserve(int max_batch) {
  xhat_.resize(static_cast<size_t>(max_batch) * n_);
}

template <typename T>
void BatchNorm<T>::forward_train(ConstMatrixView<T> x, MatrixView<T> y) {
  const int B = x.rows;
  DC_CHECK(B >= 2 && static_cast<size_t>(B) * n_ <= xhat_.size());
  batch_ = B;
  // Scratch sized once in the constructor: nothing allocates inside a training step.
  // Column sums in double, in fixed row blocks on all threads (core/ops.h).
  std::fill(acc_.begin(), acc_.end(), 0.0);
  double* mean = acc_.data();
  double* var = acc_.data() + n_;
  blocked_column_sums<double>(B, n_, mean, [&](int b, double* a) {
    const T* r = x.row(b);
    for (int j = 0; j < n_; ++j) a[j] += r[j];
  });
  for (int j = 0; j < n_; ++j) mean[j] /= B;
  blocked_column_sums<double>(B, n_, var, [&](int b, double* a) {
    const T* r = x.row(b);
    for (int j = 0; j < n_; ++j) {
      const double d = r[j] - mean[j];
      a[j] += d * d;
    }
  });
  const T* gamma = store_->value(gamma_);
  const T* beta = store_->value(beta_);
  std::vector<T>& mean_t = vec_a_;
  for (int j = 0; j < n_; ++j) {
    const double biased = var[j] / B;
    inv_std_[j] = static_cast<T>(1.0 / std::sqrt(biased + eps_));
    mean_t[j] = static_cast<T>(mean[j]);
    running_mean_[j] =
        static_cast<T>((1.0 - momentum_) * running_mean_[j] + momentum_ * mean[j]);
    running_var_[j] = static_cast<T>((1.0 - momentum_) * running_var_[j] +
                                     momentum_ * var[j] / (B - 1));
  }
  MatrixView<T> xhat{xhat_.data(), B, n_};
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* r = x.row(b);
    T* h = xhat.row(b);
    T* o = y.row(b);
    for (int j = 0; j < n_; ++j) {
      h[j] = (r[j] - mean_t[j]) * inv_std_[j];
      o[j] = gamma[j] * h[j] + beta[j];
    }
  }
}

template <typename T>
void BatchNorm<T>::forward_eval(ConstMatrixView<T> x, MatrixView<T> y) const {
  const T* gamma = store_->value(gamma_);
  const T* beta = store_->value(beta_);
  std::vector<T>& scale = eval_scale_;
  std::vector<T>& shift = eval_shift_;
  for (int j = 0; j < n_; ++j) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(running_var_[j]) + eps_);
    scale[j] = static_cast<T>(gamma[j] * inv);
    shift[j] = static_cast<T>(beta[j] - gamma[j] * inv * running_mean_[j]);
  }
#pragma omp parallel for schedule(static) if (x.rows >= kParallelRows)
  for (int b = 0; b < x.rows; ++b) {
    const T* r = x.row(b);
    T* o = y.row(b);
    for (int j = 0; j < n_; ++j) o[j] = r[j] * scale[j] + shift[j];
  }
}

template <typename T>
void BatchNorm<T>::backward(ConstMatrixView<T> dy, MatrixView<T> dx) {
  const int B = batch_;
  DC_CHECK(dy.rows == B);
  T* dgamma = store_->grad(gamma_);
  T* dbeta = store_->grad(beta_);
  const T* gamma = store_->value(gamma_);
  MatrixView<T> xhat{xhat_.data(), B, n_};
  // Σ dy and Σ dy x̂ side by side, one pass: columns [0, n) and [n, 2n) of acc_.
  std::fill(acc_.begin(), acc_.end(), 0.0);
  const double* sum_dy = acc_.data();
  const double* sum_dy_xhat = acc_.data() + n_;
  blocked_column_sums<double>(B, 2 * n_, acc_.data(), [&](int b, double* a) {
    const T* g = dy.row(b);
    const T* h = xhat.row(b);
    for (int j = 0; j < n_; ++j) {
      a[j] += g[j];
      a[n_ + j] += static_cast<double>(g[j]) * h[j];
    }
  });
  // With dx̂ = γ dy:  Σ dx̂ = γ Σ dy,  Σ dx̂ x̂ = γ Σ dy x̂.
  std::vector<T>& a = vec_a_;
  std::vector<T>& c1 = vec_b_;
  std::vector<T>& c2 = vec_c_;
  for (int j = 0; j < n_; ++j) {
    dgamma[j] += static_cast<T>(sum_dy_xhat[j]);
    dbeta[j] += static_cast<T>(sum_dy[j]);
    a[j] = gamma[j] * inv_std_[j];                                  // γ / √(σ²+eps)
    c1[j] = static_cast<T>(sum_dy[j] / B);                          // mean dy
    c2[j] = static_cast<T>(sum_dy_xhat[j] / B);                     // mean dy x̂
  }
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* g = dy.row(b);
    const T* h = xhat.row(b);
    T* o = dx.row(b);
    for (int j = 0; j < n_; ++j) o[j] = a[j] * (g[j] - c1[j] - h[j] * c2[j]);
  }
}

template class BatchNorm<float>;
template class BatchNorm<double>;

}  // namespace deepcross
