// DCN vector cross:  x_{l+1} = x0 ⊙ s_l + b_l + x_l,  s_l = x_l · w_l (a scalar per row)
//   w_l: D ~ U(−1/√D, 1/√D) (torch nn.Linear(D, 1, bias=False)), b_l: D, zeros. The bias sits
//   outside the product (the DCN paper), unlike the matrix cross.
// backward, with g = ∂L/∂x_{l+1}:
//   dx0 += g s_l;  ds = Σ_j g_j x0_j;  dw_l += Σ_b ds x_l;  db_l += Σ_b g;  ∂L/∂x_l = g + ds w_l
#pragma once

#include "nn/cross.h"

namespace deepcross {

template <typename T>
class CrossVector : public CrossNet<T> {
 public:
  CrossVector(ParamStore<T>& store, int width, int layers);
  void init(Rng& rng) override;

 protected:
  void layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                     MatrixView<T> next) override;
  void layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl, MatrixView<T> g,
                      MatrixView<T> dx0) override;
  void reserve_scratch(int max_batch) override;

 private:
  std::vector<int> w_, b_;
  std::vector<Buffer<T>> s_;  // s_l, B
  Buffer<T> ds_;              // B
};

}  // namespace deepcross
