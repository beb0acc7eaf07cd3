#include "core/blas.h"

#include <cblas.h>
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

template <>
void gemm<float>(Trans ta, Trans tb, float alpha, ConstMatrixView<float> a,
                 ConstMatrixView<float> b, float beta, MatrixView<float> c) {
  int m, n, k;
  check_shapes(ta, tb, a, b, c, &m, &n, &k);
  if (m == 0 || n == 0) return;
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
