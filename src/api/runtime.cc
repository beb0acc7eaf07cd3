// include/deepcross/runtime.h and include/deepcross/synth.h over core/float_env.h,
// io/whole_file.h and data/synth.h.
#include "deepcross/runtime.h"
#include "deepcross/synth.h"

#include <cstdint>
#include <span>

#include "core/float_env.h"
#include "data/synth.h"
#include "io/whole_file.h"

namespace deepcross {

void write_text_file(const std::string& path, std::string_view text) {
  const std::span<const uint8_t> piece(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  write_whole_file_atomically(path, std::span<const std::span<const uint8_t>>(&piece, 1));
}

namespace {

SynthOptions synth_options(const SynthSpec& spec) {
  SynthOptions s = default_synth_options();
  s.rows = spec.rows;
  s.seed = spec.seed;
  s.cardinality_scale = spec.cardinality_scale;
  s.with_label = spec.with_label;
  validate_synth_options(s);
  return s;
}

}  // namespace

void write_synthetic(std::ostream& out, const SynthSpec& spec) {
  write_synth(out, synth_options(spec));
}

void write_synthetic_file(const std::string& path, const SynthSpec& spec) {
  write_synth_file(path, synth_options(spec));
}

std::vector<std::pair<std::string, std::string>> synthetic_planted_pairs(const SynthSpec& spec) {
  return planted_pair_names(synth_options(spec));
}

}  // namespace deepcross
