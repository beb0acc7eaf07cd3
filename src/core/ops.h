// Small row-wise kernels shared by the layers. Shapes: B rows of a (B x N) view.
//
// Row loops run in parallel (OpenMP, static schedule) when the batch is large; reductions
// over the batch (column sums) run serially in row order, so results are bitwise repeatable
// for a given thread count (and independent of it).
#pragma once

#include "core/tensor.h"

namespace deepcross {

constexpr int kParallelRows = 256;  // below this a batch runs on one thread

// y[b, :] += bias
template <typename T>
void add_row_vector(MatrixView<T> y, const T* bias) {
#pragma omp parallel for schedule(static) if (y.rows >= kParallelRows)
  for (int b = 0; b < y.rows; ++b) {
    T* r = y.row(b);
    for (int j = 0; j < y.cols; ++j) r[j] += bias[j];
  }
}

// out[j] += Σ_b x[b, j]
template <typename T>
void add_column_sums(ConstMatrixView<T> x, T* out) {
  for (int b = 0; b < x.rows; ++b) {
    const T* r = x.row(b);
    for (int j = 0; j < x.cols; ++j) out[j] += r[j];
  }
}

// dst = src (same shape)
template <typename T>
void copy(ConstMatrixView<T> src, MatrixView<T> dst) {
  DC_CHECK(src.rows == dst.rows && src.cols == dst.cols);
  for (int b = 0; b < src.rows; ++b) {
    const T* s = src.row(b);
    T* d = dst.row(b);
    for (int j = 0; j < src.cols; ++j) d[j] = s[j];
  }
}

}  // namespace deepcross
