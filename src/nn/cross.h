// The cross network: L layers computing x_{l+1} from x0 and x_l (SPEC.md, step 3).
//
//   vector (DCN):      x_{l+1} = x0 ⊙ (x_l · w_l) + b_l + x_l
//   matrix (DCN-V2):   x_{l+1} = x0 ⊙ (x_l W_lᵀ + b_l) + x_l
//   lowrank (DCN-V2):  x_{l+1} = x0 ⊙ ((x_l V_l) U_lᵀ + b_l) + x_l
//   mix (DCN-Mix):     x_{l+1} = Σ_k softmax(x_l Gᵀ)_k · x0 ⊙ (tanh(tanh(x_l V_lk) C_lk) U_lkᵀ + b_l) + x_l
//
// Every implementation keeps what its backward needs (x_l of each layer, and per-type
// intermediates) in buffers sized by reserve(); backward returns the full gradient of x0
// (the x0 factor of every layer plus the path through x_1 ... x_L). The formulas of each
// backward are written beside its code (cross_*.cc).
//
//   auto cross = make_cross<float>(config, store);   // registers its parameters
//   store.finalize(); cross->init(rng); cross->reserve(2048);
//   MatrixView<float> xL = cross->forward(x0);
//   cross->backward(dxL, dx0);   // dx0 += ∂loss/∂x0
#pragma once

#include <memory>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "nn/config.h"
#include "nn/param_store.h"

namespace deepcross {

template <typename T>
class CrossNet {
 public:
  CrossNet(ParamStore<T>& store, int width, int layers)
      : store_(&store), d_(width), layers_(layers) {}
  virtual ~CrossNet() = default;
  CrossNet(const CrossNet&) = delete;
  CrossNet& operator=(const CrossNet&) = delete;

  virtual void init(Rng& rng) = 0;
  void reserve(int max_batch);
  int width() const { return d_; }
  int layers() const { return layers_; }

  // x0 (B x D) must stay valid until backward. Returns x_L (x0 itself when L = 0).
  ConstMatrixView<T> forward(ConstMatrixView<T> x0);
  // dxL (B x D) → dx0 += ∂loss/∂x0. dxL's buffer may be overwritten.
  void backward(MatrixView<T> dxL, MatrixView<T> dx0);

 protected:
  // One layer: x_{l+1} = f(x0, x_l).
  virtual void layer_forward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                             MatrixView<T> next) = 0;
  // g = ∂loss/∂x_{l+1} on entry and ∂loss/∂x_l on exit (in place); dx0 += the x0 factor's part.
  virtual void layer_backward(int l, ConstMatrixView<T> x0, ConstMatrixView<T> xl,
                              MatrixView<T> g, MatrixView<T> dx0) = 0;
  virtual void reserve_scratch(int max_batch) = 0;

  ParamStore<T>* store_;
  int d_;
  int layers_;
  int batch_ = 0;

 private:
  std::vector<Buffer<T>> xs_;  // x_1 ... x_L, B x D each
  ConstMatrixView<T> x0_;
};

// The output step shared by the matrix, low-rank and mix crosses, given z = (the layer's map
// of x_l) without its bias:  z ← z + b (kept for backward),  next = x0 ⊙ z + x_l.
template <typename T>
void cross_output(ConstMatrixView<T> x0, ConstMatrixView<T> xl, const T* bias, MatrixView<T> z,
                  MatrixView<T> next);
// Its backward for g = ∂L/∂next:  dz = g ⊙ x0,  dx0 += g ⊙ z  (the x_l term is g itself).
template <typename T>
void cross_output_backward(ConstMatrixView<T> g, ConstMatrixView<T> x0, ConstMatrixView<T> z,
                           MatrixView<T> dz, MatrixView<T> dx0);

template <typename T>
std::unique_ptr<CrossNet<T>> make_cross(const ModelConfig& config, int width,
                                        ParamStore<T>& store);

}  // namespace deepcross
