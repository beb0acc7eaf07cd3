// "Did you mean ...?": the closest name by edit distance, for unknown flags, config keys,
// enum values and subcommands.
//
//   edit_distance("lrr", "lr");                        // 1
//   closest_name("lrr", {"lr", "epochs", "seed"});     // "lr"
//   closest_name("zzz", {"lr", "epochs", "seed"});     // "" (nothing close enough)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
// that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name`, or "" when none is close: a candidate qualifies when its
// distance is at most 1 for names of up to 4 characters and at most 2 for longer ones, and
// below the longer of the two lengths (so "x" does not suggest "y"). Ties go to the candidate
// listed first.
std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace deepcross
