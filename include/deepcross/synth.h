// Synthetic Criteo-shaped rows with planted feature crosses (`deepcross synth`): labels drawn
// from a logistic model of per-category effects plus a few planted field pairs and a triple,
// so that a cross network has something to find.
//
//   deepcross::SynthSpec s;
//   s.rows = 10000;
//   deepcross::write_synthetic_file("synth.tsv", s);  // 40 fields per row (39 without labels)
//   for (auto& [a, b] : deepcross::synthetic_planted_pairs(s)) std::printf("%s×%s\n", ...);
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace deepcross {

struct SynthSpec {
  uint64_t rows = 500000;
  uint64_t seed = 1;
  double cardinality_scale = 1.0;  // multiplies every field's cardinality, in (0, 16]
  bool with_label = true;          // false: 39-field rows (for predict)
};

// UsageError naming the field for a spec out of range.
void write_synthetic(std::ostream& out, const SynthSpec& spec);
void write_synthetic_file(const std::string& path, const SynthSpec& spec);
// The planted field pairs, by column name (e.g. {"C19", "C27"}).
std::vector<std::pair<std::string, std::string>> synthetic_planted_pairs(const SynthSpec& spec);

}  // namespace deepcross
