// The BLAS wrapper: row-major GEMM for float and double on OpenBLAS (cblas).
//
//   C(MxN) = alpha * op(A) * op(B) + beta * C,  op(X) = X or Xᵀ
//
// Views carry their own leading dimensions; shapes are checked (a mismatch is a bug).
// double exists for the finite-difference gradient checks; training runs in float.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

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
// the faster products save. Set low on purpose: a float GEMM run between AMX ones was 3x
// slower than alone (2048 x 64 → 32: 30 → 106 µs), in bf16 it takes 20 µs.
constexpr double kBf16MinMacs = 1 << 20;
GemmPrecision gemm_precision();
void set_gemm_precision(GemmPrecision p);
// Whether a float GEMM of `macs` multiply-adds (alpha 1, beta 0 or 1) runs in bf16 on this
// thread now: bf16 precision, at least kBf16MinMacs, and oneDNN not found without bf16 matmul.
bool bf16_products(double macs);

// Whether a bf16 matmul could not be created in this process (oneDNN has none for this CPU or
// shape, or the test seam DEEPCROSS_FAIL_BF16_MATMUL=1 is set): from then on every float GEMM
// runs in float, whatever the precision asked. What was asked for bf16 and is recorded (a
// model's precision) must say float then.
struct Bf16Fallback {
  bool fell_back = false;
  int64_t bf16_products_before = 0;  // bf16 matmuls run in this process (all before the fallback)
  std::string reason;                // oneDNN's message, when fell_back
};
Bf16Fallback bf16_fallback();

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

// bfloat16 values: the upper half of a float's bits, rounded to nearest (ties to even).
using Bf16 = uint16_t;

inline Bf16 float_to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0) {
    return static_cast<Bf16>((bits >> 16) | 0x40u);  // NaN stays a (quiet) NaN
  }
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<Bf16>(bits >> 16);
}

inline float bf16_to_float(Bf16 x) {
  const uint32_t bits = static_cast<uint32_t>(x) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// d[0..n) = s[0..n) rounded to bf16 (vectorised where the CPU converts natively).
void to_bf16_row(const float* s, Bf16* d, int n);

// dst = src rounded to bf16 (same shape; on all threads when large).
void to_bf16(ConstMatrixView<float> src, MatrixView<Bf16> dst);

// C = op(A) op(B) + beta C on bf16 operands with float sums (beta 0 or 1). False, with C
// untouched, where this CPU has no bf16 matmul (see cpu_has_native_bf16()).
bool gemm_bf16(Trans ta, Trans tb, ConstMatrixView<Bf16> a, ConstMatrixView<Bf16> b, float beta,
               MatrixView<float> c);

// Runs one training-sized float GEMM so that oneDNN generates its kernels now (about 25 ms, once
// per process, on the first such call) rather than inside the first timed scoring or the first
// served request. Cheap after the first call.
void warm_up_gemm();

// True while this thread is inside a call into a BLAS library (oneDNN, OpenBLAS): their
// internal allocations (oneDNN builds an execution context per call) are theirs, and the
// no-allocation test leaves them out with this.
bool inside_blas_library();

// Number of threads the BLAS may use (OpenBLAS on OpenMP: this also sets OpenMP's count).
void set_blas_threads(int n);
int blas_threads();

}  // namespace deepcross
