// DCN-Mix: a softmax-gated mixture of K low-rank experts with two tanh non-linearities.
//   gates  π = softmax_k(x_l Gᵀ)                 G: K x D, shared by ALL layers, no bias
//   expert a_k = tanh(x_l V_lk),  c_k = tanh(a_k C_lk),  z_k = c_k U_lkᵀ + b_l
//   x_{l+1} = Σ_k π_k (x0 ⊙ z_k) + x_l
//   U_l, V_l: (K, D, r), C_l: (K, r, r), xavier_normal as torch computes it on the stacked
//   3-d tensors (fan_in = D·r, fan_out = K·r for U, V; fan_in = r·r, fan_out = K·r for C);
//   b_l: D, zeros, shared by the layer's experts; G ~ U(−1/√D, 1/√D) (nn.Linear(D, 1) each).
// backward, with g = ∂L/∂x_{l+1} and gx = g ⊙ x0:
//   dx0 += g ⊙ Σ_k π_k z_k;   dπ_k = Σ_j gx_j z_kj;   db_l += Σ_b gx   (Σ_k π_k = 1)
//   per expert: dz = π_k gx;  dU_lk += dzᵀ c_k;  dĉ = (dz U_lk) ⊙ (1 − c_k²);
//               dC_lk += a_kᵀ dĉ;  dâ = (dĉ C_lkᵀ) ⊙ (1 − a_k²);  dV_lk += x_lᵀ dâ;
//               ∂L/∂x_l += dâ V_lkᵀ
//   gate: dγ_k = π_k (dπ_k − Σ_m π_m dπ_m);  dG += dγᵀ x_l;  ∂L/∂x_l += dγ G;  plus g itself.
//
// Batched: since Σ_k π_k = 1, the K experts' outputs combine into one product,
//   Σ_k π_k x0 ⊙ (c_k U_kᵀ + b) = x0 ⊙ ([π_1 c_1 | … | π_K c_K] U_catᵀ + b),
// with U_cat = [U_1 | … | U_K] (D x K·r) and likewise V_cat, so the layer runs three large
// GEMMs (x_l V_cat, [π c] U_catᵀ, and their backward forms) instead of K small ones each,
// plus K small (B x r x r) GEMMs for C. The parameters keep torch's (K, D, r) layout; the
// concatenated copies are repacked every forward (K·D·r numbers, negligible).
// Backward in the batched form, with G = gx U_cat (B x K·r, G_k = gx U_k):
//   dπ_k = c_k · G_k + gx · b;   dU_cat += gxᵀ [π c];   dĉ_k = π_k G_k ⊙ (1 − c_k²)
#pragma once

#include "nn/cross.h"

namespace deepcross {

template <typename T>
class CrossMix : public CrossNet<T> {
 public:
  CrossMix(ParamStore<T>& store, int width, int layers, int rank, int experts);
  void init(Rng& rng) override;

 protected:
  void layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                     MatrixView<T> next) override;
  void layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl, MatrixView<T> g,
                      MatrixView<T> dx0) override;
  void reserve_scratch(int max_batch) override;

 private:
  MatrixView<T> expert(int id, int k, int rows, int cols);  // k-th (rows x cols) slice
  MatrixView<T> grad_expert(int id, int k, int rows, int cols);
  // (K, D, r) → D x K·r and back (adding into the (K, D, r) gradient).
  void pack(const T* stacked, T* cat) const;
  void unpack_add(const T* cat, T* stacked) const;

  int r_, k_;
  int gate_;
  std::vector<int> u_, v_, c_, b_;
  // Per layer: U_cat, V_cat (D x K·r); π (B x K); a, c (B x K·r); z = [π c] U_catᵀ + b (B x D).
  std::vector<Buffer<T>> ucat_, vcat_, pi_, a_, c_act_, z_;
  Buffer<T> gx_, pc_, gk_, da_, dpi_, ducat_, dvcat_;
  int max_batch_ = 0;
};

}  // namespace deepcross
