#include "nn/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {
namespace {

// h = (r − m) · inv,  o = γ h + β  (a function of its own: inside the OpenMP region the loop
// did not vectorise)
template <typename T>
void normalise_row(int n, const T* __restrict r, const T* __restrict m, const T* __restrict inv,
                   const T* __restrict gamma, const T* __restrict beta, T* __restrict h,
                   T* __restrict o) {
  for (int j = 0; j < n; ++j) {
    h[j] = (r[j] - m[j]) * inv[j];
    o[j] = gamma[j] * h[j] + beta[j];
  }
}

}  // namespace

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
void BatchNorm<T>::forward_train(ConstMatrixView<T> x, const T* bias, MatrixView<T> y,
                                 const RowFn& epilogue) {
  const int B = x.rows;
  DC_CHECK(B >= 2 && static_cast<size_t>(B) * n_ <= xhat_.size());
  batch_ = B;
  // Scratch sized once in the constructor: nothing allocates inside a training step.
  // Σ x and Σ x² side by side (columns [0, n) and [n, 2n) of acc_), in double, in fixed row
  // blocks on all threads (core/ops.h). The bias shifts the mean, not the variance.
  std::fill(acc_.begin(), acc_.end(), 0.0);
  double* mean = acc_.data();
  double* var = acc_.data() + n_;
  const int n0 = n_;
  blocked_column_sums<double>(B, 2 * n0, acc_.data(), [=](int b, double* __restrict a) {
    const T* __restrict r = x.row(b);
    for (int j = 0; j < n0; ++j) {
      const double v = r[j];
      a[j] += v;
      a[n0 + j] += v * v;
    }
  });
  const T* gamma = store_->value(gamma_);
  const T* beta = store_->value(beta_);
  std::vector<T>& shift = vec_a_;  // the mean of x (without the bias)
  for (int j = 0; j < n_; ++j) {
    const double m = mean[j] / B;
    const double biased = std::max(var[j] / B - m * m, 0.0);
    const double m_bias = m + (bias ? static_cast<double>(bias[j]) : 0.0);
    inv_std_[j] = static_cast<T>(1.0 / std::sqrt(biased + eps_));
    shift[j] = static_cast<T>(m);
    running_mean_[j] = static_cast<T>((1.0 - momentum_) * running_mean_[j] + momentum_ * m_bias);
    running_var_[j] = static_cast<T>((1.0 - momentum_) * running_var_[j] +
                                     momentum_ * biased * B / (B - 1));
  }
  MatrixView<T> xhat{xhat_.data(), B, n_};
  // Locals, so that the row loop vectorises (member and vector loads inside it do not).
  const int n = n_;
  const T* __restrict m = shift.data();
  const T* __restrict inv = inv_std_.data();
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* __restrict r = x.row(b);
    T* __restrict h = xhat.row(b);
    T* __restrict o = y.row(b);
    normalise_row(n, r, m, inv, gamma, beta, h, o);
    if (epilogue) epilogue(b, o);
  }
}

template <typename T>
void BatchNorm<T>::forward_eval(ConstMatrixView<T> x, const T* bias, MatrixView<T> y,
                                const RowFn& epilogue) const {
  const T* gamma = store_->value(gamma_);
  const T* beta = store_->value(beta_);
  std::vector<T>& scale = eval_scale_;
  std::vector<T>& shift = eval_shift_;
  for (int j = 0; j < n_; ++j) {
    // y = (x + bias − running_mean) · γ/√(running_var + eps) + β = x · scale + shift
    const double inv = 1.0 / std::sqrt(static_cast<double>(running_var_[j]) + eps_);
    const double centre = (bias ? static_cast<double>(bias[j]) : 0.0) - running_mean_[j];
    scale[j] = static_cast<T>(gamma[j] * inv);
    shift[j] = static_cast<T>(beta[j] + gamma[j] * inv * centre);
  }
  const int n = n_;
  const T* __restrict sc = scale.data();
  const T* __restrict sh = shift.data();
#pragma omp parallel for schedule(static) if (x.rows >= kParallelRows)
  for (int b = 0; b < x.rows; ++b) {
    const T* __restrict r = x.row(b);
    T* __restrict o = y.row(b);
    for (int j = 0; j < n; ++j) o[j] = r[j] * sc[j] + sh[j];
    if (epilogue) epilogue(b, o);
  }
}

template <typename T>
void BatchNorm<T>::backward(MatrixView<T> dy, const RowFn& dy_row, MatrixView<T> dx,
                            T* bias_grad, const RowFn& dx_done) {
  const int B = batch_;
  DC_CHECK(dy.rows == B && dx.rows == B);
  T* dgamma = store_->grad(gamma_);
  T* dbeta = store_->grad(beta_);
  const T* gamma = store_->value(gamma_);
  MatrixView<T> xhat{xhat_.data(), B, n_};
  // Σ dy and Σ dy x̂ side by side, one pass (each row of dy made first when dy_row is set):
  // columns [0, n) and [n, 2n) of acc_.
  std::fill(acc_.begin(), acc_.end(), 0.0);
  const double* sum_dy = acc_.data();
  const double* sum_dy_xhat = acc_.data() + n_;
  const int n0 = n_;
  blocked_column_sums<double>(B, 2 * n0, acc_.data(), [=, &dy_row](int b, double* __restrict a) {
    T* g = dy.row(b);
    if (dy_row) dy_row(b, g);
    const T* __restrict h = xhat.row(b);
    for (int j = 0; j < n0; ++j) {
      a[j] += g[j];
      a[n0 + j] += static_cast<double>(g[j]) * h[j];
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
  const int n = n_;
  const T* __restrict pa = a.data();
  const T* __restrict p1 = c1.data();
  const T* __restrict p2 = c2.data();
  const auto dx_row = [=, &dx_done](int b) {
    const T* __restrict g = dy.row(b);
    const T* __restrict h = xhat.row(b);
    T* __restrict o = dx.row(b);
    for (int j = 0; j < n; ++j) o[j] = pa[j] * (g[j] - p1[j] - h[j] * p2[j]);
    if (dx_done) dx_done(b, o);
    return o;
  };
  if (bias_grad) {
    blocked_column_sums<T>(B, n, bias_grad, [=](int b, T* __restrict acc) {
      const T* __restrict o = dx_row(b);
      for (int j = 0; j < n; ++j) acc[j] += o[j];
    });
    return;
  }
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) dx_row(b);
}

template class BatchNorm<float>;
template class BatchNorm<double>;

}  // namespace deepcross
