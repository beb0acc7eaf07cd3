#include "data/quantile.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/check.h"
#include "core/rng.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

// np.interp(x, xp, fp) for one finite x, xp non-decreasing (numpy 1.24 arr_interp):
// clamped to fp[0] / fp[last] outside [xp[0], xp[last]]; j = the last index with xp[j] <= x;
// x == xp[j] (or j last) gives fp[j]; otherwise fp[j] + slope (x − xp[j]).
double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp) {
  const size_t n = xp.size();
  if (n == 1) return fp[0];
  if (x > xp[n - 1]) return fp[n - 1];
  if (x < xp[0]) return fp[0];
  const size_t j = static_cast<size_t>(std::upper_bound(xp.begin(), xp.end(), x) - xp.begin()) - 1;
  if (j == n - 1 || xp[j] == x) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  double y = slope * (x - xp[j]) + fp[j];
  if (std::isnan(y)) {  // numpy retries from the other end, then falls back to fp[j]
    y = slope * (x - xp[j + 1]) + fp[j + 1];
    if (std::isnan(y) && fp[j] == fp[j + 1]) y = fp[j];
  }
  return y;
}

// A seeded sample of k of the m positions 0..m-1 without replacement (Floyd's algorithm),
// returned in increasing order.
std::vector<size_t> sample_positions(size_t m, size_t k, uint64_t seed) {
  Rng rng(seed);
  std::vector<bool> chosen(m, false);
  for (size_t j = m - k; j < m; ++j) {
    const size_t t = static_cast<size_t>(rng.below(j + 1));
    chosen[chosen[t] ? j : t] = true;
  }
  std::vector<size_t> positions;
  positions.reserve(k);
  for (size_t i = 0; i < m; ++i) {
    if (chosen[i]) positions.push_back(i);
  }
  return positions;
}

}  // namespace

QuantileTransform QuantileTransform::fit(std::span<const float> values,
                                         std::span<const uint32_t> train_rows, uint64_t seed,
                                         size_t max_sample, int n_quantiles) {
  DC_CHECK(max_sample >= 1);
  DC_CHECK(n_quantiles >= 1);
  QuantileTransform qt;
  // SimpleImputer(strategy="mean"): the mean of the non-missing training values.
  long double sum = 0;
  size_t count = 0;
  for (uint32_t row : train_rows) {
    DC_CHECK(row < values.size());
    const float v = values[row];
    if (std::isnan(v)) continue;
    sum += v;
    ++count;
  }
  if (count == 0) return qt;  // no value at all: empty, transforms to 0
  qt.mean_ = static_cast<double>(sum / static_cast<long double>(count));

  // The sample the quantiles are fitted on, missing values imputed, sorted.
  std::vector<double> sample;
  if (train_rows.size() <= max_sample) {
    sample.reserve(train_rows.size());
    for (uint32_t row : train_rows) sample.push_back(values[row]);
  } else {
    sample.reserve(max_sample);
    for (size_t pos : sample_positions(train_rows.size(), max_sample, seed)) {
      sample.push_back(values[train_rows[pos]]);
    }
  }
  for (double& v : sample) {
    if (std::isnan(v)) v = qt.mean_;
  }
  std::sort(sample.begin(), sample.end());

  const size_t n = sample.size();
  const size_t n_q = std::min(static_cast<size_t>(n_quantiles), n);
  qt.quantiles_.resize(n_q);
  qt.build_references();
  for (size_t k = 0; k < n_q; ++k) {
    // np.nanpercentile(S, references * 100): percent back to a fraction, then numpy's
    // "linear" method: virtual index h = (n − 1) p between order statistics.
    const double p = (qt.references_[k] * 100.0) / 100.0;
    const double h = static_cast<double>(n - 1) * p;
    const double below = std::floor(h);
    size_t lo_index = static_cast<size_t>(below);
    size_t hi_index = lo_index + 1;
    if (h >= static_cast<double>(n - 1)) lo_index = hi_index = n - 1;
    const double lo = sample[lo_index];
    const double hi = sample[hi_index];
    // numpy's _lerp: gamma g = h − floor(h) (past the end both ends are the last value, so
    // numpy's different gamma there does not matter).
    const double g = h - below;
    const double diff = hi - lo;
    qt.quantiles_[k] = g >= 0.5 ? hi - diff * (1 - g) : lo + diff * g;
  }
  // np.maximum.accumulate: rounding in the interpolation may break monotonicity.
  for (size_t k = 1; k < n_q; ++k) {
    qt.quantiles_[k] = std::max(qt.quantiles_[k], qt.quantiles_[k - 1]);
  }
  qt.build_references();
  return qt;
}

QuantileTransform QuantileTransform::from_state(double mean, std::vector<double> quantiles) {
  QuantileTransform qt;
  if (quantiles.empty()) return qt;
  if (!std::isfinite(mean)) throw DataError("numeric transform mean is not finite");
  for (size_t k = 0; k < quantiles.size(); ++k) {
    if (!std::isfinite(quantiles[k])) {
      throw DataError("numeric transform quantile " + std::to_string(k) + " is not finite");
    }
    if (k > 0 && quantiles[k] < quantiles[k - 1]) {
      throw DataError("numeric transform quantiles decrease at index " + std::to_string(k));
    }
  }
  qt.mean_ = mean;
  qt.quantiles_ = std::move(quantiles);
  qt.build_references();
  return qt;
}

// references_ = np.linspace(0, 1, n_q): k * (1 / (n_q − 1)), the last exactly 1; the
// negated, reversed copies for the second interpolation direction.
void QuantileTransform::build_references() {
  const size_t n_q = quantiles_.size();
  references_.assign(n_q, 0.0);
  if (n_q > 1) {
    const double step = 1.0 / static_cast<double>(n_q - 1);
    for (size_t k = 0; k < n_q; ++k) references_[k] = static_cast<double>(k) * step;
    references_[n_q - 1] = 1.0;
  }
  neg_quantiles_.resize(n_q);
  neg_references_.resize(n_q);
  for (size_t k = 0; k < n_q; ++k) {
    neg_quantiles_[k] = -quantiles_[n_q - 1 - k];
    neg_references_[k] = -references_[n_q - 1 - k];
  }
}

double QuantileTransform::transform_double(double x) const {
  if (quantiles_.empty()) return 0.0;
  if (std::isnan(x)) x = mean_;
  // Averaging both directions maps a run of repeated quantiles to its midpoint.
  double y =
      0.5 * (interp(x, quantiles_, references_) - interp(-x, neg_quantiles_, neg_references_));
  if (x == quantiles_.back()) y = 1.0;
  if (x == quantiles_.front()) y = 0.0;
  return y;
}

float QuantileTransform::transform(float x) const {
  return static_cast<float>(transform_double(x));
}

void QuantileTransform::transform(std::span<const float> in, std::span<float> out) const {
  DC_CHECK(in.size() == out.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = static_cast<float>(transform_double(in[i]));
}

}  // namespace deepcross
