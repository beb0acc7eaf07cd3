#include "core/blas.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

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

}  // namespace

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
  if (static_cast<double>(m) * n * k >= kOneDnnMinMacs) {
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
