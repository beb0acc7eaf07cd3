#include "explain/explain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "core/check.h"
#include "deepcross/error.h"
#include "nn/init.h"

namespace deepcross {
namespace {

std::string field_where(const FieldInfo& f) {
  return "field " + f.name + " (x0 columns " + std::to_string(f.column) + ".." +
         std::to_string(f.column + f.width - 1) + ")";
}

// The fields must tile x0 = [numeric (width 1 each) | categorical j (width d_j)] exactly.
void check_layout(Model<float>& model, const std::vector<FieldInfo>& fields) {
  const ModelConfig& c = model.config();
  const auto& tables = model.embedding_tables();
  const size_t expected = static_cast<size_t>(c.num_numeric) + tables.size();
  if (fields.size() != expected) {
    throw DataError("the field list has " + std::to_string(fields.size()) +
                        " fields, the model has " + std::to_string(expected) + " (" +
                        std::to_string(c.num_numeric) + " numeric, " +
                        std::to_string(tables.size()) + " categorical)",
                    "explain field layout");
  }
  for (const auto& t : tables) {
    // The model must own its rows (an inference clone reads another model's tables).
    DC_CHECK(t.weight.size() == static_cast<size_t>(t.rows) * t.width);
  }
  std::set<std::string> seen;
  int column = 0;
  for (size_t k = 0; k < fields.size(); ++k) {
    const FieldInfo& f = fields[k];
    const bool numeric = static_cast<int>(k) < c.num_numeric;
    if (f.name.empty()) {
      throw DataError("field " + std::to_string(k + 1) + " has an empty name",
                      "explain field layout");
    }
    if (!seen.insert(f.name).second) {
      throw DataError("field name '" + f.name + "' appears twice", field_where(f));
    }
    if (f.categorical == numeric) {
      throw DataError(std::string("field is ") + (f.categorical ? "categorical" : "numeric") +
                          " but the model's input " + std::to_string(k + 1) + " is " +
                          (numeric ? "numeric" : "categorical"),
                      field_where(f));
    }
    const int width = numeric ? 1 : tables[k - c.num_numeric].width;
    if (f.width != width || f.column != column) {
      throw DataError("field layout does not match the model: expected x0 columns " +
                          std::to_string(column) + ".." + std::to_string(column + width - 1),
                      field_where(f));
    }
    column += width;
  }
  DC_CHECK(column == model.input_width());
}

// M[i][j] += weight · √(Σ (σ_a A[a, b] σ_b)² / (d_i d_j)) for one D x D map A (row-major,
// out x in), over each field block.
void add_block_rms(const std::vector<double>& a, const std::vector<double>& sigma,
                   const std::vector<FieldInfo>& fields, double weight,
                   std::vector<std::vector<double>>& m) {
  const size_t n = fields.size(), d = sigma.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const FieldInfo &fi = fields[i], &fj = fields[j];
      double sq = 0;
      for (int r = fi.column; r < fi.column + fi.width; ++r) {
        const double* row = a.data() + static_cast<size_t>(r) * d;
        for (int c = fj.column; c < fj.column + fj.width; ++c) {
          const double v = sigma[r] * row[c] * sigma[c];
          sq += v * v;
        }
      }
      m[i][j] += weight * std::sqrt(sq / (static_cast<double>(fi.width) * fj.width));
    }
  }
}

// A = U Vᵀ (D x D) from U, V: D x r row-major.
template <typename TU>
std::vector<double> low_rank_map(const TU* u, const float* v, int d, int r) {
  std::vector<double> a(static_cast<size_t>(d) * d, 0.0);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      double s = 0;
      for (int k = 0; k < r; ++k) s += double(u[i * r + k]) * v[j * r + k];
      a[static_cast<size_t>(i) * d + j] = s;
    }
  }
  return a;
}

// A = U Cᵀ Vᵀ (D x D): the expert's map with both tanh linearised at 0 (U, V: D x r; C: r x r).
std::vector<double> mix_expert_map(const float* u, const float* c, const float* v, int d, int r) {
  std::vector<double> uct(static_cast<size_t>(d) * r);  // (U Cᵀ)_am = Σ_k U_ak C_mk
  for (int a = 0; a < d; ++a) {
    for (int m = 0; m < r; ++m) {
      double s = 0;
      for (int k = 0; k < r; ++k) s += double(u[a * r + k]) * c[m * r + k];
      uct[static_cast<size_t>(a) * r + m] = s;
    }
  }
  return low_rank_map(uct.data(), v, d, r);
}

const float* param(Model<float>& model, const std::string& name) {
  const int id = model.params().find(name);
  DC_CHECK(id >= 0);
  return model.params().value(id);
}

// One row's x0 in double: x_num, then each field's embedding row.
void row_x0(Model<float>& model, const Batch<float>& b, int row, std::vector<double>& x0) {
  const int n_num = model.config().num_numeric;
  auto& tables = model.embedding_tables();
  const int n_cat = static_cast<int>(tables.size());
  DC_CHECK(n_num == 0 || b.x_num != nullptr);
  DC_CHECK(n_cat == 0 || b.x_cat != nullptr);
  x0.assign(model.input_width(), 0.0);
  for (int i = 0; i < n_num; ++i) x0[i] = b.x_num[static_cast<size_t>(row) * n_num + i];
  int col = n_num;
  for (int j = 0; j < n_cat; ++j) {
    const int32_t id = b.x_cat[static_cast<size_t>(row) * n_cat + j];
    const auto& t = tables[j];
    if (id < 0 || id >= t.rows) {
      throw DataError("id " + std::to_string(id) + " is outside embedding table " +
                          std::to_string(j + 1) + " (" + std::to_string(t.rows) + " rows)",
                      "explain sample row " + std::to_string(row + 1) + ", categorical field " +
                          std::to_string(j + 1));
    }
    const float* e = t.weight.data() + static_cast<size_t>(id) * t.width;
    for (int c = 0; c < t.width; ++c) x0[col + c] = e[c];
    col += t.width;
  }
}

std::string cross_name(CrossType t) { return std::string(to_string(t)); }

}  // namespace

std::string format_strength(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::vector<FieldInfo> model_fields(Model<float>& model, const std::vector<std::string>& names) {
  const int n_num = model.config().num_numeric;
  const auto& tables = model.embedding_tables();
  const size_t expected = static_cast<size_t>(n_num) + tables.size();
  if (names.size() != expected) {
    throw DataError("the model has " + std::to_string(expected) + " fields, " +
                        std::to_string(names.size()) + " names were given",
                    "explain field names");
  }
  std::vector<FieldInfo> fields;
  int column = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    const bool cat = static_cast<int>(k) >= n_num;
    const int width = cat ? tables[k - n_num].width : 1;
    fields.push_back({names[k], cat, column, width});
    column += width;
  }
  return fields;
}

std::vector<std::vector<double>> mix_mean_gates(Model<float>& model, const Batch<float>& sample) {
  const ModelConfig& c = model.config();
  DC_CHECK(c.cross == CrossType::kMix);
  const int d = model.input_width(), r = c.low_rank, kx = c.experts, layers = c.cross_layers;
  std::vector<std::vector<double>> mean(layers, std::vector<double>(kx, 0.0));
  if (sample.size < 1) return mean;
  const float* g = param(model, "cross.gate");  // K x D
  std::vector<const float*> u(layers), v(layers), cm(layers), bias(layers);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    u[l] = param(model, p + ".U");
    v[l] = param(model, p + ".V");
    cm[l] = param(model, p + ".C");
    bias[l] = param(model, p + ".b");
  }
  std::vector<double> x0, xl, next(d), pi(kx), a(r), ca(r);
  for (int row = 0; row < sample.size; ++row) {
    row_x0(model, sample, row, x0);
    xl = x0;
    for (int l = 0; l < layers; ++l) {
      // π = softmax(x_l Gᵀ), max-subtracted.
      for (int k = 0; k < kx; ++k) {
        double s = 0;
        for (int j = 0; j < d; ++j) s += xl[j] * g[static_cast<size_t>(k) * d + j];
        pi[k] = s;
      }
      const double top = *std::max_element(pi.begin(), pi.end());
      double total = 0;
      for (double& p : pi) total += (p = std::exp(p - top));
      for (int k = 0; k < kx; ++k) mean[l][k] += (pi[k] /= total);
      if (l + 1 == layers) break;
      // x_{l+1} = Σ_k π_k x0 ⊙ (tanh(tanh(x_l V_k) C_k) U_kᵀ + b) + x_l
      for (int j = 0; j < d; ++j) next[j] = 0;
      const size_t dr = static_cast<size_t>(d) * r, rr = static_cast<size_t>(r) * r;
      for (int k = 0; k < kx; ++k) {
        const float *vk = v[l] + k * dr, *ck = cm[l] + k * rr, *uk = u[l] + k * dr;
        for (int m = 0; m < r; ++m) {
          double s = 0;
          for (int j = 0; j < d; ++j) s += xl[j] * vk[static_cast<size_t>(j) * r + m];
          a[m] = std::tanh(s);
        }
        for (int m = 0; m < r; ++m) {
          double s = 0;
          for (int q = 0; q < r; ++q) s += a[q] * ck[static_cast<size_t>(q) * r + m];
          ca[m] = std::tanh(s);
        }
        for (int j = 0; j < d; ++j) {
          double z = bias[l][j];
          for (int m = 0; m < r; ++m) z += ca[m] * uk[static_cast<size_t>(j) * r + m];
          next[j] += pi[k] * x0[j] * z;
        }
      }
      for (int j = 0; j < d; ++j) xl[j] += next[j];
    }
  }
  for (auto& layer : mean) {
    for (double& m : layer) m /= sample.size;
  }
  return mean;
}

std::vector<double> input_spread(Model<float>& model, const Batch<float>* sample) {
  const int d = model.input_width(), n_num = model.config().num_numeric;
  std::vector<double> sigma(d, 0.0);
  if (sample != nullptr && sample->size >= 2) {
    std::vector<double> sum(d, 0.0), sq(d, 0.0), x0;
    for (int row = 0; row < sample->size; ++row) {
      row_x0(model, *sample, row, x0);
      for (int c = 0; c < d; ++c) sum[c] += x0[c];
    }
    for (int c = 0; c < d; ++c) sum[c] /= sample->size;  // now the mean
    for (int row = 0; row < sample->size; ++row) {
      row_x0(model, *sample, row, x0);
      for (int c = 0; c < d; ++c) sq[c] += (x0[c] - sum[c]) * (x0[c] - sum[c]);
    }
    for (int c = 0; c < d; ++c) sigma[c] = std::sqrt(sq[c] / sample->size);
    return sigma;
  }
  for (int c = 0; c < n_num; ++c) sigma[c] = 1 / std::sqrt(12.0);  // U[0, 1]
  int col = n_num;
  for (const auto& t : model.embedding_tables()) {
    for (int c = 0; c < t.width; ++c) {
      double mean = 0, sq = 0;
      for (int r = 0; r < t.rows; ++r) mean += t.weight[static_cast<size_t>(r) * t.width + c];
      mean /= t.rows;
      for (int r = 0; r < t.rows; ++r) {
        const double v = t.weight[static_cast<size_t>(r) * t.width + c] - mean;
        sq += v * v;
      }
      sigma[col + c] = std::sqrt(sq / t.rows);
    }
    col += t.width;
  }
  return sigma;
}

Explanation explain_model(Model<float>& model, const std::vector<FieldInfo>& fields,
                          const Batch<float>* sample, const ExplainOptions& options) {
  check_layout(model, fields);
  const ModelConfig& c = model.config();
  const int d = model.input_width(), layers = c.cross_layers, r = c.low_rank;
  const size_t n = fields.size();
  const bool rows = sample != nullptr && sample->size > 0;
  Explanation e;
  e.cross = cross_name(c.cross);
  e.layers = layers;
  for (const auto& f : fields) {
    e.fields.push_back(f.name);
    e.categorical.push_back(f.categorical);
  }
  e.matrix.assign(n, std::vector<double>(n, 0.0));
  std::string note =
      c.cross == CrossType::kVector
          ? "Vector cross: every output reads x_l through the same w_l, so the scores "
            "separate: strength(a, b) = term(a) + term(b), term(f) = half of the sum over "
            "the " +
                std::to_string(layers) +
                " cross layers of the RMS of s_b w_l[b] over f's columns b (s: input spread); "
                "the ranking of pairs is the ranking of fields."
          : "strength = RMS over the field block of s_a A_l[a,b] s_b (A_l: the layer's "
            "cross weights, s: input spreads), summed over the " +
                std::to_string(layers) + " cross layers; pair (a, b) = mean of both directions.";
  if (options.scale == Scale::kWeights) {
    e.scale = "weights";
    e.column_scale.assign(d, 1.0);
    note += " Weights alone (every spread s = 1).";
  } else {
    e.scale = "inputs";
    e.column_scale = input_spread(model, sample);
    note += sample != nullptr && sample->size >= 2
                ? " Spreads: standard deviations of x0's columns over " +
                      std::to_string(sample->size) + " sample rows."
                : " Spreads from the model (no sample rows): 1/sqrt(12) for numeric fields, "
                  "the std over each embedding table's rows.";
  }
  const std::vector<double>& sigma = e.column_scale;
  double mean_sq = 0;
  for (double s : sigma) mean_sq += s * s / d;
  const double dd = d;
  double entry_std = 0;  // σ_A of one layer's map at initialisation
  switch (c.cross) {
    case CrossType::kMatrix:
      for (int l = 0; l < layers; ++l) {
        const float* w = param(model, "cross." + std::to_string(l) + ".W");
        add_block_rms(std::vector<double>(w, w + static_cast<size_t>(d) * d), sigma, fields, 1.0,
                      e.matrix);
      }
      entry_std = 1 / std::sqrt(3.0 * dd);  // U(−1/√D, 1/√D)
      break;
    case CrossType::kLowRank:
      for (int l = 0; l < layers; ++l) {
        const std::string p = "cross." + std::to_string(l);
        add_block_rms(low_rank_map(param(model, p + ".U"), param(model, p + ".V"), d, r), sigma,
                      fields, 1.0, e.matrix);
      }
      // (U Vᵀ)_ab = Σ_k U_ak V_bk with U, V ~ N(0, s²), s² = 2 / (r + D): σ_A = √r · s².
      entry_std = std::sqrt(double(r)) * 2.0 / (r + dd);
      note += " Low-rank map A_l = U_l V_l^T.";
      break;
    case CrossType::kMix: {
      const int kx = c.experts;
      std::vector<std::vector<double>> gates;
      note +=
          " Mix: each expert's linearised map U_k C_k^T V_k^T (tanh ~ identity at 0), "
          "weighted by ";
      if (rows) {
        gates = mix_mean_gates(model, *sample);
        note += "its mean gate over " + std::to_string(sample->size) +
                " sample rows (exact x_l per layer).";
      } else {
        gates.assign(layers, std::vector<double>(kx, 1.0 / kx));
        note += "uniform gates 1/K: no sample rows were given (--data).";
      }
      const size_t dr = static_cast<size_t>(d) * r, rr = static_cast<size_t>(r) * r;
      for (int l = 0; l < layers; ++l) {
        const std::string p = "cross." + std::to_string(l);
        const float *u = param(model, p + ".U"), *v = param(model, p + ".V"),
                    *cm = param(model, p + ".C");
        for (int k = 0; k < kx; ++k) {
          add_block_rms(mix_expert_map(u + k * dr, cm + k * rr, v + k * dr, d, r), sigma, fields,
                        gates[l][k], e.matrix);
        }
      }
      // Σ_{k,m} U_ak C_mk V_bm: σ_A = r · s_uv² · s_c, s_uv² = 2/(D r + K r), s_c² = 2/(r² + K r).
      const double s_uv2 = 2.0 / (dd * r + double(kx) * r);
      entry_std = r * s_uv2 * std::sqrt(2.0 / (double(r) * r + double(kx) * r));
      break;
    }
    case CrossType::kVector: {
      // A_l = 1 w_lᵀ; without the output side's σ, block (i, j) scores √(Σ (σ_b w_l[b])² / d_j).
      for (int l = 0; l < layers; ++l) {
        const float* w = param(model, "cross." + std::to_string(l) + ".w");
        for (size_t j = 0; j < n; ++j) {
          double sq = 0;
          for (int b = fields[j].column; b < fields[j].column + fields[j].width; ++b) {
            sq += (sigma[b] * w[b]) * (sigma[b] * w[b]);
          }
          const double s = std::sqrt(sq / fields[j].width);
          for (size_t i = 0; i < n; ++i) e.matrix[i][j] += s;
        }
      }
      e.separable = true;
      e.field_terms.resize(n);
      for (size_t j = 0; j < n; ++j) e.field_terms[j] = e.matrix[0][j] / 2;
      entry_std = 1 / std::sqrt(3.0 * dd);
      mean_sq = std::sqrt(mean_sq);  // one σ factor only
      break;
    }
  }
  e.init_level = layers * entry_std * mean_sq;
  if (layers == 0) note = "the model has no cross layers: there are no crosses to score.";
  e.note = note;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      e.pairs.push_back({e.fields[i], e.fields[j], (e.matrix[i][j] + e.matrix[j][i]) / 2});
    }
  }
  // Strongest first; equal strengths keep field order (the stable sort), so output repeats.
  std::stable_sort(
      e.pairs.begin(), e.pairs.end(),
      [](const PairStrength& x, const PairStrength& y) { return x.strength > y.strength; });
  return e;
}

nlohmann::json to_json(const Explanation& e, int top_k) {
  using nlohmann::json;
  const size_t shown =
      top_k <= 0 ? e.pairs.size() : std::min(e.pairs.size(), static_cast<size_t>(top_k));
  json pairs = json::array();
  for (size_t p = 0; p < shown; ++p) {
    pairs.push_back({{"a", e.pairs[p].a}, {"b", e.pairs[p].b}, {"strength", e.pairs[p].strength}});
  }
  json self = json::array();
  for (size_t i = 0; i < e.fields.size(); ++i) {
    self.push_back({{"field", e.fields[i]}, {"strength", e.matrix[i][i]}});
  }
  json out = {{"cross", e.cross},
              {"layers", e.layers},
              {"scale", e.scale},
              {"separable", e.separable},
              {"init_level", e.init_level},
              {"pairs", pairs},
              {"self", self},
              {"matrix", {{"fields", e.fields}, {"rows", e.matrix}}},
              {"note", e.note}};
  if (e.separable) {
    json terms = json::array();
    for (size_t i = 0; i < e.fields.size(); ++i) {
      terms.push_back({{"field", e.fields[i]}, {"term", e.field_terms[i]}});
    }
    out["field_terms"] = terms;
  }
  return out;
}

namespace {

std::string pad_right(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

std::string pad_left(const std::string& s, size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

}  // namespace

std::string format_top_pairs(const Explanation& e, int top_k) {
  const size_t shown =
      top_k <= 0 ? e.pairs.size() : std::min(e.pairs.size(), static_cast<size_t>(top_k));
  std::string out = e.cross + " cross, " + std::to_string(e.layers) + " layer" +
                    (e.layers == 1 ? "" : "s") + ": top " + std::to_string(shown) + " of " +
                    std::to_string(e.pairs.size()) + " field pairs (initial level " +
                    format_strength(e.init_level) + ")\n";
  size_t wa = 7, wb = 7;  // "field a", "field b"
  for (size_t p = 0; p < shown; ++p) {
    wa = std::max(wa, e.pairs[p].a.size());
    wb = std::max(wb, e.pairs[p].b.size());
  }
  out += "rank  " + pad_right("field a", wa) + "  " + pad_right("field b", wb) + "  strength\n";
  for (size_t p = 0; p < shown; ++p) {
    out += pad_left(std::to_string(p + 1), 4) + "  " + pad_right(e.pairs[p].a, wa) + "  " +
           pad_right(e.pairs[p].b, wb) + "  " + pad_left(format_strength(e.pairs[p].strength), 8) +
           "\n";
  }
  if (e.separable) {
    out += "separable: strength(a, b) = term(a) + term(b); per-field terms, strongest first:\n";
    std::vector<size_t> order(e.fields.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return e.field_terms[x] > e.field_terms[y]; });
    const size_t terms = top_k <= 0 ? order.size() : std::min(order.size(), size_t(top_k));
    size_t wf = 5;  // "field"
    for (size_t t = 0; t < terms; ++t) wf = std::max(wf, e.fields[order[t]].size());
    out += "rank  " + pad_right("field", wf) + "      term\n";
    for (size_t t = 0; t < terms; ++t) {
      out += pad_left(std::to_string(t + 1), 4) + "  " + pad_right(e.fields[order[t]], wf) + "  " +
             pad_left(format_strength(e.field_terms[order[t]]), 8) + "\n";
    }
  }
  out += e.note + "\n";
  return out;
}

}  // namespace deepcross
