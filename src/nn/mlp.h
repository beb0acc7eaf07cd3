// The deep part: blocks of Linear → BatchNorm1d → ReLU → Dropout(p).
//
//   block i:  l = Linear_i(h_{i−1});  n = BN_i(l);  a = max(n, 0);  h_i = a ⊙ m / (1 − p)
//   m ~ Bernoulli(1 − p) per unit in training (inverted dropout); identity in evaluation.
//   backward: dn = dh ⊙ (m / (1 − p)) ⊙ [n > 0]  (torch: ReLU passes where its input > 0),
//             then BN and Linear backward.
// Dropout masks: each unit hashes a counter (key + j) with a key drawn per step, layer and batch
// row from the model's seeded Rng — vectorisable, seeded, and independent of the thread count. Activations live in buffers sized by reserve().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"

namespace deepcross {

enum class Mode { kTrain, kEval };

template <typename T>
class Mlp {
 public:
  Mlp(ParamStore<T>& store, int in, const std::vector<int>& hidden, double dropout);
  void init(Rng& rng);
  void reserve(int max_batch);
  int in() const { return in_; }
  int out() const { return hidden_.back(); }

  // x (B x in) → returns h_last (B x out), a view into this layer's buffers.
  // In training, `dropout_seed` picks the masks.
  MatrixView<T> forward(ConstMatrixView<T> x, Mode mode, uint64_t dropout_seed = 0);
  // dh (B x out) → dx (B x in); dx is written (or added to, with accumulate).
  void backward(ConstMatrixView<T> dh, MatrixView<T> dx, bool accumulate_dx = false);

  // Off: bf16 training steps round each product's operands inside gemm instead of keeping
  // the layers' bf16 copies (the same bits, slower; for the test that says so).
  void set_bf16_copies(bool on) { bf16_copies_ = on; }

  std::vector<BatchNorm<T>*> batch_norms();
  std::vector<const BatchNorm<T>*> batch_norms() const;

 private:
  struct Block {
    std::unique_ptr<Linear<T>> linear;
    std::unique_ptr<BatchNorm<T>> bn;
    Buffer<T> lin, norm, out, mask;  // B x h each (mask only with dropout)
    // Mixed precision (float only): bf16 copies of the input (B x in), the weight (h x in)
    // and the BN input gradient (B x h); bf16: this step's products used them.
    std::vector<Bf16> in16, w16, dl16;
    bool bf16 = false;
  };
  // The layer's products on the bf16 copies; false (nothing written) where oneDNN has no bf16
  // matmul, and the caller computes them in float.
  bool linear_forward_bf16(size_t i, ConstMatrixView<T> h, MatrixView<T> lin);
  bool linear_backward_bf16(size_t i, MatrixView<T> dl, MatrixView<T> dx, bool accumulate);
  int layer_in(size_t i) const { return i == 0 ? in_ : hidden_[i - 1]; }  // block i's input width
  int in_;
  std::vector<int> hidden_;
  double dropout_;
  std::vector<Block> blocks_;
  ConstMatrixView<T> input_;
  Buffer<T> grad_a_, grad_b_;  // B x max(h): ping-pong gradient scratch
  int batch_ = 0;
  int max_batch_ = 0;
  bool bf16_copies_ = true;
};

}  // namespace deepcross
