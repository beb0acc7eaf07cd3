// Metrics: exact ROC AUC, log loss and accuracy, computed in double precision to agree with
// scikit-learn 1.2.1 (roc_auc_score, log_loss, accuracy_score) to about 1e-12.
//
// AUC (ties count one half), O(n) radix sort by score + one pass over tie groups:
//   AUC = Σ_groups neg_g · (pos_above_g + pos_g / 2) / (P · N)
// where groups are the distinct scores in decreasing order, pos_above_g the positives with a
// higher score, P and N the positive and negative counts. -0.0 and +0.0 are one score.
// Log loss (sklearn with eps = float32 machine epsilon, i.e. what log_loss(eps="auto") uses
// for float32 predictions, but computed in double):
//   p' = clip(p, ε, 1 − ε), ε = 2^-23;  binary rows [1 − p', p'];  each row divided by its sum
//   loss = mean_i −log(p'_{i, y_i} / Σ_c p'_{i, c})
// Errors (DataError, WHERE = "row N", 1-based): a NaN score/probability, a label that is not
// a class (0/1 for binary, 0..k-1 for multi-class), a class absent from the labels where AUC
// needs it, no rows. Mismatched span sizes are programming errors (DC_CHECK).
//
//   double auc = roc_auc(scores, labels);           // scores: probabilities or logits
//   double ll = log_loss(probs, labels);            // probs: P(label = 1)
//   // k classes: probs row-major, n × k; labels 0..k-1
//   double mauc = macro_auc_ovr(probs, labels, k);  // mean of the k one-vs-rest AUCs
//   double mll = log_loss_multiclass(probs, labels, k);
//   double acc = accuracy(probs, labels, k);        // argmax (first on ties) == label
#pragma once

#include <span>

namespace deepcross {

// Binary ROC AUC of `scores` against labels 0/1. DataError if only one class is present.
double roc_auc(std::span<const float> scores, std::span<const float> labels);

// Binary log loss of P(label = 1) `probs` against labels 0/1. One class present is fine.
double log_loss(std::span<const float> probs, std::span<const float> labels);

// Multi-class log loss; probs row-major (n × k), k >= 2, labels 0..k-1.
double log_loss_multiclass(std::span<const float> probs, std::span<const float> labels, int k);

// Macro average of the k one-vs-rest AUCs (sklearn multi_class="ovr", average="macro");
// DataError if a class has no row. Rows are not checked to sum to 1.
double macro_auc_ovr(std::span<const float> probs, std::span<const float> labels, int k);

// Fraction of rows whose argmax (the first maximum on ties, like np.argmax) is the label.
double accuracy(std::span<const float> probs, std::span<const float> labels, int k);

}  // namespace deepcross
