#include "nn/cross.h"

#include "core/ops.h"
#include "nn/cross_lowrank.h"
#include "nn/cross_matrix.h"
#include "nn/cross_mix.h"
#include "nn/cross_vector.h"

namespace deepcross {

template <typename T>
void CrossNet<T>::reserve(int max_batch) {
  xs_.resize(layers_);
  for (auto& x : xs_) x.resize(static_cast<size_t>(max_batch) * d_);
  reserve_scratch(max_batch);
}

template <typename T>
ConstMatrixView<T> CrossNet<T>::forward(ConstMatrixView<T> x0) {
  DC_CHECK(x0.cols == d_);
  batch_ = x0.rows;
  x0_ = x0;
  ConstMatrixView<T> xl = x0;
  for (int l = 0; l < layers_; ++l) {
    MatrixView<T> next{xs_[l].data(), batch_, d_};
    layer_forward(l, x0, xl, next);
    xl = next;
  }
  return xl;
}

template <typename T>
void CrossNet<T>::backward(MatrixView<T> dxL, MatrixView<T> dx0) {
  DC_CHECK(dxL.rows == batch_ && dx0.rows == batch_);
  for (int l = layers_ - 1; l >= 0; --l) {
    ConstMatrixView<T> xl =
        l == 0 ? x0_ : ConstMatrixView<T>{xs_[l - 1].data(), batch_, d_};
    layer_backward(l, x0_, xl, dxL, dx0);
  }
  // x_0 is x0 itself: the gradient that reached it joins dx0.
#pragma omp parallel for schedule(static) if (batch_ >= kParallelRows)
  for (int b = 0; b < batch_; ++b) {
    const T* g = dxL.row(b);
    T* o = dx0.row(b);
    for (int j = 0; j < d_; ++j) o[j] += g[j];
  }
}

template <typename T>
void cross_output(ConstMatrixView<T> x0, ConstMatrixView<T> xl, const T* bias, MatrixView<T> z,
                  MatrixView<T> next) {
  const int B = xl.rows, D = xl.cols;
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    T* zr = z.row(b);
    const T* a = x0.row(b);
    const T* x = xl.row(b);
    T* o = next.row(b);
    for (int j = 0; j < D; ++j) {
      zr[j] += bias[j];
      o[j] = a[j] * zr[j] + x[j];
    }
  }
}

template <typename T>
void cross_output_backward(ConstMatrixView<T> g, ConstMatrixView<T> x0, ConstMatrixView<T> z,
                           MatrixView<T> dz, MatrixView<T> dx0) {
  const int B = g.rows, D = g.cols;
#pragma omp parallel for schedule(static) if (B >= kParallelRows)
  for (int b = 0; b < B; ++b) {
    const T* gr = g.row(b);
    const T* a = x0.row(b);
    const T* zr = z.row(b);
    T* d = dz.row(b);
    T* o = dx0.row(b);
    for (int j = 0; j < D; ++j) {
      d[j] = gr[j] * a[j];
      o[j] += gr[j] * zr[j];
    }
  }
}

template <typename T>
std::unique_ptr<CrossNet<T>> make_cross(const ModelConfig& c, int width, ParamStore<T>& store) {
  switch (c.cross) {
    case CrossType::kVector:
      return std::make_unique<CrossVector<T>>(store, width, c.cross_layers);
    case CrossType::kMatrix:
      return std::make_unique<CrossMatrix<T>>(store, width, c.cross_layers);
    case CrossType::kLowRank:
      return std::make_unique<CrossLowRank<T>>(store, width, c.cross_layers, c.low_rank);
    case CrossType::kMix:
      return std::make_unique<CrossMix<T>>(store, width, c.cross_layers, c.low_rank, c.experts);
  }
  return nullptr;
}

template void cross_output(ConstMatrixView<float>, ConstMatrixView<float>, const float*,
                           MatrixView<float>, MatrixView<float>);
template void cross_output(ConstMatrixView<double>, ConstMatrixView<double>, const double*,
                           MatrixView<double>, MatrixView<double>);
template void cross_output_backward(ConstMatrixView<float>, ConstMatrixView<float>,
                                    ConstMatrixView<float>, MatrixView<float>, MatrixView<float>);
template void cross_output_backward(ConstMatrixView<double>, ConstMatrixView<double>,
                                    ConstMatrixView<double>, MatrixView<double>,
                                    MatrixView<double>);
template class CrossNet<float>;
template class CrossNet<double>;
template std::unique_ptr<CrossNet<float>> make_cross(const ModelConfig&, int, ParamStore<float>&);
template std::unique_ptr<CrossNet<double>> make_cross(const ModelConfig&, int,
                                                      ParamStore<double>&);

}  // namespace deepcross
