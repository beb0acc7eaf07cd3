// BatchNorm1d over the columns of a (B x n) batch, torch semantics (eps 1e-5, momentum 0.1).
//
// training:  μ = mean_b x,  σ² = mean_b (x − μ)²  (biased),  x̂ = (x − μ) / √(σ² + eps)
//            y = γ x̂ + β
//            running_mean ← (1 − m) running_mean + m μ
//            running_var  ← (1 − m) running_var  + m σ² B / (B − 1)   (unbiased)
// evaluation: y = γ (x − running_mean) / √(running_var + eps) + β
// backward (training): dγ += Σ_b dy x̂,  dβ += Σ_b dy,
//            dx = (1/B) / √(σ² + eps) · (B dx̂ − Σ_b dx̂ − x̂ Σ_b dx̂ x̂),  dx̂ = dy γ
// γ starts at 1 and β at 0; the running statistics at 0 and 1 and are model state (saved).
// Batch sums are accumulated in double; the batch variance as mean_b x² − μ² of those sums (each
// x² of a float is exact in double).
//
// The passes are fused with their neighbours in the MLP block Linear → BN → ReLU → Dropout: the
// forward takes the Linear's output before its bias (x + bias is what is normalised; the bias
// only moves μ, so it is added in the normalising pass) and hands each finished row of y to an
// epilogue while it is in cache; the backward asks for each row of ∂L/∂y (the epilogue's
// backward) inside its first pass and sums ∂L/∂x into the Linear's bias gradient in its second.
#pragma once

#include <string>
#include <vector>

#include "core/function_ref.h"
#include "core/tensor.h"
#include "nn/param_store.h"

namespace deepcross {

template <typename T>
class BatchNorm {
 public:
  BatchNorm(ParamStore<T>& store, const std::string& name, int n, double eps = 1e-5,
            double momentum = 0.1);
  void init();
  void reserve(int max_batch);
  int size() const { return n_; }

  // Called with a batch row index and that row of a B x n matrix.
  using RowFn = FunctionRef<void(int, T*)>;

  // y = BN(x + bias) (bias may be null), then epilogue(b, y.row(b)) for every row (if set).
  void forward_train(ConstMatrixView<T> x, const T* bias, MatrixView<T> y,
                     const RowFn& epilogue = {});
  void forward_eval(ConstMatrixView<T> x, const T* bias, MatrixView<T> y,
                    const RowFn& epilogue = {}) const;
  // dy_row(b, dy.row(b)) writes row b of ∂L/∂y (dy is its B x n storage; without dy_row dy
  // already holds it); then dx = ∂L/∂x, and bias_grad[j] += Σ_b dx[b, j] when bias_grad is set;
  // dx_done(b, dx.row(b)) runs on each finished row of dx (if set).
  void backward(MatrixView<T> dy, const RowFn& dy_row, MatrixView<T> dx, T* bias_grad,
                const RowFn& dx_done = {});

  const std::string& name() const { return name_; }
  Buffer<T>& running_mean() { return running_mean_; }
  Buffer<T>& running_var() { return running_var_; }
  const Buffer<T>& running_mean() const { return running_mean_; }
  const Buffer<T>& running_var() const { return running_var_; }

 private:
  ParamStore<T>* store_;
  std::string name_;
  int n_;
  double eps_, momentum_;
  int gamma_, beta_;
  Buffer<T> running_mean_, running_var_;
  Buffer<T> xhat_;     // B x n, from the last training forward
  Buffer<T> inv_std_;  // n
  int batch_ = 0;
  // Per-column scratch (n each), sized once so that no step allocates. The evaluation pair is
  // mutable scratch of a const pass: one BatchNorm serves one thread at a time.
  std::vector<double> acc_;  // 2n: column sums (mean and variance, or Σ dy and Σ dy x̂)
  std::vector<T> vec_a_, vec_b_, vec_c_;
  mutable std::vector<T> eval_scale_, eval_shift_;
};

}  // namespace deepcross
