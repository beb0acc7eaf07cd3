// ModelConfig: the shape of a DeepCross model (SPEC.md, "Model"), independent of data.
//
//   ModelConfig c;
//   c.num_numeric = 13; c.vocab_sizes = {1460, 583, ...};  // rows of each embedding table
//   c.cross = CrossType::kMatrix; c.cross_layers = 2;
//   Model<float> m(c, /*seed=*/42);
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

enum class CrossType { kVector, kMatrix, kMix, kLowRank };
enum class Structure { kStacked, kParallel };

struct ModelConfig {
  int num_numeric = 0;           // d_num: numeric inputs (already transformed)
  std::vector<int> vocab_sizes;  // c_j: rows of each categorical field's embedding table
  int embed_max = 8;             // d_embed_max
  CrossType cross = CrossType::kMatrix;
  Structure structure = Structure::kStacked;
  int cross_layers = 2;          // L (0 allowed: no cross network, x_L = x0)
  int low_rank = 32;             // r (mix, lowrank)
  int experts = 4;               // K (mix)
  std::vector<int> mlp = {128, 64, 32};
  double dropout = 0.25;
  int classes = 1;               // 1: one logit + BCE; n > 1: n logits + softmax CE

  int num_categorical() const { return static_cast<int>(vocab_sizes.size()); }
  int outputs() const { return classes == 1 ? 1 : classes; }
};

// d_j = min(max(floor(sqrt(c_j)), 2), embed_max)  (SPEC step 1)
int embedding_width(int vocab_size, int embed_max);
// D = d_num + Σ d_j
int input_width(const ModelConfig& c);

std::string_view to_string(CrossType t);
std::string_view to_string(Structure s);
// Parse "vector|matrix|mix|lowrank" / "stacked|parallel"; return false when unknown.
bool parse_cross_type(std::string_view s, CrossType* out);
bool parse_structure(std::string_view s, Structure* out);

// Throws UsageError when the configuration cannot describe a model (naming the field).
void validate(const ModelConfig& c);

}  // namespace deepcross
