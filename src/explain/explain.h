// Explain: which feature crosses did the model learn — a field × field interaction strength
// read from the cross network's weights (the block-norm heatmap of the DCN-V2 paper, §6.2).
//
//   std::vector<FieldInfo> fields = model_fields(model, names);   // x0 layout, names in order
//   Explanation e = explain_model(model, fields, &sample);  // sample: input spread, mix gates
//   std::cerr << format_top_pairs(e, 20);
//   nlohmann::json j = to_json(e, 20);     // {"cross", "pairs": [{"a", "b", "strength"}], ...}
//
// Every cross layer l is reduced to one D x D map A_l, out x in, that reads x_l and is
// multiplied by x0:  x_{l+1} = x0 ⊙ (x_l A_lᵀ + b_l) + x_l  (row a of A_l: what x0 column a
// is multiplied by, as weights on the input columns b):
//   matrix:  A_l = W_l
//   lowrank: A_l = U_l V_lᵀ                          (z = x V Uᵀ)
//   mix:     A_lk = U_lk C_lkᵀ V_lkᵀ per expert k    (tanh linearised at 0:
//            z = tanh(tanh(x V) C) Uᵀ ≈ x V C Uᵀ = x (U Cᵀ Vᵀ)ᵀ)
//   vector:  A_l = 1 w_lᵀ                            (x0 ⊙ (x_l · w_l): every row is w_l)
// The bias b_l multiplies x0 alone and crosses nothing; it is not scored.
//
// Block score of fields i (width d_i) and j (width d_j): the RMS over the d_i x d_j block
// (rows: i's columns a, columns: j's columns b) of the weights in input units,
//   s_l(i, j) = √( Σ_{a∈i, b∈j} (σ_a · A_l[a, b] · σ_b)² / (d_i · d_j) ),
// σ_c = the spread (standard deviation) of x0 column c (Scale::kInputs, the default), or 1
// (Scale::kWeights: the weights alone, as the DCN-V2 paper's heatmap).
// Why RMS and not the paper's plain Frobenius norm: ‖·‖_F grows with √(d_i d_j), so an 8 x 8
// embedding block would outscore a 1 x 1 numeric block with entries of the same size by 8x
// for its size alone. Under the initial distribution (iid entries of std σ_A) every block has
// E[s²] = σ_A² (with σ_c = 1) whatever its shape: an untrained model scores all pairs alike.
// (Dividing by √d_i only, the output RMS, would still favour wide input fields.)
// Why σ: the term x0_a · A[a, b] · x_b varies with the inputs as σ_a · A[a, b] · σ_b (its
// centred part; the means only add linear terms, not crosses). Numeric inputs lie in [0, 1]
// (σ ≈ 0.29) while embeddings start N(0, 1), so on weights alone numeric fields need ~3x
// larger weights for the same effect and their noisy 1 x 1 blocks crowd the top of the list
// (seen on 13 numeric + 26 categorical planted data: on weights alone 9 of the top 10 pairs
// were numeric, 8 of them noise; in input units only the planted numeric pair was left). σ comes
// from the sample rows when given (population std of each x0 column), otherwise from the model:
// 1/√12 for numeric fields (the quantile transform's output is uniform on [0, 1]) and, per
// embedding column, the std over the table's rows (every id alike, frequency unknown).
//
//   directed   M[i][j] = Σ_l s_l(i, j)                "field i receives from field j"
//   mix:       s_l(i, j) = Σ_k ḡ_lk s_lk(i, j), ḡ_lk = the mean gate softmax(x_l Gᵀ)_k over
//              the sample rows (exact x_l per layer); uniform 1/K without a sample. Weighting
//              each expert's own score avoids cancellations between experts that serve
//              different rows.
//   pair       P(i, j) = (M[i][j] + M[j][i]) / 2      for i < j (the `pairs` list)
//   self       P(i, i) = M[i][i]   (a field with itself: a non-linearity of one field, not a
//              cross between fields; kept in the matrix and the heatmap, not in `pairs`)
//   vector:    no weight belongs to a pair, so the scores separate by definition: field term
//              f_j = ½ Σ_l √(Σ_{b∈j} (σ_b w_l[b])² / d_j), P(i, j) = f_i + f_j (P(i, i) = 2 f_i),
//              M[i][j] = 2 f_j (the weights by which every output reads field j; the output
//              side's σ is left out so that the terms add). `separable` is set.
// init_level = Σ_l σ_A,l · mean_c(σ_c²): the score of weights at their initial size on
// inputs of average spread (exact for Scale::kWeights; a guide for kInputs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/model.h"

namespace deepcross {

// One field's columns in x0: numeric fields first (width 1), then each categorical field's
// embedding columns.
struct FieldInfo {
  std::string name;
  bool categorical = false;
  int column = 0;  // first x0 column
  int width = 1;   // d_i
};

struct PairStrength {
  std::string a, b;  // field names, a before b in field order
  double strength = 0;
};

enum class Scale { kInputs, kWeights };

struct ExplainOptions {
  Scale scale = Scale::kInputs;
};

struct Explanation {
  std::string cross;                        // "matrix" | "lowrank" | "mix" | "vector"
  std::string scale;                        // "inputs" | "weights"
  std::vector<double> column_scale;         // σ_c of every x0 column (D values; 1 for weights)
  int layers = 0;                           // L
  std::vector<std::string> fields;          // F names, in x0 order
  std::vector<bool> categorical;            // F flags
  std::vector<std::vector<double>> matrix;  // F x F directed M: [i][j] = i receives from j
  std::vector<PairStrength> pairs;          // all F(F−1)/2 pairs i < j, strongest first
  bool separable = false;                   // vector cross: P(i, j) = f_i + f_j
  std::vector<double> field_terms;          // f (F values) when separable, else empty
  double init_level = 0;  // M[i][j] of initial-size weights: Σ_l σ_A,l · mean_c(σ_c²)
  std::string note;       // how the scores were made (gates, caveats), one or more sentences
};

// The x0 layout of `model`'s inputs, named in order (numeric names first, then categorical).
// Throws DataError when the count of names differs from the model's fields.
std::vector<FieldInfo> model_fields(Model<float>& model, const std::vector<std::string>& names);

// Scores every field pair from the cross weights (see above). `model` owns its embedding rows
// (not an inference clone). `sample` (may be null; a few
// thousand rows are plenty) supplies the input spreads σ and the mix cross's mean gates.
// Throws DataError when `fields` does not tile the model's x0 (order, widths,
// numeric/categorical kinds) or a sample id is outside its embedding table.
Explanation explain_model(Model<float>& model, const std::vector<FieldInfo>& fields,
                          const Batch<float>* sample, const ExplainOptions& options = {});

// σ_c of every x0 column as explain_model uses it for Scale::kInputs: from the sample rows
// when `sample` has 2 or more rows, else from the model (see above). Throws DataError as above.
std::vector<double> input_spread(Model<float>& model, const Batch<float>* sample);

// The mean gates ḡ_lk (L x K) of a mix-cross model over the sample's rows, from the exact
// x_l of every layer (the forward recomputed in double). Throws DataError as above.
std::vector<std::vector<double>> mix_mean_gates(Model<float>& model, const Batch<float>& sample);

// The INTERFACE JSON {"cross", "pairs": [{"a", "b", "strength"}]} with the top_k pairs
// (top_k <= 0: all), strongest first; also "layers", "separable", "init_level", "note",
// "scale", "self": [{"field", "strength"}] (field order), "field_terms": [{"field", "term"}] (when
// separable) and "matrix": {"fields", "rows"} (the directed F x F matrix).
nlohmann::json to_json(const Explanation& e, int top_k);

// An aligned text table of the top_k pairs (top_k <= 0: all) for stderr; for a separable
// (vector) cross also the per-field terms, strongest first.
std::string format_top_pairs(const Explanation& e, int top_k);

// A strength printed with 4 significant digits ("0.01234"), as the table and SVG show it.
std::string format_strength(double v);

}  // namespace deepcross
