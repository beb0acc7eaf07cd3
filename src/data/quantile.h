// QuantileTransform: one numeric field's missing-value imputation and quantile transform to
// [0, 1], the function of scikit-learn 1.2.1's SimpleImputer(mean) followed by
// QuantileTransformer(output_distribution="uniform") (SPEC.md, "Pipeline").
//
// Fit (on training rows only, in double):
//   mean  = mean of the non-missing training values (missing = NaN)
//   S     = a seeded sample of at most max_sample training rows (all if fewer), NaN -> mean
//   n_q   = min(n_quantiles, |S|);  r_k = k / (n_q - 1)   (np.linspace(0, 1, n_q))
//   q_k   = np.nanpercentile(S, 100 r_k): index h = (|S| - 1) * ((100 r_k) / 100),
//           lo = S_(floor h), hi = S_(floor h + 1), g = h - floor h,
//           q = g < 0.5 ? lo + (hi - lo) g : hi - (hi - lo)(1 - g)      (numpy's _lerp)
//   q     = np.maximum.accumulate(q)                                      (non-decreasing)
// Transform (x NaN -> mean first):
//   y = ½ (interp(x, q, r) − interp(−x, −q reversed, −r reversed))   (np.interp, clamped)
//   y = 1 if x == q_last;  then y = 0 if x == q_0    (sklearn's _transform_col for uniform
//                                                      output: exact equality, in this order)
// A field with no value at all in training is empty(): it transforms everything to 0.
//
//   QuantileTransform qt = QuantileTransform::fit(col.values, split.train, seed);
//   if (qt.empty()) warn("I7 has no value in training; it feeds 0");
//   qt.transform(col.values, out);                 // whole column
//   float y = qt.transform(3.0f);                  // one value
//   auto same = QuantileTransform::from_state(qt.mean(), qt.quantiles());   // model loading
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace deepcross {

class QuantileTransform {
 public:
  // `values` holds the whole column (NaN = missing); only the rows in `train_rows` are used.
  // Values must be finite or NaN.
  static QuantileTransform fit(std::span<const float> values, std::span<const uint32_t> train_rows,
                               uint64_t seed, size_t max_sample = 100000, int n_quantiles = 1000);
  // For model loading. Empty `quantiles` gives an empty transform. Throws DataError if the
  // quantiles are not finite and non-decreasing or the mean is not finite (the reader adds
  // where in the file).
  static QuantileTransform from_state(double mean, std::vector<double> quantiles);

  QuantileTransform() = default;

  float transform(float x) const;
  // out[i] = transform(in[i]); the spans must have the same size (may alias).
  void transform(std::span<const float> in, std::span<float> out) const;

  double mean() const { return mean_; }
  const std::vector<double>& quantiles() const { return quantiles_; }
  bool empty() const { return quantiles_.empty(); }

 private:
  void build_references();
  double transform_double(double x) const;

  double mean_ = 0.0;
  std::vector<double> quantiles_;       // q, non-decreasing
  std::vector<double> references_;      // r_k = k / (n_q - 1)
  std::vector<double> neg_quantiles_;   // −q reversed (non-decreasing)
  std::vector<double> neg_references_;  // −r reversed
};

}  // namespace deepcross
