// Losses from logits, numerically stable, averaged over the batch (torch's "mean").
//
//   binary (n_out = 1):  ℓ = max(z, 0) − z y + log(1 + e^{−|z|})     ∂ℓ/∂z = (σ(z) − y) / B
//   softmax (n_out = K): ℓ = logsumexp(z) − z_y                       ∂ℓ/∂z = (softmax(z) − 1_y) / B
//
//   double loss = logit_loss(logits, labels, dlogits);  // dlogits may be empty
// Labels are floats: 0/1 for binary, the class index for softmax. Sums run in double.
#pragma once

#include "core/tensor.h"

namespace deepcross {

template <typename T>
double logit_loss(ConstMatrixView<T> logits, const float* labels, MatrixView<T> dlogits);

// Probabilities from logits: σ(z) for one column, softmax per row otherwise. out may alias.
template <typename T>
void logits_to_probabilities(ConstMatrixView<T> logits, MatrixView<T> out);

}  // namespace deepcross
