#include "nn/linear.h"

#include <cmath>

#include "core/blas.h"
#include "core/ops.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
Linear<T>::Linear(ParamStore<T>& store, const std::string& name, int in, int out)
    : store_(&store), in_(in), out_(out) {
  w_ = store.add(name + ".weight", {out, in});
  b_ = store.add(name + ".bias", {out});
}

template <typename T>
void Linear<T>::init(Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
  init_uniform(store_->value(w_), static_cast<size_t>(in_) * out_, bound, rng);
  init_uniform(store_->value(b_), static_cast<size_t>(out_), bound, rng);
}

template <typename T>
void Linear<T>::forward(ConstMatrixView<T> x, MatrixView<T> y, bool add_bias) const {
  MatrixView<T> w{const_cast<T*>(store_->value(w_)), out_, in_};
  gemm<T>(Trans::kNo, Trans::kYes, T(1), x, w, T(0), y);
  if (add_bias) add_row_vector(y, store_->value(b_));
}

template <typename T>
void Linear<T>::backward(ConstMatrixView<T> x, ConstMatrixView<T> dy, MatrixView<T> dx,
                         bool accumulate_dx, bool bias_grad) {
  gemm<T>(Trans::kYes, Trans::kNo, T(1), dy, x, T(1), store_->grad_matrix(w_));
  if (bias_grad) add_column_sums(dy, store_->grad(b_));
  if (dx.data != nullptr) {
    gemm<T>(Trans::kNo, Trans::kNo, T(1), dy, store_->matrix(w_), accumulate_dx ? T(1) : T(0),
            dx);
  }
}

template class Linear<float>;
template class Linear<double>;

}  // namespace deepcross
