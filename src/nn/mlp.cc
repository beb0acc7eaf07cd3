#include "nn/mlp.h"

#include <algorithm>
#include <type_traits>

#include "core/blas.h"
#include "core/ops.h"

namespace deepcross {

template <typename T>
Mlp<T>::Mlp(ParamStore<T>& store, int in, const std::vector<int>& hidden, double dropout)
    : in_(in), hidden_(hidden), dropout_(dropout) {
  DC_CHECK(!hidden.empty());
  int prev = in;
  for (size_t i = 0; i < hidden.size(); ++i) {
    const std::string name = "mlp." + std::to_string(i);
    Block b;
    b.linear = std::make_unique<Linear<T>>(store, name, prev, hidden[i]);
    b.bn = std::make_unique<BatchNorm<T>>(store, name + ".bn", hidden[i]);
    blocks_.push_back(std::move(b));
    prev = hidden[i];
  }
}

template <typename T>
void Mlp<T>::init(Rng& rng) {
  for (auto& b : blocks_) {
    b.linear->init(rng);
    b.bn->init();
  }
}

template <typename T>
void Mlp<T>::reserve(int max_batch) {
  max_batch_ = max_batch;
  int widest = 0;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const size_t n = static_cast<size_t>(max_batch) * hidden_[i];
    Block& b = blocks_[i];
    b.lin.resize(n);
    b.norm.resize(n);
    b.out.resize(n);
    if (dropout_ > 0) b.mask.resize(n);
    b.bn->reserve(max_batch);
    if constexpr (std::is_same_v<T, float>) {
      // bf16 copies for mixed-precision training steps (see forward).
      b.in16.resize(static_cast<size_t>(max_batch) * layer_in(i));
      b.w16.resize(static_cast<size_t>(layer_in(i)) * hidden_[i]);
      b.dl16.resize(n);
    }
    widest = std::max(widest, hidden_[i]);
  }
  grad_a_.resize(static_cast<size_t>(max_batch) * widest);
  grad_b_.resize(static_cast<size_t>(max_batch) * widest);
}

template <typename T>
bool Mlp<T>::linear_forward_bf16(size_t i, ConstMatrixView<T> h, MatrixView<T> lin) {
  if constexpr (std::is_same_v<T, float>) {
    Block& blk = blocks_[i];
    const int B = h.rows, in = h.cols, n = hidden_[i];
    MatrixView<Bf16> in16{blk.in16.data(), B, in}, w16{blk.w16.data(), n, in};
    if (i == 0) to_bf16(h, in16);  // later layers' inputs come from the epilogue above them
    to_bf16(blk.linear->weight(), w16);
    return gemm_bf16(Trans::kNo, Trans::kYes, in16, w16, 0.0f, lin);
  } else {
    return false;
  }
}

template <typename T>
bool Mlp<T>::linear_backward_bf16(size_t i, MatrixView<T> dl, MatrixView<T> dx, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    Block& blk = blocks_[i];
    const int B = dl.rows, n = dl.cols, in = layer_in(i);
    ConstMatrixView<Bf16> dl16{blk.dl16.data(), B, n}, in16{blk.in16.data(), B, in},
        w16{blk.w16.data(), n, in};
    // dW += dlᵀ x;  dx = dl W (or += with accumulate). Either falls back to float whole.
    if (!gemm_bf16(Trans::kYes, Trans::kNo, dl16, in16, 1.0f, blk.linear->weight_grad())) {
      return false;
    }
    // dx in float if its bf16 matmul cannot be created (dW is done: it is not redone).
    if (dx.data != nullptr &&
        !gemm_bf16(Trans::kNo, Trans::kNo, dl16, w16, accumulate ? 1.0f : 0.0f, dx)) {
      gemm<float>(Trans::kNo, Trans::kNo, 1.0f, dl, blk.linear->weight(),
                  accumulate ? 1.0f : 0.0f, dx);
    }
    return true;
  } else {
    return false;
  }
}

template <typename T>
MatrixView<T> Mlp<T>::forward(ConstMatrixView<T> x, Mode mode, uint64_t dropout_seed) {
  const int B = x.rows;
  DC_CHECK(B <= max_batch_ && x.cols == in_);
  batch_ = B;
  input_ = x;
  ConstMatrixView<T> h = x;
  const bool drop = mode == Mode::kTrain && dropout_ > 0;
  const T keep_scale = static_cast<T>(1.0 / (1.0 - dropout_));
  const uint32_t drop_threshold = static_cast<uint32_t>(std::min(dropout_ * 4294967296.0, 4294967295.0));
  // Mixed precision (a training step in bf16 mode, float only): a layer whose products are
  // large enough for bf16 (bf16_products: the rule gemm itself applies) keeps bf16
  // copies of its input, weight and BN input gradient, each rounded once and used by both of
  // the products that read it; the previous layer's epilogue writes this layer's input copy.
  // The same bf16 values and products as gemm's own rounding: the same bits.
  for (size_t i = 0; i < blocks_.size(); ++i) {
    blocks_[i].bf16 = std::is_same_v<T, float> && bf16_copies_ && mode == Mode::kTrain &&
                      bf16_products(static_cast<double>(B) * layer_in(i) * hidden_[i]);
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    Block& blk = blocks_[i];
    const int n = hidden_[i];
    MatrixView<T> lin{blk.lin.data(), B, n}, norm{blk.norm.data(), B, n}, out{blk.out.data(), B, n};
    MatrixView<T> mask{blk.mask.data(), B, n};
    Bf16* next16 = i + 1 < blocks_.size() && blocks_[i + 1].bf16 ? blocks_[i + 1].in16.data()
                                                                  : nullptr;
    // ReLU and dropout on each row of the BN output, in BatchNorm's normalising pass.
    // Captured by value: copies the compiler can keep in registers (through references, the
    // stores to o and m might alias them, and the loops would not vectorise).
    const auto dropout_row = [=](int b, const T* __restrict s, T* __restrict o) {
      // Counter-based: unit j of this row draws u = hash32(key + j·φ) with a key per step,
      // layer and row; dropped when u < p · 2³². A sequential generator cost 1.6 ms of a
      // 14 ms vector-cross step; this loop vectorises (16 units per instruction).
      const uint32_t key = static_cast<uint32_t>(
          Rng(dropout_seed ^ (0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(b) + 1)) ^
              (static_cast<uint64_t>(i) << 56))
              .next() >>
          32);
      T* __restrict m = mask.row(b);
      const T scale = keep_scale;  // a local: a closure member would be loaded under a mask
      const uint32_t threshold = drop_threshold;
      for (int j = 0; j < n; ++j) {
        uint32_t u = key + static_cast<uint32_t>(j) * 0x9E3779B9u;
        u ^= u >> 16;  // "lowbias32" (C. Wellons): a full-avalanche 32-bit mix
        u *= 0x21F0AAADu;
        u ^= u >> 15;
        u *= 0x735A2D97u;
        u ^= u >> 15;
        m[j] = u < threshold ? T(0) : scale;
      }
      for (int j = 0; j < n; ++j) o[j] = (s[j] > T(0) ? s[j] : T(0)) * m[j];
    };
    const auto relu_dropout = [=](int b, T* __restrict s) {
      T* __restrict o = out.row(b);
      if (!drop) {
        for (int j = 0; j < n; ++j) o[j] = s[j] > T(0) ? s[j] : T(0);
      } else {
        dropout_row(b, s, o);
      }
      if constexpr (std::is_same_v<T, float>) {
        if (next16) to_bf16_row(o, next16 + static_cast<size_t>(b) * n, n);
      }
    };

    // The Linear's bias is added inside BatchNorm's passes (it only moves the mean).
    if (!(blk.bf16 && linear_forward_bf16(i, h, lin))) {
      blk.bf16 = false;
      blk.linear->forward(h, lin, /*add_bias=*/false);
    }
    if (mode == Mode::kTrain) {
      blk.bn->forward_train(lin, blk.linear->bias(), norm, relu_dropout);
    } else {
      blk.bn->forward_eval(lin, blk.linear->bias(), norm, relu_dropout);
    }
    h = out;
  }
  return {blocks_.back().out.data(), B, hidden_.back()};
}

template <typename T>
void Mlp<T>::backward(ConstMatrixView<T> dh, MatrixView<T> dx, bool accumulate_dx) {
  const int B = batch_;
  const bool drop = dropout_ > 0;
  ConstMatrixView<T> grad_out = dh;
  for (int i = static_cast<int>(blocks_.size()) - 1; i >= 0; --i) {
    Block& blk = blocks_[i];
    const int n = hidden_[i];
    MatrixView<T> norm{blk.norm.data(), B, n}, mask{blk.mask.data(), B, n};
    // dn (the BN output gradient: ReLU and dropout backward, made row by row inside BN's
    // first pass) into grad_a_, then BN backward into grad_b_ with the Linear's bias gradient.
    MatrixView<T> dn{grad_a_.data(), B, n}, dl{grad_b_.data(), B, n};
    const auto relu_dropout_backward = [=](int b, T* __restrict o) {
      const T* __restrict g = grad_out.row(b);
      const T* __restrict s = norm.row(b);
      if (drop) {
        const T* __restrict m = mask.row(b);
        for (int j = 0; j < n; ++j) o[j] = s[j] > T(0) ? g[j] * m[j] : T(0);
      } else {
        for (int j = 0; j < n; ++j) o[j] = s[j] > T(0) ? g[j] : T(0);
      }
    };
    Bf16* dl16 = nullptr;
    if constexpr (std::is_same_v<T, float>) {
      if (blk.bf16) dl16 = blk.dl16.data();
    }
    const auto round_dl = [=](int b, T* __restrict o) {
      if constexpr (std::is_same_v<T, float>) to_bf16_row(o, dl16 + static_cast<size_t>(b) * n, n);
    };
    blk.bn->backward(dn, relu_dropout_backward, dl, blk.linear->bias_grad(),
                     dl16 ? typename BatchNorm<T>::RowFn(round_dl) : typename BatchNorm<T>::RowFn());
    ConstMatrixView<T> below =
        i == 0 ? input_ : ConstMatrixView<T>{blocks_[i - 1].out.data(), B, hidden_[i - 1]};
    MatrixView<T> dbelow = i == 0 ? dx : MatrixView<T>{grad_a_.data(), B, hidden_[i - 1]};
    const bool accumulate = i == 0 && accumulate_dx;
    if (!(dl16 && linear_backward_bf16(i, dl, dbelow, accumulate))) {
      blk.linear->backward(below, dl, dbelow, accumulate, /*bias_grad=*/false);
    }
    if (i > 0) grad_out = dbelow;
  }
}

template <typename T>
std::vector<BatchNorm<T>*> Mlp<T>::batch_norms() {
  std::vector<BatchNorm<T>*> out;
  for (auto& b : blocks_) out.push_back(b.bn.get());
  return out;
}

template <typename T>
std::vector<const BatchNorm<T>*> Mlp<T>::batch_norms() const {
  std::vector<const BatchNorm<T>*> out;
  for (const auto& b : blocks_) out.push_back(b.bn.get());
  return out;
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace deepcross
