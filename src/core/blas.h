// The BLAS wrapper: row-major GEMM for float and double on OpenBLAS (cblas).
//
//   C(MxN) = alpha * op(A) * op(B) + beta * C,  op(X) = X or Xᵀ
//
// Views carry their own leading dimensions; shapes are checked (a mismatch is a bug).
// double exists for the finite-difference gradient checks; training runs in float.
#pragma once

#include "core/tensor.h"

namespace deepcross {

enum class Trans { kNo, kYes };

template <typename T>
void gemm(Trans ta, Trans tb, T alpha, ConstMatrixView<T> a, ConstMatrixView<T> b, T beta,
          MatrixView<T> c);

// Number of threads the BLAS may use (OpenBLAS on OpenMP: this also sets OpenMP's count).
void set_blas_threads(int n);
int blas_threads();

}  // namespace deepcross
