#include "metrics/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/check.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

// float32 machine epsilon: sklearn 1.2.1 log_loss(eps="auto") clips float32 predictions to
// [eps, 1 − eps] with eps = np.finfo(np.float32).eps.
constexpr double kLogLossEps = std::numeric_limits<float>::epsilon();

std::string row_where(size_t i) { return "row " + std::to_string(i + 1); }

// numpy's pairwise summation (pairwise_sum in loops_utils.h): blocks of at most 128 summed
// with 8 accumulators, larger ranges split in halves (at a multiple of 8).
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - n % 8; i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

double mean(const std::vector<double>& v) {
  return pairwise_sum(v.data(), v.size()) / static_cast<double>(v.size());
}

void require_rows(size_t n) {
  if (n == 0) throw DataError("no rows to score");
}

void require_not_nan(float x, size_t i, const char* what) {
  if (std::isnan(x)) throw DataError(std::string(what) + " is NaN", row_where(i));
}

// The class of a binary label: 0 or 1, else DataError.
bool binary_label(float y, size_t i) {
  if (y == 0.0f) return false;
  if (y == 1.0f) return true;
  throw DataError("label " + std::to_string(y) + " is not 0 or 1", row_where(i));
}

// The class of a multi-class label: an integer in 0..k-1, else DataError.
int class_label(float y, int k, size_t i) {
  if (!(y >= 0.0f && y < static_cast<float>(k) && y == std::floor(y))) {
    throw DataError("label " + std::to_string(y) + " is not a class 0.." + std::to_string(k - 1),
                    row_where(i));
  }
  return static_cast<int>(y);
}

// A float's bits mapped so that unsigned order is numeric order (-0.0 and +0.0 equal).
uint32_t order_key(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x == 0.0f ? 0.0f : x);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Items are (order_key << 32) | is_positive. LSD radix sort on the key, 11 bits a pass
// (passes where every item has the same digit are skipped), then one pass over tie groups
// in increasing score order: AUC = Σ_g pos_g (neg_below_g + neg_g / 2) / (P N).
double auc_of_items(std::vector<uint64_t>& items, uint64_t positives, uint64_t negatives) {
  std::vector<uint64_t> scratch(items.size());
  for (int shift = 32; shift < 64; shift += 11) {
    const int bits = std::min(11, 64 - shift);
    const uint64_t mask = (uint64_t{1} << bits) - 1;
    std::vector<size_t> start((size_t{1} << bits) + 1, 0);
    for (uint64_t item : items) ++start[((item >> shift) & mask) + 1];
    if (std::find(start.begin(), start.end(), items.size()) != start.end()) continue;
    for (size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (uint64_t item : items) scratch[start[(item >> shift) & mask]++] = item;
    items.swap(scratch);
  }
  // Σ pos_g (2 neg_below_g + neg_g) <= 2 P N <= n² / 2 < 2^64 for n < 2^32 rows.
  DC_CHECK(items.size() <= UINT32_MAX);
  uint64_t twice_area = 0;
  uint64_t neg_below = 0;
  for (size_t i = 0; i < items.size();) {
    const uint64_t key = items[i] >> 32;
    uint64_t pos = 0, neg = 0;
    for (; i < items.size() && (items[i] >> 32) == key; ++i) {
      if (items[i] & 1) {
        ++pos;
      } else {
        ++neg;
      }
    }
    twice_area += pos * (2 * neg_below + neg);
    neg_below += neg;
  }
  return static_cast<double>(twice_area) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

}  // namespace

double roc_auc(std::span<const float> scores, std::span<const float> labels) {
  DC_CHECK(scores.size() == labels.size());
  const size_t n = scores.size();
  std::vector<uint64_t> items(n);
  uint64_t positives = 0;
  for (size_t i = 0; i < n; ++i) {
    require_not_nan(scores[i], i, "score");
    const bool pos = binary_label(labels[i], i);
    positives += pos;
    items[i] = (uint64_t{order_key(scores[i])} << 32) | uint64_t{pos};
  }
  if (positives == 0 || positives == n) {
    throw DataError("AUC needs both classes, but " + std::to_string(n) + " rows all have label " +
                    (positives == 0 ? "0" : "1"));
  }
  return auc_of_items(items, positives, n - positives);
}

double log_loss(std::span<const float> probs, std::span<const float> labels) {
  DC_CHECK(probs.size() == labels.size());
  const size_t n = probs.size();
  require_rows(n);
  std::vector<double> loss(n);
  for (size_t i = 0; i < n; ++i) {
    require_not_nan(probs[i], i, "probability");
    const bool pos = binary_label(labels[i], i);
    const double p =
        std::min(std::max(static_cast<double>(probs[i]), kLogLossEps), 1 - kLogLossEps);
    const double q = 1 - p;
    const double sum = q + p;  // sklearn renormalizes the row [1 − p, p]
    loss[i] = -std::log((pos ? p : q) / sum);
  }
  return mean(loss);
}

double log_loss_multiclass(std::span<const float> probs, std::span<const float> labels, int k) {
  DC_CHECK(k >= 2);
  DC_CHECK(probs.size() == labels.size() * static_cast<size_t>(k));
  const size_t n = labels.size();
  require_rows(n);
  std::vector<double> loss(n);
  std::vector<double> row(k);
  for (size_t i = 0; i < n; ++i) {
    const int y = class_label(labels[i], k, i);
    for (int c = 0; c < k; ++c) {
      const float p = probs[i * k + c];
      require_not_nan(p, i, "probability");
      row[c] = std::min(std::max(static_cast<double>(p), kLogLossEps), 1 - kLogLossEps);
    }
    loss[i] = -std::log(row[y] / pairwise_sum(row.data(), row.size()));
  }
  return mean(loss);
}

double macro_auc_ovr(std::span<const float> probs, std::span<const float> labels, int k) {
  DC_CHECK(k >= 2);
  DC_CHECK(probs.size() == labels.size() * static_cast<size_t>(k));
  const size_t n = labels.size();
  std::vector<int> y(n);
  std::vector<uint64_t> count(k, 0);
  for (size_t i = 0; i < n; ++i) {
    y[i] = class_label(labels[i], k, i);
    ++count[y[i]];
    for (int c = 0; c < k; ++c) require_not_nan(probs[i * k + c], i, "probability");
  }
  for (int c = 0; c < k; ++c) {
    if (count[c] == 0) {
      throw DataError("one-vs-rest AUC needs every class, but no row has label " +
                      std::to_string(c) + " (of " + std::to_string(k) + " classes)");
    }
  }
  std::vector<uint64_t> items(n);
  std::vector<double> aucs(k);
  for (int c = 0; c < k; ++c) {
    for (size_t i = 0; i < n; ++i) {
      items[i] = (uint64_t{order_key(probs[i * k + c])} << 32) | uint64_t{y[i] == c};
    }
    aucs[c] = auc_of_items(items, count[c], n - count[c]);
  }
  return mean(aucs);
}

double accuracy(std::span<const float> probs, std::span<const float> labels, int k) {
  DC_CHECK(k >= 2);
  DC_CHECK(probs.size() == labels.size() * static_cast<size_t>(k));
  const size_t n = labels.size();
  require_rows(n);
  size_t correct = 0;
  for (size_t i = 0; i < n; ++i) {
    const int y = class_label(labels[i], k, i);
    int best = 0;
    for (int c = 0; c < k; ++c) {
      require_not_nan(probs[i * k + c], i, "probability");
      if (probs[i * k + c] > probs[i * k + best]) best = c;
    }
    correct += (best == y);
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace deepcross
