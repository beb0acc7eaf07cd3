#include "core/blas.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <atomic>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>

namespace deepcross {
namespace {

CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::kYes ? CblasTrans : CblasNoTrans; }

template <typename T>
void check_shapes(Trans ta, Trans tb, ConstMatrixView<T> a, ConstMatrixView<T> b,
                  MatrixView<T> c, int* m, int* n, int* k) {
  *m = ta == Trans::kNo ? a.rows : a.cols;
  *k = ta == Trans::kNo ? a.cols : a.rows;
  int kb = tb == Trans::kNo ? b.rows : b.cols;
  *n = tb == Trans::kNo ? b.cols : b.rows;
  DC_CHECK(*k == kb);
  DC_CHECK(c.rows == *m && c.cols == *n);
}

thread_local GemmPrecision t_precision = GemmPrecision::kFp32;

// One cached bf16 GEMM shape: the two reorders that round (and, for a transposed operand,
// transpose) the float inputs into plain bf16 buffers, and the matmul over them.
struct Bf16Gemm {
  dnnl::reorder to_a, to_b;
  dnnl::matmul matmul;
  dnnl::memory a_f32, b_f32, a_bf16, b_bf16, c;
};

using Bf16Key = std::tuple<int, int, int, bool, bool, int, int, int, bool>;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A float operand of logical shape rows x cols, stored row-major with leading dimension ld, or
// transposed (cols x rows) when `trans`.
dnnl::memory::desc f32_desc(int rows, int cols, bool trans, int ld) {
  using dims = dnnl::memory::dims;
  return dnnl::memory::desc(dims{rows, cols}, dnnl::memory::data_type::f32,
                            trans ? dims{1, ld} : dims{ld, 1});
}

Bf16Gemm make_bf16_gemm(const Bf16Key& key) {
  const auto [m, n, k, ta, tb, lda, ldb, ldc, accumulate] = key;
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine& eng = cpu_engine();
  const dnnl::memory::desc a_f32 = f32_desc(m, k, ta, lda), b_f32 = f32_desc(k, n, tb, ldb);
  const dnnl::memory::desc a_bf16({m, k}, dt::bf16, tag::ab), b_bf16({k, n}, dt::bf16, tag::ab);
  const dnnl::memory::desc c_f32 = f32_desc(m, n, false, ldc);
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  Bf16Gemm g;
  g.a_f32 = dnnl::memory(a_f32, eng, DNNL_MEMORY_NONE);
  g.b_f32 = dnnl::memory(b_f32, eng, DNNL_MEMORY_NONE);
  g.c = dnnl::memory(c_f32, eng, DNNL_MEMORY_NONE);
  g.a_bf16 = dnnl::memory(a_bf16, eng);
  g.b_bf16 = dnnl::memory(b_bf16, eng);
  g.to_a = dnnl::reorder(g.a_f32, g.a_bf16);
  g.to_b = dnnl::reorder(g.b_f32, g.b_bf16);
  g.matmul = dnnl::matmul(
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_bf16, b_bf16, c_f32), attr, eng));
  return g;
}

std::atomic<bool> g_bf16_unavailable{false};

// C = op(A) op(B) (+ C when accumulate) with bf16 inputs and float sums; false (nothing done)
// where oneDNN has no bf16 matmul for this CPU. Each thread keeps its own primitives, buffers
// and stream (oneDNN streams are not shared between threads).
bool bf16_gemm(int m, int n, int k, bool ta, bool tb, const float* a, int lda, const float* b,
               int ldb, bool accumulate, float* c, int ldc) {
  if (g_bf16_unavailable.load(std::memory_order_relaxed)) return false;
  thread_local std::map<Bf16Key, Bf16Gemm> cache;
  thread_local dnnl::stream stream(cpu_engine());
  const Bf16Key key{m, n, k, ta, tb, lda, ldb, ldc, accumulate};
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      it = cache.emplace(key, make_bf16_gemm(key)).first;
    } catch (const dnnl::error&) {
      g_bf16_unavailable = true;
      return false;
    }
  }
  Bf16Gemm& g = it->second;
  g.a_f32.set_data_handle(const_cast<float*>(a));
  g.b_f32.set_data_handle(const_cast<float*>(b));
  g.c.set_data_handle(c);
  g.to_a.execute(stream, g.a_f32, g.a_bf16);
  g.to_b.execute(stream, g.b_f32, g.b_bf16);
  g.matmul.execute(stream, {{DNNL_ARG_SRC, g.a_bf16}, {DNNL_ARG_WEIGHTS, g.b_bf16},
                            {DNNL_ARG_DST, g.c}});
  stream.wait();
  return true;
}

}  // namespace

GemmPrecision gemm_precision() { return t_precision; }
void set_gemm_precision(GemmPrecision p) { t_precision = p; }

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
  if (t_precision == GemmPrecision::kBf16 && macs >= kBf16MinMacs && alpha == 1.0f &&
      (beta == 0.0f || beta == 1.0f) &&
      bf16_gemm(m, n, k, ta == Trans::kYes, tb == Trans::kYes, a.data, a.ld, b.data, b.ld,
                beta == 1.0f, c.data, c.ld)) {
    return;
  }
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

void set_blas_threads(int n) {
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  omp_set_num_threads(n);
}

int blas_threads() { return openblas_get_num_threads(); }

}  // namespace deepcross
