// DCN-V2 matrix cross:  x_{l+1} = x0 ⊙ z_l + x_l,  z_l = x_l W_lᵀ + b_l
//   W_l: D x D (torch nn.Linear layout, out x in), b_l: D; both ~ U(−1/√D, 1/√D).
// backward, with g = ∂L/∂x_{l+1}:
//   dz = g ⊙ x0;  dx0 += g ⊙ z_l;  dW_l += dzᵀ x_l;  db_l += Σ_b dz;  ∂L/∂x_l = g + dz W_l
#pragma once

#include "nn/cross.h"

namespace deepcross {

template <typename T>
class CrossMatrix : public CrossNet<T> {
 public:
  CrossMatrix(ParamStore<T>& store, int width, int layers);
  void init(Rng& rng) override;

 protected:
  void layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                     MatrixView<T> next) override;
  void layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl, MatrixView<T> g,
                      MatrixView<T> dx0) override;
  void reserve_scratch(int max_batch) override;

 private:
  std::vector<int> w_, b_;
  std::vector<Buffer<T>> z_;  // z_l, B x D
  Buffer<T> dz_;
};

}  // namespace deepcross
