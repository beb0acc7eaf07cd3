// A generator of Criteo-shaped rows with planted feature crosses (MEASUREMENTS.md's recipe).
//
// Each row is raw Criteo TSV: label \t I1..I13 \t C14..C39 \n (no label with with_label = false).
//   - I1..I13: round(exp(1 + 1.5 z)), z ~ N(0, 1) (log-normal μ 1, σ 1.5); 20 % empty.
//   - C14..C39: category index k ~ Zipf(1.3) over the field's cardinality n (P(k) ∝ (k+1)^-1.3,
//     k = 0..n-1, so index 0 is the most frequent), printed as 8 lowercase hex digits of
//     synth_category_code(field, k): a bijection of k per field that ignores the seed, so one
//     category prints the same in every row and file and no two categories of a field collide.
//     Empty with 2 % probability in large fields (base cardinality >= kSynthLargeField = 1000,
//     15 fields) and 30 % in small ones (11 fields); the threshold uses the base cardinality,
//     so cardinality_scale does not change the missing rates.
//   - label ~ Bernoulli(sigmoid(logit)), with (a missing category is one more level, index n)
//       logit = b0 + category_scale · Σ_f g(f, k_f)                  per-category effects
//                  + cross_scale · Σ_(f1,f2) g(f1, f2, k_f1, k_f2)     planted pairs
//                  + cross_scale · g(f1, f2, f3, k_f1, k_f2, k_f3)     planted triple
//                  + 0.35 t(I1) − 0.30 t(I3) + 0.40 [I6 >= 20]         numeric terms
//     where g(...) is an approximately N(0, 1) draw from a hash of (seed, its arguments)
//     (Irwin–Hall sum of four uniforms, rescaled: in [−3.46, 3.46]), computed on demand, not
//     stored; t(v) = (log1p(v) − 1.3) / 1.3 and a missing numeric contributes 0. The intercept
//     b0 is solved (bisection) so that the mean of sigmoid(logit) over a seeded 20,000-row pilot
//     sample equals target_positive_rate (default 0.28).
// Rows come in blocks of 4096, each drawn from its own Rng stream (seed, block), so the output
// depends only on the options: identical bytes for equal options, and the first r rows are the
// same whatever `rows` is. with_label = false prints exactly the same rows without the label.
//
//   SynthOptions opts = default_synth_options();
//   opts.rows = 20000;
//   opts.cardinality_scale = 0.01;            // 305000 → 3050 categories, 3 → 2, ...
//   write_synth_file("/tmp/train.tsv.gz", opts);
//   planted_pair_names(opts);                 // {{"C19","C27"}, {"C15","C38"}, ...}
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace deepcross {

inline constexpr int kSynthNumeric = 13;      // I1..I13
inline constexpr int kSynthCategorical = 26;  // C14..C39
// Criteo-like cardinalities of C14..C39, before cardinality_scale.
inline constexpr std::array<uint64_t, kSynthCategorical> kSynthBaseCardinalities = {
    1460, 583,   305000, 124000, 305,  24,   12500, 633,    3,  93000, 5600,  287000, 3194,
    27,   14000, 200000, 10,     5600, 2173, 4,     260000, 18, 15,    54000, 105,    41000};
// A field whose base cardinality is at least this is "large" (2 % missing), else "small" (30 %).
inline constexpr uint64_t kSynthLargeField = 1000;

struct SynthOptions {
  uint64_t rows = 500000;
  uint64_t seed = 1;
  // Multiplies every cardinality: n = max(2, round(base · scale)). In (0, 16].
  double cardinality_scale = 1.0;
  // false: 39-field rows (for predict); the rows are otherwise identical to with_label = true.
  bool with_label = true;
  // The planted structure, as 0-based categorical field indices (0 = C14, 25 = C39); fields of
  // small and medium cardinality, so that their combinations repeat often enough to be learnt.
  // Default pairs: C19×C27, C15×C38, C18×C35, C21×C36, C14×C30; default triple: C22×C33×C26.
  // An empty triple plants none. The two fields of a pair (three of the triple) must differ.
  std::vector<std::pair<int, int>> planted_pairs = {{5, 13}, {1, 24}, {4, 21}, {7, 22}, {0, 16}};
  std::vector<int> planted_triple = {8, 19, 12};
  // σ of each planted pair/triple cell effect on the logit (>= 0; 0 removes the crosses).
  double cross_scale = 0.6;
  // σ of each per-category effect on the logit (>= 0).
  double category_scale = 0.2;
  // The intercept is solved so that about this share of labels is positive. In (0, 1).
  double target_positive_rate = 0.28;
};

// The documented defaults (the same as a value-initialised SynthOptions).
SynthOptions default_synth_options();

// Throws UsageError (WHERE = "SynthOptions.<member>") if an option is out of range.
void validate_synth_options(const SynthOptions& opts);

// The cardinalities after cardinality_scale, C14..C39. Validates opts.
std::vector<uint64_t> synth_cardinalities(const SynthOptions& opts);

// The printed code of category `index` of categorical field `field` (0 = C14), and its inverse
// (any 32-bit code maps back to some index; one beyond the field's cardinality was never
// printed). A bijection on 32 bits per field, independent of the seed.
uint32_t synth_category_code(int field, uint64_t index);
uint64_t synth_category_index(int field, uint32_t code);

// "C14".."C39" for field 0..25.
std::string synth_field_name(int field);

// Writes opts.rows rows as Criteo TSV to `out`. Deterministic in opts: identical bytes for the
// same options. Throws UsageError for bad options, DataError if the stream fails.
void write_synth(std::ostream& out, const SynthOptions& opts);

// Writes to a file, gzip-compressed (zlib) when the path ends in ".gz". DataError (WHERE = the
// path, with the byte offset reached for write failures) on any I/O failure.
void write_synth_file(const std::string& path, const SynthOptions& opts);

// The names of the planted fields, e.g. {{"C19","C27"}, ...} and {"C22","C33","C26"}.
std::vector<std::pair<std::string, std::string>> planted_pair_names(const SynthOptions& opts);
std::vector<std::string> planted_triple_names(const SynthOptions& opts);

}  // namespace deepcross
