// DCN-V2 low-rank cross (TorchRec's LowRankCrossNet form, W ≈ U Vᵀ, no experts):
//   x_{l+1} = x0 ⊙ z_l + x_l,  p_l = x_l V_l (B x r),  z_l = p_l U_lᵀ + b_l
//   U_l, V_l: D x r, xavier_normal (torch fans of a (D, r) tensor: fan_in = r, fan_out = D);
//   b_l: D, zeros.
// backward, with g = ∂L/∂x_{l+1}:
//   dz = g ⊙ x0;  dx0 += g ⊙ z_l;  dU_l += dzᵀ p_l;  db_l += Σ_b dz;
//   dp = dz U_l;  dV_l += x_lᵀ dp;  ∂L/∂x_l = g + dp V_lᵀ
#pragma once

#include "nn/cross.h"

namespace deepcross {

template <typename T>
class CrossLowRank : public CrossNet<T> {
 public:
  CrossLowRank(ParamStore<T>& store, int width, int layers, int rank);
  void init(Rng& rng) override;

 protected:
  void layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                     MatrixView<T> next) override;
  void layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl, MatrixView<T> g,
                      MatrixView<T> dx0) override;
  void reserve_scratch(int max_batch) override;

 private:
  int r_;
  std::vector<int> u_, v_, b_;
  std::vector<Buffer<T>> p_, z_;  // p_l (B x r), z_l (B x D)
  Buffer<T> dz_, dp_;
};

}  // namespace deepcross
