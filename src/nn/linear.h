// Linear: y = x Wᵀ + b   (torch nn.Linear; W is out x in, b is out)
//
//   forward:  y (B x out) = x (B x in) · Wᵀ + b
//   backward: dW += dyᵀ x      (out x in)
//             db += Σ_b dy     (out)
//             dx  = dy W       (B x in)   [or dx += dy W with accumulate]
// init: W and b ~ U(-1/√in, 1/√in) (torch's default).
#pragma once

#include <string>

#include "core/rng.h"
#include "core/tensor.h"
#include "nn/param_store.h"

namespace deepcross {

template <typename T>
class Linear {
 public:
  Linear(ParamStore<T>& store, const std::string& name, int in, int out);
  void init(Rng& rng);
  int in() const { return in_; }
  int out() const { return out_; }
  int weight_id() const { return w_; }
  int bias_id() const { return b_; }

  // Without add_bias, y = x Wᵀ only: the caller adds b in a later pass (BatchNorm's).
  void forward(ConstMatrixView<T> x, MatrixView<T> y, bool add_bias = true) const;
  // dx may be empty (data == nullptr) when the input gradient is not needed. Without
  // bias_grad, db is left to the caller (BatchNorm's backward sums it in its last pass).
  void backward(ConstMatrixView<T> x, ConstMatrixView<T> dy, MatrixView<T> dx,
                bool accumulate_dx = false, bool bias_grad = true);
  MatrixView<T> weight() const { return store_->matrix(w_); }            // out x in
  MatrixView<T> weight_grad() const { return store_->grad_matrix(w_); }  // out x in
  const T* bias() const { return store_->value(b_); }
  T* bias_grad() { return store_->grad(b_); }

 private:
  ParamStore<T>* store_;
  int in_, out_;
  int w_, b_;
};

}  // namespace deepcross
