// Split: the train / validation / test row split used when only --data is given
// (SPEC.md, "Pipeline"), with scikit-learn's rounding (train_test_split twice):
//   test  = ceil(test_fraction · n)
//   valid = ceil(valid_fraction · (n − test))
//   train = n − test − valid
// 10,109 rows → 6,469 / 1,618 / 2,022 with the default 0.2 / 0.2.
//
// The rows 0..n-1 are shuffled (Fisher-Yates with deepcross's Rng, so not numpy's
// permutation) and cut as [test | valid | train]; each list is returned in that SHUFFLED
// order, not sorted. The same n and seed always give the same split.
//
//   Split s = split_rows(table.rows, config.seed);
//   auto vocab = Vocabulary::fit(table.categorical[0], s.train, 1);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deepcross {

struct Split {
  std::vector<uint32_t> train, valid, test;  // row indices, in shuffled order
};

// Fractions must lie in [0, 1) (checked: a wrong fraction is a programming error).
// Throws DataError if the training part would be empty (too few rows) or n does not fit
// 32-bit row indices.
Split split_rows(size_t n, uint64_t seed, double test_fraction = 0.2, double valid_fraction = 0.2);

}  // namespace deepcross
