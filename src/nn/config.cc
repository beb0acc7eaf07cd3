#include "nn/config.h"

#include <cmath>
#include <string>

#include "deepcross/error.h"
#include "deepcross/limits.h"

namespace deepcross {

int embedding_width(int vocab_size, int embed_max) {
  int w = static_cast<int>(std::floor(std::sqrt(static_cast<double>(vocab_size))));
  // floor(sqrt(c)) computed in double can be off by one for large perfect squares; fix it.
  while (static_cast<long long>(w + 1) * (w + 1) <= vocab_size) ++w;
  while (w > 0 && static_cast<long long>(w) * w > vocab_size) --w;
  if (w < 2) w = 2;
  if (w > embed_max) w = embed_max;
  return w;
}

int input_width(const ModelConfig& c) {
  int d = c.num_numeric;
  for (int v : c.vocab_sizes) d += embedding_width(v, c.embed_max);
  return d;
}

std::string_view to_string(CrossType t) {
  switch (t) {
    case CrossType::kVector: return "vector";
    case CrossType::kMatrix: return "matrix";
    case CrossType::kMix: return "mix";
    case CrossType::kLowRank: return "lowrank";
  }
  return "?";
}

std::string_view to_string(Structure s) {
  return s == Structure::kStacked ? "stacked" : "parallel";
}

bool parse_cross_type(std::string_view s, CrossType* out) {
  for (CrossType t : {CrossType::kVector, CrossType::kMatrix, CrossType::kMix, CrossType::kLowRank}) {
    if (s == to_string(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

bool parse_structure(std::string_view s, Structure* out) {
  for (Structure t : {Structure::kStacked, Structure::kParallel}) {
    if (s == to_string(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

void validate(const ModelConfig& c) {
  auto fail = [](const std::string& what, const char* where) { throw UsageError(what, where); };
  if (c.num_numeric < 0) fail("the number of numeric inputs is negative", "num_numeric");
  if (c.num_numeric == 0 && c.vocab_sizes.empty()) fail("the model has no input fields", "fields");
  for (size_t j = 0; j < c.vocab_sizes.size(); ++j) {
    if (c.vocab_sizes[j] < 1) {
      fail("categorical field " + std::to_string(j) + " has an empty vocabulary", "vocabulary");
    }
  }
  if (c.embed_max < limits::kMinEmbedMax) fail("must be at least " + std::to_string(limits::kMinEmbedMax), "embed_max");
  if (c.cross_layers < 0) fail("must be at least 0", "cross_layers");
  if (c.low_rank < 1) fail("must be at least 1", "low_rank");
  if (c.experts < 1) fail("must be at least 1", "experts");
  if (c.mlp.empty()) fail("needs at least one hidden layer", "mlp");
  for (int h : c.mlp) {
    if (h < 1) fail("hidden sizes must be at least 1", "mlp");
  }
  if (!(c.dropout >= 0.0 && c.dropout < 1.0)) fail("must be in [0, 1)", "dropout");
  if (c.classes < 1) fail("must be at least 1", "classes");
  // Sanity caps: far beyond any useful model, small enough that a hostile model file cannot
  // make the loader allocate without bound before its tensors are checked.
  if (c.embed_max > limits::kMaxEmbedMax) fail("must be at most " + std::to_string(limits::kMaxEmbedMax), "embed_max");
  if (c.cross_layers > limits::kMaxCrossLayers) fail("must be at most " + std::to_string(limits::kMaxCrossLayers), "cross_layers");
  if (c.low_rank > limits::kMaxLowRank) fail("must be at most " + std::to_string(limits::kMaxLowRank), "low_rank");
  if (c.experts > limits::kMaxExperts) fail("must be at most " + std::to_string(limits::kMaxExperts), "experts");
  if (c.classes > limits::kMaxClasses) fail("must be at most " + std::to_string(limits::kMaxClasses), "classes");
  if (c.num_numeric > 100000) fail("too many numeric inputs", "num_numeric");
  if (c.vocab_sizes.size() > 100000) fail("too many categorical fields", "fields");
  for (int h : c.mlp) {
    if (h > limits::kMaxHidden) fail("hidden sizes must be at most " + std::to_string(limits::kMaxHidden), "mlp");
  }
  if (input_width(c) > 65536) fail("the model input is wider than 65536", "fields");
}

}  // namespace deepcross
