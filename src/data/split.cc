#include "data/split.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "core/check.h"
#include "core/rng.h"
#include "deepcross/error.h"

namespace deepcross {

Split split_rows(size_t n, uint64_t seed, double test_fraction, double valid_fraction) {
  DC_CHECK(test_fraction >= 0 && test_fraction < 1);
  DC_CHECK(valid_fraction >= 0 && valid_fraction < 1);
  if (n > std::numeric_limits<uint32_t>::max()) {
    throw DataError("too many rows to split (" + std::to_string(n) + "; at most " +
                    std::to_string(std::numeric_limits<uint32_t>::max()) + ")");
  }
  // scikit-learn's _validate_shuffle_split: the held-out part is rounded up.
  const size_t n_test = static_cast<size_t>(std::ceil(test_fraction * static_cast<double>(n)));
  const size_t rest = n - n_test;
  const size_t n_valid = static_cast<size_t>(std::ceil(valid_fraction * static_cast<double>(rest)));
  const size_t n_train = rest - n_valid;
  if (n_train == 0) {
    throw DataError("cannot split " + std::to_string(n) + " rows: " + std::to_string(n_test) +
                    " test and " + std::to_string(n_valid) +
                    " validation rows leave no training row; give more data or --valid/--test");
  }

  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(seed);
  for (size_t i = n; i > 1; --i) {  // Fisher-Yates
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(order[i - 1], order[j]);
  }
  Split split;
  split.test.assign(order.begin(), order.begin() + n_test);
  split.valid.assign(order.begin() + n_test, order.begin() + n_test + n_valid);
  split.train.assign(order.begin() + n_test + n_valid, order.end());
  return split;
}

}  // namespace deepcross
