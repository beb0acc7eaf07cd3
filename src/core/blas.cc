#include "core/blas.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <immintrin.h>

#include <atomic>
#include <map>
#include <cstdlib>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace deepcross {
namespace {

CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::kYes ? CblasTrans : CblasNoTrans; }

template <typename T, typename C>
void check_shapes(Trans ta, Trans tb, ConstMatrixView<T> a, ConstMatrixView<T> b,
                  MatrixView<C> c, int* m, int* n, int* k) {
  *m = ta == Trans::kNo ? a.rows : a.cols;
  *k = ta == Trans::kNo ? a.cols : a.rows;
  int kb = tb == Trans::kNo ? b.rows : b.cols;
  *n = tb == Trans::kNo ? b.cols : b.rows;
  DC_CHECK(*k == kb);
  DC_CHECK(c.rows == *m && c.cols == *n);
}

thread_local GemmPrecision t_precision = GemmPrecision::kFp32;
thread_local int t_library_depth = 0;

// Marks a call into a library for inside_blas_library().
struct InLibrary {
  InLibrary() { ++t_library_depth; }
  ~InLibrary() { --t_library_depth; }
  InLibrary(const InLibrary&) = delete;
  InLibrary& operator=(const InLibrary&) = delete;
};

// The shape, strides, accumulation and the OpenMP thread count: oneDNN fixes a primitive's
// threads when it is created, and training may change the count (train/thread_tuner.h).
using Bf16Key = std::tuple<int, int, int, bool, bool, int, int, int, bool, int>;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// An operand of logical shape rows x cols, stored row-major with leading dimension ld, or
// transposed (cols x rows) when `trans`: the matmul reads either through its strides.
dnnl::memory::desc strided_desc(int rows, int cols, bool trans, int ld,
                                dnnl::memory::data_type type) {
  using dims = dnnl::memory::dims;
  return dnnl::memory::desc(dims{rows, cols}, type, trans ? dims{1, ld} : dims{ld, 1});
}

// One cached bf16 matmul shape, with memory objects whose handles are set per call.
struct Bf16Matmul {
  dnnl::matmul matmul;
  dnnl::memory a, b, c;
};

Bf16Matmul make_bf16_matmul(const Bf16Key& key) {
  const auto [m, n, k, ta, tb, lda, ldb, ldc, accumulate, threads] = key;
  (void)threads;  // oneDNN reads omp_get_max_threads() itself
  using dt = dnnl::memory::data_type;
  dnnl::engine& eng = cpu_engine();
  const dnnl::memory::desc a = strided_desc(m, k, ta, lda, dt::bf16);
  const dnnl::memory::desc b = strided_desc(k, n, tb, ldb, dt::bf16);
  const dnnl::memory::desc c = strided_desc(m, n, false, ldc, dt::f32);
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  Bf16Matmul g;
  g.a = dnnl::memory(a, eng, DNNL_MEMORY_NONE);
  g.b = dnnl::memory(b, eng, DNNL_MEMORY_NONE);
  g.c = dnnl::memory(c, eng, DNNL_MEMORY_NONE);
  g.matmul = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, eng));
  return g;
}

std::atomic<bool> g_bf16_unavailable{false};
std::atomic<int64_t> g_bf16_products{0};  // bf16 matmuls run in this process
std::mutex g_bf16_reason_mutex;
std::string g_bf16_reason;  // why a bf16 matmul could not be created (the first time)

// The test seam: DEEPCROSS_FAIL_BF16_MATMUL=1 makes every bf16 matmul's creation fail as on a
// CPU for which oneDNN has none, so that tests exercise the fallback on any CPU.
bool bf16_creation_fails_for_testing() {
  static const bool fail = [] {
    const char* v = std::getenv("DEEPCROSS_FAIL_BF16_MATMUL");
    return v != nullptr && std::string(v) == "1";
  }();
  return fail;
}

// C = op(A) op(B) (+ C when accumulate) on bf16 operands; false (nothing done) where oneDNN has
// no bf16 matmul for this CPU. Each thread keeps its own primitives and stream (oneDNN streams
// are not shared between threads).
bool try_gemm_bf16(int m, int n, int k, bool ta, bool tb, const Bf16* a, int lda, const Bf16* b,
                   int ldb, bool accumulate, float* c, int ldc) {
  if (g_bf16_unavailable.load(std::memory_order_relaxed)) return false;
  thread_local std::map<Bf16Key, Bf16Matmul> cache;
  thread_local dnnl::stream stream(cpu_engine());
  const Bf16Key key{m, n, k, ta, tb, lda, ldb, ldc, accumulate, omp_get_max_threads()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      if (bf16_creation_fails_for_testing()) {
        throw dnnl::error(dnnl_unimplemented, "DEEPCROSS_FAIL_BF16_MATMUL=1 (test seam)");
      }
      it = cache.emplace(key, make_bf16_matmul(key)).first;
    } catch (const dnnl::error& e) {
      {
        std::lock_guard<std::mutex> lock(g_bf16_reason_mutex);
        if (g_bf16_reason.empty()) g_bf16_reason = e.what();
      }
      g_bf16_unavailable = true;
      return false;
    }
  }
  Bf16Matmul& g = it->second;
  g.a.set_data_handle(const_cast<Bf16*>(a));
  g.b.set_data_handle(const_cast<Bf16*>(b));
  g.c.set_data_handle(c);
  InLibrary library;
  // The C call takes the arguments from the stack (the C++ one builds a map: an allocation).
  const dnnl_exec_arg_t args[] = {
      {DNNL_ARG_SRC, g.a.get()}, {DNNL_ARG_WEIGHTS, g.b.get()}, {DNNL_ARG_DST, g.c.get()}};
  DC_CHECK(dnnl_primitive_execute(g.matmul.get(), stream.get(), 3, args) == dnnl_success);
  DC_CHECK(dnnl_stream_wait(stream.get()) == dnnl_success);
  g_bf16_products.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Rounds a float operand into a dense bf16 copy of the same orientation, in this thread's
// scratch (grown, never shrunk: no allocation once every shape has been seen).
ConstMatrixView<Bf16> bf16_copy(ConstMatrixView<float> src, std::vector<Bf16>& scratch) {
  const size_t need = static_cast<size_t>(src.rows) * src.cols;
  if (scratch.size() < need) scratch.resize(need);
  MatrixView<Bf16> dst{scratch.data(), src.rows, src.cols};
  to_bf16(src, dst);
  return dst;
}

}  // namespace

void to_bf16_row(const float* __restrict s, Bf16* __restrict d, int n) {
  int j = 0;
#if defined(__AVX512BF16__)
  for (; j + 16 <= n; j += 16) {
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + j), reinterpret_cast<const __m256i&>(v));
  }
#endif
  for (; j < n; ++j) d[j] = float_to_bf16(s[j]);
}

void to_bf16(ConstMatrixView<float> src, MatrixView<Bf16> dst) {
  DC_CHECK(src.rows == dst.rows && src.cols == dst.cols);
  const int cols = src.cols;
#pragma omp parallel for schedule(static) if (static_cast<size_t>(src.rows) * cols >= (1 << 17))
  for (int r = 0; r < src.rows; ++r) to_bf16_row(src.row(r), dst.row(r), cols);
}

bool gemm_bf16(Trans ta, Trans tb, ConstMatrixView<Bf16> a, ConstMatrixView<Bf16> b, float beta,
               MatrixView<float> c) {
  int m, n, k;
  check_shapes(ta, tb, a, b, c, &m, &n, &k);
  DC_CHECK(beta == 0.0f || beta == 1.0f);
  if (m == 0 || n == 0) return true;
  return try_gemm_bf16(m, n, k, ta == Trans::kYes, tb == Trans::kYes, a.data, a.ld, b.data, b.ld,
                       beta == 1.0f, c.data, c.ld);
}

GemmPrecision gemm_precision() { return t_precision; }
bool bf16_products(double macs) {
  return t_precision == GemmPrecision::kBf16 && macs >= kBf16MinMacs &&
         !g_bf16_unavailable.load(std::memory_order_relaxed);
}
bool inside_blas_library() { return t_library_depth > 0; }
void set_gemm_precision(GemmPrecision p) { t_precision = p; }

Bf16Fallback bf16_fallback() {
  Bf16Fallback f;
  f.fell_back = g_bf16_unavailable.load();
  f.bf16_products_before = g_bf16_products.load();
  if (f.fell_back) {
    std::lock_guard<std::mutex> lock(g_bf16_reason_mutex);
    f.reason = g_bf16_reason;
  }
  return f;
}

bool cpu_has_native_bf16() {
  const unsigned isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  const unsigned bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (isa & bf16) == bf16;
}

// Float GEMMs of at least this many multiply-adds go to oneDNN, smaller ones (online
// prediction: one row, a handful of rows) to OpenBLAS, which is 1.2–3.4x quicker there and
// never wakes other threads for them. Measured in bench/README.md ("Which BLAS, and why").
constexpr double kOneDnnMinMacs = 1 << 18;

template <>
void gemm<float>(Trans ta, Trans tb, float alpha, ConstMatrixView<float> a,
                 ConstMatrixView<float> b, float beta, MatrixView<float> c) {
  int m, n, k;
  check_shapes(ta, tb, a, b, c, &m, &n, &k);
  if (m == 0 || n == 0) return;
  const double macs = static_cast<double>(m) * n * k;
  if (alpha == 1.0f && (beta == 0.0f || beta == 1.0f) && bf16_products(macs)) {
    thread_local std::vector<Bf16> a_scratch, b_scratch;
    const ConstMatrixView<Bf16> a16 = bf16_copy(a, a_scratch), b16 = bf16_copy(b, b_scratch);
    if (try_gemm_bf16(m, n, k, ta == Trans::kYes, tb == Trans::kYes, a16.data, a16.ld, b16.data,
                      b16.ld, beta == 1.0f, c.data, c.ld)) {
      return;
    }
  }
  InLibrary library;
  if (macs >= kOneDnnMinMacs) {
    const dnnl_status_t st =
        dnnl_sgemm(ta == Trans::kYes ? 'T' : 'N', tb == Trans::kYes ? 'T' : 'N', m, n, k, alpha,
                   a.data, a.ld, b.data, b.ld, beta, c.data, c.ld);
    DC_CHECK(st == dnnl_success);
    return;
  }
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), m, n, k, alpha, a.data, a.ld, b.data,
              b.ld, beta, c.data, c.ld);
}

template <>
void gemm<double>(Trans ta, Trans tb, double alpha, ConstMatrixView<double> a,
                  ConstMatrixView<double> b, double beta, MatrixView<double> c) {
  int m, n, k;
  check_shapes(ta, tb, a, b, c, &m, &n, &k);
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), m, n, k, alpha, a.data, a.ld, b.data,
              b.ld, beta, c.data, c.ld);
}

void warm_up_gemm() {
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int n = 64;  // 64³ multiply-adds: the oneDNN side of kOneDnnMinMacs
    std::vector<float> a(n * n, 1.0f), c(n * n);
    gemm<float>(Trans::kNo, Trans::kYes, 1.0f, ConstMatrixView<float>{a.data(), n, n},
                ConstMatrixView<float>{a.data(), n, n}, 0.0f, MatrixView<float>{c.data(), n, n});
  });
}

void set_blas_threads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
}

int blas_threads() { return openblas_get_num_threads(); }

}  // namespace deepcross
