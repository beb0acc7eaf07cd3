// Small row-wise kernels shared by the layers. Shapes: B rows of a (B x N) view.
//
// Row loops run in parallel (OpenMP, static schedule) when the batch is large; reductions
// over the batch (column sums) run in fixed row blocks added in block order, so results are
// bitwise repeatable and independent of the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

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

// Σ over rows b of add_row(b, acc) into out[0..cols): the rows are cut into kSumBlocks fixed
// blocks, each summed (in row order) into its own partial row by whichever thread runs it,
// and the partial rows are added to `out` in block order — the same bits for any thread
// count. The partial rows live in a per-calling-thread buffer that only grows (no allocation
// once a step has run).
constexpr int kSumBlocks = 8;
template <typename T, typename AddRow>
void blocked_column_sums(int rows, int cols, T* out, const AddRow& add_row) {
  thread_local std::vector<T> partial;
  const size_t need = static_cast<size_t>(kSumBlocks) * cols;
  if (partial.size() < need) partial.resize(need);
  T* part = partial.data();
  std::fill(part, part + need, T(0));
#pragma omp parallel for schedule(static) if (rows >= kParallelRows)
  for (int k = 0; k < kSumBlocks; ++k) {
    const int begin = static_cast<int>(static_cast<int64_t>(rows) * k / kSumBlocks);
    const int end = static_cast<int>(static_cast<int64_t>(rows) * (k + 1) / kSumBlocks);
    T* acc = part + static_cast<size_t>(k) * cols;
    for (int b = begin; b < end; ++b) add_row(b, acc);
  }
  for (int k = 0; k < kSumBlocks; ++k) {
    const T* acc = part + static_cast<size_t>(k) * cols;
    for (int j = 0; j < cols; ++j) out[j] += acc[j];
  }
}

// out[j] += Σ_b x[b, j]
template <typename T>
void add_column_sums(ConstMatrixView<T> x, T* out) {
  blocked_column_sums<T>(x.rows, x.cols, out, [&](int b, T* acc) {
    const T* r = x.row(b);
    for (int j = 0; j < x.cols; ++j) acc[j] += r[j];
  });
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
