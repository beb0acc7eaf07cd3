#include "loss/loss.h"

#include <algorithm>
#include <cmath>

namespace deepcross {

template <typename T>
double logit_loss(ConstMatrixView<T> logits, const float* labels, MatrixView<T> dlogits) {
  const int B = logits.rows, K = logits.cols;
  DC_CHECK(B > 0);
  const double inv_b = 1.0 / B;
  double total = 0;
  for (int b = 0; b < B; ++b) {
    const T* z = logits.row(b);
    if (K == 1) {
      const double x = z[0], y = labels[b];
      total += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
      if (dlogits.data) {
        const double s = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
        dlogits(b, 0) = static_cast<T>((s - y) * inv_b);
      }
    } else {
      const int y = static_cast<int>(labels[b]);
      DC_CHECK(y >= 0 && y < K);
      double m = z[0];
      for (int k = 1; k < K; ++k) m = std::max(m, static_cast<double>(z[k]));
      double s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(z[k] - m);
      const double lse = m + std::log(s);
      total += lse - z[y];
      if (dlogits.data) {
        for (int k = 0; k < K; ++k) {
          const double p = std::exp(z[k] - lse);
          dlogits(b, k) = static_cast<T>((p - (k == y ? 1.0 : 0.0)) * inv_b);
        }
      }
    }
  }
  return total * inv_b;
}

template <typename T>
void logits_to_probabilities(ConstMatrixView<T> logits, MatrixView<T> out) {
  const int B = logits.rows, K = logits.cols;
  for (int b = 0; b < B; ++b) {
    const T* z = logits.row(b);
    T* o = out.row(b);
    if (K == 1) {
      const double x = z[0];
      o[0] = static_cast<T>(x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)));
    } else {
      double m = z[0];
      for (int k = 1; k < K; ++k) m = std::max(m, static_cast<double>(z[k]));
      double s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(z[k] - m);
      for (int k = 0; k < K; ++k) o[k] = static_cast<T>(std::exp(z[k] - m) / s);
    }
  }
}

template double logit_loss(ConstMatrixView<float>, const float*, MatrixView<float>);
template double logit_loss(ConstMatrixView<double>, const float*, MatrixView<double>);
template void logits_to_probabilities(ConstMatrixView<float>, MatrixView<float>);
template void logits_to_probabilities(ConstMatrixView<double>, MatrixView<double>);

}  // namespace deepcross
