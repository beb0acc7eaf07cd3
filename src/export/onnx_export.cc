#include "export/onnx_export.h"

#include <cmath>
#include <map>
#include <span>
#include <vector>

#include "core/check.h"
#include "deepcross/error.h"
#include "export/onnx_proto.h"

namespace deepcross {
namespace {

constexpr double kBatchNormEps = 1e-5;  // nn/batchnorm.h

// Graph building with named constants; every internal value name starts with "deepcross/".
class Builder {
 public:
  explicit Builder(TrainedModel& tm) : g_("deepcross") {
    for (TensorRef<float>& t : tm.model->tensors()) tensors_.emplace(t.name, t);
  }

  OnnxGraph& graph() { return g_; }
  std::string name(std::string_view what) { return g_.fresh("deepcross/" + std::string(what)); }

  // A model tensor by name, as floats.
  std::span<const float> tensor(const std::string& name) const {
    const auto it = tensors_.find(name);
    DC_CHECK(it != tensors_.end());
    return {it->second.value, it->second.size};
  }

  std::string f32(const std::vector<int64_t>& dims, std::span<const float> v) {
    const std::string n = name("const");
    g_.initializer_f32(n, dims, v);
    return n;
  }
  std::string f64(const std::vector<int64_t>& dims, std::span<const double> v) {
    const std::string n = name("const");
    g_.initializer_f64(n, dims, v);
    return n;
  }
  std::string f64_scalar(double v) { return f64({}, std::span<const double>(&v, 1)); }
  std::string i64(const std::vector<int64_t>& v) {
    const std::string n = name("const");
    g_.initializer_i64(n, {static_cast<int64_t>(v.size())}, v);
    return n;
  }
  std::string i64_scalar(int64_t v) {
    const std::string n = name("const");
    g_.initializer_i64(n, {}, std::span<const int64_t>(&v, 1));
    return n;
  }

  // One node with one output; returns the output's name.
  std::string op(std::string_view op_type, const std::vector<std::string>& inputs,
                 const std::vector<OnnxAttr>& attrs = {}, std::string_view domain = "") {
    const std::string out = name(op_type);
    g_.node(op_type, inputs, {out}, attrs, domain);
    return out;
  }

 private:
  OnnxGraph g_;
  std::map<std::string, TensorRef<float>> tensors_;
};

// np.interp(x, xp, fp) for x [N] double, xp and fp constants of n >= 2 values (xp
// non-decreasing), as data/quantile.cc computes it: j = the last index with xp[j] <= x;
// below xp[0] -> fp[0], at or above xp[last] -> fp[last], x == xp[j] -> fp[j], otherwise
// fp[j] + (fp[j+1] − fp[j]) / (xp[j+1] − xp[j]) · (x − xp[j]).
std::string interp(Builder& b, const std::string& x, const std::vector<double>& xp,
                   const std::vector<double>& fp) {
  const int64_t n = static_cast<int64_t>(xp.size());
  DC_CHECK(n >= 2 && fp.size() == xp.size());
  const std::string xp_c = b.f64({n}, xp), fp_c = b.f64({n}, fp);
  const std::string column = b.op("Unsqueeze", {x, b.i64({1})});                    // [N, 1]
  const std::string le = b.op("LessOrEqual", {xp_c, column});                       // [N, n]
  const std::string count = b.op("ReduceSum", {b.op("Cast", {le}, {OnnxAttr::i("to", kOnnxInt64)}),
                                               b.i64({1})},
                                 {OnnxAttr::i("keepdims", 0)});                      // [N]
  const std::string j = b.op("Clip", {b.op("Sub", {count, b.i64_scalar(1)}), b.i64_scalar(0),
                                      b.i64_scalar(n - 2)});
  const std::string j1 = b.op("Add", {j, b.i64_scalar(1)});
  const std::string xj = b.op("Gather", {xp_c, j}), xj1 = b.op("Gather", {xp_c, j1});
  const std::string fj = b.op("Gather", {fp_c, j}), fj1 = b.op("Gather", {fp_c, j1});
  const std::string slope = b.op("Div", {b.op("Sub", {fj1, fj}), b.op("Sub", {xj1, xj})});
  std::string y = b.op("Add", {b.op("Mul", {slope, b.op("Sub", {x, xj})}), fj});
  y = b.op("Where", {b.op("Equal", {x, xj}), fj, y});
  y = b.op("Where", {b.op("Less", {x, b.f64_scalar(xp.front())}), b.f64_scalar(fp.front()), y});
  y = b.op("Where", {b.op("GreaterOrEqual", {x, b.f64_scalar(xp.back())}),
                     b.f64_scalar(fp.back()), y});
  return y;
}

// One numeric input [N] float -> its transformed column [N, 1] float.
std::string numeric_column(Builder& b, const std::string& input, const QuantileTransform& qt) {
  const std::vector<double>& q = qt.quantiles();
  std::string y;
  if (q.size() < 2) {
    // No value in training, or one quantile: everything maps to 0 (quantile.h).
    y = b.op("ConstantOfShape", {b.op("Shape", {input})});
  } else {
    const size_t n = q.size();
    std::vector<double> r(n), nq(n), nr(n);
    const double step = 1.0 / static_cast<double>(n - 1);  // np.linspace, as quantile.cc
    for (size_t k = 0; k < n; ++k) r[k] = static_cast<double>(k) * step;
    r[n - 1] = 1.0;
    for (size_t k = 0; k < n; ++k) {
      nq[k] = -q[n - 1 - k];
      nr[k] = -r[n - 1 - k];
    }
    const std::string xd = b.op("Cast", {input}, {OnnxAttr::i("to", kOnnxDouble)});
    const std::string x =
        b.op("Where", {b.op("IsNaN", {xd}), b.f64_scalar(qt.mean()), xd});
    const std::string up = interp(b, x, q, r);
    const std::string down = interp(b, b.op("Neg", {x}), nq, nr);
    std::string yd = b.op("Mul", {b.op("Sub", {up, down}), b.f64_scalar(0.5)});
    yd = b.op("Where", {b.op("Equal", {x, b.f64_scalar(q.back())}), b.f64_scalar(1.0), yd});
    yd = b.op("Where", {b.op("Equal", {x, b.f64_scalar(q.front())}), b.f64_scalar(0.0), yd});
    y = b.op("Cast", {yd}, {OnnxAttr::i("to", kOnnxFloat)});
  }
  return b.op("Unsqueeze", {y, b.i64({1})});
}

// One categorical input [N] string -> its embedding rows [N, d_j].
std::string categorical_column(Builder& b, const std::string& input, const Vocabulary& vocab,
                               const std::string& table, int rows, int width) {
  std::vector<std::string> keys = {""};
  std::vector<int64_t> ids = {Vocabulary::kMissing};
  for (size_t i = 0; i < vocab.values().size(); ++i) {
    keys.push_back(vocab.values()[i]);
    ids.push_back(Vocabulary::kFirstKept + static_cast<int64_t>(i));
  }
  const std::string id = b.op("LabelEncoder", {input},
                              {OnnxAttr::strings("keys_strings", keys),
                               OnnxAttr::ints("values_int64s", ids),
                               OnnxAttr::i("default_int64", Vocabulary::kOov)},
                              "ai.onnx.ml");
  return b.op("Gather", {b.f32({rows, width}, b.tensor(table)), id});
}

// x Wᵀ + bias for W stored out x in (torch's Linear layout).
std::string linear(Builder& b, const std::string& x, std::span<const float> w, int out, int in,
                   std::span<const float> bias) {
  return b.op("Gemm", {x, b.f32({out, in}, w), b.f32({out}, bias)}, {OnnxAttr::i("transB", 1)});
}

std::string cross_network(Builder& b, const ModelConfig& c, const std::string& x0, int D) {
  std::string xl = x0;
  const int R = c.low_rank, K = c.experts;
  for (int l = 0; l < c.cross_layers; ++l) {
    const std::string p = "cross." + std::to_string(l);
    const std::span<const float> bias = b.tensor(p + ".b");
    std::string next;
    switch (c.cross) {
      case CrossType::kVector: {  // x0 ⊙ (x_l · w) + b + x_l
        const std::string s = b.op("MatMul", {xl, b.f32({D, 1}, b.tensor(p + ".w"))});  // [N, 1]
        next = b.op("Add", {b.op("Add", {b.op("Mul", {x0, s}), b.f32({D}, bias)}), xl});
        break;
      }
      case CrossType::kMatrix: {  // x0 ⊙ (x_l Wᵀ + b) + x_l
        const std::string z = linear(b, xl, b.tensor(p + ".W"), D, D, bias);
        next = b.op("Add", {b.op("Mul", {x0, z}), xl});
        break;
      }
      case CrossType::kLowRank: {  // x0 ⊙ ((x_l V) Uᵀ + b) + x_l
        const std::string pv = b.op("MatMul", {xl, b.f32({D, R}, b.tensor(p + ".V"))});
        const std::string z = linear(b, pv, b.tensor(p + ".U"), D, R, bias);
        next = b.op("Add", {b.op("Mul", {x0, z}), xl});
        break;
      }
      case CrossType::kMix: {
        // π = softmax(x_l Gᵀ) [N, K]; a = tanh(x_l V_k) [K, N, R]; c = tanh(a C_k);
        // z = Σ_k π_k c_k U_kᵀ + b [N, D]; next = x0 ⊙ z + x_l.
        const std::span<const float> gate = b.tensor("cross.gate");
        const std::string logits = b.op(
            "MatMul", {xl, b.op("Transpose", {b.f32({K, D}, gate)})});
        const std::string pi = b.op("Softmax", {logits}, {OnnxAttr::i("axis", 1)});
        const std::string pik = b.op("Unsqueeze", {b.op("Transpose", {pi}), b.i64({2})});
        const std::string a =
            b.op("Tanh", {b.op("MatMul", {xl, b.f32({K, D, R}, b.tensor(p + ".V"))})});
        const std::string cc =
            b.op("Tanh", {b.op("MatMul", {a, b.f32({K, R, R}, b.tensor(p + ".C"))})});
        const std::span<const float> u = b.tensor(p + ".U");  // (K, D, R)
        std::vector<float> ut(u.size());                        // (K, R, D)
        for (int k = 0; k < K; ++k)
          for (int d = 0; d < D; ++d)
            for (int r = 0; r < R; ++r)
              ut[(static_cast<size_t>(k) * R + r) * D + d] = u[(static_cast<size_t>(k) * D + d) * R + r];
        const std::string zk = b.op("MatMul", {b.op("Mul", {cc, pik}), b.f32({K, R, D}, ut)});
        const std::string z = b.op("Add", {b.op("ReduceSum", {zk, b.i64({0})},
                                                {OnnxAttr::i("keepdims", 0)}),
                                           b.f32({D}, bias)});
        next = b.op("Add", {b.op("Mul", {x0, z}), xl});
        break;
      }
    }
    xl = next;
  }
  return xl;
}

// Linear → BatchNorm (folded) → ReLU blocks; dropout is the identity in evaluation.
std::string deep_part(Builder& b, const ModelConfig& c, const std::string& x, int in) {
  std::string h = x;
  for (size_t i = 0; i < c.mlp.size(); ++i) {
    const std::string p = "mlp." + std::to_string(i);
    const int out = c.mlp[i];
    const std::span<const float> w = b.tensor(p + ".weight"), bias = b.tensor(p + ".bias");
    const std::span<const float> gamma = b.tensor(p + ".bn.weight"),
                                 beta = b.tensor(p + ".bn.bias"),
                                 mean = b.tensor(p + ".bn.running_mean"),
                                 var = b.tensor(p + ".bn.running_var");
    std::vector<float> wf(w.size()), bf(out);
    for (int o = 0; o < out; ++o) {
      const double s = gamma[o] / std::sqrt(static_cast<double>(var[o]) + kBatchNormEps);
      for (int k = 0; k < in; ++k) {
        wf[static_cast<size_t>(o) * in + k] = static_cast<float>(w[static_cast<size_t>(o) * in + k] * s);
      }
      bf[o] = static_cast<float>((static_cast<double>(bias[o]) - mean[o]) * s + beta[o]);
    }
    h = b.op("Relu", {linear(b, h, wf, out, in, bf)});
    in = out;
  }
  return h;
}

}  // namespace

std::string export_onnx(TrainedModel& tm, const std::string& where) {
  const ModelConfig& c = tm.config;
  const Preprocessor& pre = tm.preprocessor;
  Builder b(tm);
  OnnxGraph& g = b.graph();
  for (const auto* names : {&pre.numeric_names(), &pre.categorical_names()}) {
    for (const std::string& n : *names) {
      if (n.starts_with("deepcross/") || n == "probability") {
        throw DataError("the model's field name '" + n +
                            "' clashes with a name of the exported graph",
                        where);
      }
    }
  }
  std::vector<std::string> columns;
  for (size_t i = 0; i < pre.numeric_names().size(); ++i) {
    const std::string& field = pre.numeric_names()[i];
    g.input(field, kOnnxFloat, {"N"});
    columns.push_back(numeric_column(b, field, pre.transforms()[i]));
  }
  for (size_t j = 0; j < pre.categorical_names().size(); ++j) {
    const std::string& field = pre.categorical_names()[j];
    g.input(field, kOnnxString, {"N"});
    const int rows = c.vocab_sizes[j], width = embedding_width(rows, c.embed_max);
    columns.push_back(categorical_column(b, field, pre.vocabularies()[j],
                                         "embedding." + std::to_string(j), rows, width));
  }
  const int D = input_width(c);
  const std::string x0 =
      columns.size() == 1 ? columns[0] : b.op("Concat", columns, {OnnxAttr::i("axis", 1)});
  const std::string xl = cross_network(b, c, x0, D);
  const bool stacked = c.structure == Structure::kStacked;
  const std::string h = deep_part(b, c, stacked ? xl : x0, D);
  const int last_in = stacked ? c.mlp.back() : c.mlp.back() + D;
  const std::string last = stacked ? h : b.op("Concat", {h, xl}, {OnnxAttr::i("axis", 1)});
  const int k = c.outputs();
  const std::string logits = linear(b, last, b.tensor("out.weight"), k, last_in, b.tensor("out.bias"));
  if (k == 1) {
    g.node("Squeeze", {b.op("Sigmoid", {logits}), b.i64({1})}, {"probability"});
    g.output("probability", kOnnxFloat, {"N"});
  } else {
    g.node("Softmax", {logits}, {"probability"}, {OnnxAttr::i("axis", 1)});
    g.output("probability", kOnnxFloat, {"N", std::to_string(k)});
  }
  return onnx_model_bytes(g, {{"", 17}, {"ai.onnx.ml", 3}}, "deepcross", "0.1.0");
}

}  // namespace deepcross
