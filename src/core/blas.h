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

// The precision of this thread's float GEMMs. kBf16 (mixed precision, for training steps): the
// inputs of each training-sized GEMM are rounded to bfloat16 and the products summed in float
// (oneDNN's matmul, on the CPU's bf16 dot-product or AMX units); outputs and everything outside
// the GEMMs stay float. GEMMs under kBf16MinMacs, alpha ≠ 1, beta ∉ {0, 1}, and CPUs for
// which oneDNN has no bf16 matmul stay float. Thread-local: other threads (prediction workers)
// keep their own setting, kFp32 unless set.
enum class GemmPrecision { kFp32, kBf16 };
// bf16 GEMMs from this many multiply-adds on: below it, rounding both inputs costs more than
// the faster products save (2048 x 32 x 64 ran as fast or slower; 2048 x 64 x 128 3x faster).
constexpr double kBf16MinMacs = 1 << 23;
GemmPrecision gemm_precision();
void set_gemm_precision(GemmPrecision p);

// Whether this CPU has native bf16 dot products (AVX-512-BF16 or AMX), as oneDNN sees it.
bool cpu_has_native_bf16();

// Sets this thread's GEMM precision for a scope and restores the previous one after it.
class ScopedGemmPrecision {
 public:
  explicit ScopedGemmPrecision(GemmPrecision p) : saved_(gemm_precision()) {
    set_gemm_precision(p);
  }
  ~ScopedGemmPrecision() { set_gemm_precision(saved_); }
  ScopedGemmPrecision(const ScopedGemmPrecision&) = delete;
  ScopedGemmPrecision& operator=(const ScopedGemmPrecision&) = delete;

 private:
  GemmPrecision saved_;
};

// Number of threads the BLAS may use (OpenBLAS on OpenMP: this also sets OpenMP's count).
void set_blas_threads(int n);
int blas_threads();

}  // namespace deepcross
