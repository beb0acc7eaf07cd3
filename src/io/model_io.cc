#include "io/model_io.h"

#include <cstdio>

#include "deepcross/error.h"
#include "io/model_file.h"

namespace deepcross {
namespace {

constexpr const char* kFormatName = "deepcross-model";

std::string format_name(Format f) {
  switch (f) {
    case Format::kCriteo: return "criteo";
    case Format::kCsv: return "csv";
    case Format::kTsv: return "tsv";
  }
  return "criteo";
}

std::vector<int64_t> shape64(const std::vector<int>& s) { return {s.begin(), s.end()}; }

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// A lower bound of the weights a model of configuration `c` has: its largest tensors (in
// double: a hostile configuration may overflow any integer type).
//   embeddings Σ_j c_j·d_j; cross per layer: vector w_l (D), matrix W_l (D x D), lowrank
//   U_l, V_l (D x r each), mix U_lk, V_lk (D x r each, K experts); MLP Σ in_i·h_i; output
//   (h_last, + D when parallel) x outputs.
double min_weight_count(const ModelConfig& c) {
  const double d = input_width(c);
  double n = 0;
  for (int v : c.vocab_sizes) n += static_cast<double>(v) * embedding_width(v, c.embed_max);
  const double layers = c.cross_layers, r = c.low_rank, k = c.experts;
  switch (c.cross) {
    case CrossType::kVector:
      n += layers * d;
      break;
    case CrossType::kMatrix:
      n += layers * d * d;
      break;
    case CrossType::kLowRank:
      n += layers * 2 * d * r;
      break;
    case CrossType::kMix:
      n += layers * k * 2 * d * r;
      break;
  }
  double in = d;
  for (int h : c.mlp) {
    n += in * h;
    in = h;
  }
  if (c.structure == Structure::kParallel) in += d;
  return n + in * c.outputs();
}

// [{"name", "kind", "vocabulary", "width"}]: numeric fields first, then categorical ones.
nlohmann::json fields_json(const Preprocessor& pre, int embed_max) {
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& n : pre.numeric_names())
    fields.push_back({{"name", n}, {"kind", "numeric"}, {"vocabulary", 0}, {"width", 1}});
  for (size_t j = 0; j < pre.categorical_names().size(); ++j) {
    const int vocab = pre.vocabularies()[j].size();
    fields.push_back({{"name", pre.categorical_names()[j]},
                      {"kind", "categorical"},
                      {"vocabulary", vocab},
                      {"width", embedding_width(vocab, embed_max)}});
  }
  return fields;
}

}  // namespace

nlohmann::json to_json(const ModelConfig& c) {
  return {{"num_numeric", c.num_numeric},
          {"vocab_sizes", c.vocab_sizes},
          {"embed_max", c.embed_max},
          {"cross", std::string(to_string(c.cross))},
          {"structure", std::string(to_string(c.structure))},
          {"cross_layers", c.cross_layers},
          {"low_rank", c.low_rank},
          {"experts", c.experts},
          {"mlp", c.mlp},
          {"dropout", c.dropout},
          {"classes", c.classes}};
}

ModelConfig model_config_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    ModelConfig c;
    c.num_numeric = j.at("num_numeric").get<int>();
    c.vocab_sizes = j.at("vocab_sizes").get<std::vector<int>>();
    c.embed_max = j.at("embed_max").get<int>();
    if (!parse_cross_type(j.at("cross").get<std::string>(), &c.cross))
      throw DataError("unknown cross type '" + j.at("cross").get<std::string>() + "'", where);
    if (!parse_structure(j.at("structure").get<std::string>(), &c.structure))
      throw DataError("unknown structure '" + j.at("structure").get<std::string>() + "'", where);
    c.cross_layers = j.at("cross_layers").get<int>();
    c.low_rank = j.at("low_rank").get<int>();
    c.experts = j.at("experts").get<int>();
    c.mlp = j.at("mlp").get<std::vector<int>>();
    c.dropout = j.at("dropout").get<double>();
    c.classes = j.at("classes").get<int>();
    try {
      validate(c);
    } catch (const UsageError& e) {
      throw DataError(std::string("inconsistent model configuration: ") + e.what() + " (" +
                          e.where() + ")",
                      where);
    }
    // Guard against absurd sizes before anything is allocated from them.
    for (int v : c.vocab_sizes) {
      if (v > (1 << 30)) throw DataError("vocabulary size out of range", where);
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bad model configuration: ") + e.what(), where);
  }
}

nlohmann::json layout_to_json(const ReadOptions& o) {
  nlohmann::json j = {{"format", format_name(o.format)}, {"label", o.label},
                      {"numeric", o.numeric},             {"categorical", o.categorical},
                      {"ignore", o.ignore},               {"classes", o.classes}};
  // Only when set (--delimiter): models without it keep their bytes.
  if (o.delimiter != 0) j["delimiter"] = std::string(1, o.delimiter);
  return j;
}

ReadOptions layout_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    ReadOptions o;
    o.format = parse_format(j.at("format").get<std::string>());
    o.label = j.at("label").get<std::string>();
    o.numeric = j.at("numeric").get<std::vector<std::string>>();
    o.categorical = j.at("categorical").get<std::vector<std::string>>();
    o.ignore = j.at("ignore").get<std::vector<std::string>>();
    o.classes = j.at("classes").get<int>();
    if (j.contains("delimiter")) {
      const std::string d = j.at("delimiter").get<std::string>();
      if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
        throw DataError("bad data layout in model: delimiter " + nlohmann::json(d).dump(), where);
      }
      o.delimiter = d[0];
    }
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bad data layout in model: ") + e.what(), where);
  } catch (const UsageError& e) {
    throw DataError(std::string("bad data layout in model: ") + e.what(), where);
  }
}

void put_preprocessor(ModelFile& f, const Preprocessor& pre, int embed_max) {
  nlohmann::json numeric = nlohmann::json::array();
  for (size_t i = 0; i < pre.numeric_names().size(); ++i) {
    numeric.push_back({{"name", pre.numeric_names()[i]}, {"mean", pre.transforms()[i].mean()}});
  }
  if (!f.metadata.is_object()) f.metadata = nlohmann::json::object();
  f.metadata["fields"] = fields_json(pre, embed_max);
  f.metadata["numeric"] = std::move(numeric);
  for (size_t i = 0; i < pre.transforms().size(); ++i) {
    const auto& q = pre.transforms()[i].quantiles();
    f.tensors.push_back(NamedTensor::f64("quantiles." + std::to_string(i),
                                         {static_cast<int64_t>(q.size())}, q));
  }
  for (size_t j = 0; j < pre.vocabularies().size(); ++j) {
    put_strings(f, "vocab." + std::to_string(j), pre.vocabularies()[j].values());
  }
}

Preprocessor get_preprocessor(const ModelFile& f, const std::string& where) {
  const auto& meta = f.metadata;
  try {
    std::vector<std::string> num_names, cat_names;
    for (const auto& fld : meta.at("fields")) {
      const std::string kind = fld.at("kind").get<std::string>();
      if (kind == "numeric") {
        num_names.push_back(fld.at("name").get<std::string>());
      } else if (kind == "categorical") {
        cat_names.push_back(fld.at("name").get<std::string>());
      } else {
        throw DataError("unknown field kind '" + kind + "'", where);
      }
    }
    const auto& numeric = meta.at("numeric");
    std::vector<QuantileTransform> transforms;
    for (size_t i = 0; i < num_names.size(); ++i) {
      const auto& q = f.tensor("quantiles." + std::to_string(i)).as_f64();
      transforms.push_back(QuantileTransform::from_state(numeric.at(i).at("mean").get<double>(), q));
    }
    std::vector<Vocabulary> vocabs;
    for (size_t j = 0; j < cat_names.size(); ++j) {
      vocabs.push_back(Vocabulary::from_values(get_strings(f, "vocab." + std::to_string(j))));
    }
    return Preprocessor(std::move(num_names), std::move(transforms), std::move(cat_names),
                        std::move(vocabs));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bad model metadata: ") + e.what(), where);
  }
}

void save_model(const std::string& path, TrainedModel& tm) {
  ModelFile f;
  f.metadata = {{"format", kFormatName},
                {"model", to_json(tm.config)},
                {"options", tm.options},
                {"layout", layout_to_json(tm.layout)},
                {"data", tm.data},
                {"training", tm.training}};
  for (auto& t : tm.model->tensors()) {
    f.tensors.push_back(
        NamedTensor::f32(t.name, shape64(t.shape), std::span<const float>(t.value, t.size)));
  }
  put_preprocessor(f, tm.preprocessor, tm.config.embed_max);
  write_model_file(path, f);
}

TrainedModel load_model(const std::string& path) {
  return trained_model_from_file(read_model_file(path), path);
}

TrainedModel trained_model_from_file(const ModelFile& f, const std::string& where) {
  const auto& meta = f.metadata;
  if (!meta.is_object() || !meta.contains("format") || meta["format"] != kFormatName) {
    throw DataError("not a deepcross model (metadata has no \"format\": \"deepcross-model\")",
                    where);
  }
  TrainedModel tm;
  try {
    tm.config = model_config_from_json(meta.at("model"), where);
    tm.layout = layout_from_json(meta.at("layout"), where);
    tm.options = meta.value("options", nlohmann::json::object());
    tm.data = meta.value("data", nlohmann::json::object());
    tm.training = meta.value("training", nlohmann::json());
    tm.preprocessor = get_preprocessor(f, where);
    const Preprocessor& pre = tm.preprocessor;
    if (static_cast<int>(pre.numeric_names().size()) != tm.config.num_numeric ||
        pre.categorical_names().size() != tm.config.vocab_sizes.size()) {
      throw DataError("field list does not match the model configuration", where);
    }
    for (size_t j = 0; j < pre.vocabularies().size(); ++j) {
      if (pre.vocabularies()[j].size() != tm.config.vocab_sizes[j]) {
        throw DataError("vocabulary of field " + pre.categorical_names()[j] + " has " +
                            std::to_string(pre.vocabularies()[j].size()) +
                            " ids, the model expects " + std::to_string(tm.config.vocab_sizes[j]),
                        where);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bad model metadata: ") + e.what(), where);
  }
  // The model is allocated from the configuration before its tensors are compared with it:
  // refuse a configuration whose weights the file cannot hold, so that a small hostile file
  // cannot make the loader allocate a giant model.
  double f32_values = 0;
  for (const NamedTensor& t : f.tensors) {
    if (t.dtype == DType::kF32) f32_values += static_cast<double>(t.numel());
  }
  if (const double need = min_weight_count(tm.config); need > f32_values) {
    char text[96];
    std::snprintf(text, sizeof text, "at least %.0f f32 weights, the file holds %.0f", need,
                  f32_values);
    throw DataError("the model configuration needs " + std::string(text), where);
  }
  tm.model = Model<float>::uninitialized(tm.config);  // every value comes from the file
  for (auto& t : tm.model->tensors()) {
    const NamedTensor* src = f.find(t.name);
    if (!src) throw DataError("model file has no tensor " + t.name, where);
    if (src->shape != shape64(t.shape)) {
      throw DataError("tensor " + t.name + " has shape " + shape_text(src->shape) +
                          ", the configuration needs " + shape_text(shape64(t.shape)),
                      where + " at byte " + std::to_string(src->file_offset));
    }
    const std::vector<float> v = src->as_f32();
    std::copy(v.begin(), v.end(), t.value);
  }
  return tm;
}

nlohmann::json model_info(TrainedModel& tm) {
  const nlohmann::json fields = fields_json(tm.preprocessor, tm.config.embed_max);
  return {{"format_version", kModelFormatVersion},
          {"cross", std::string(to_string(tm.config.cross))},
          {"structure", std::string(to_string(tm.config.structure))},
          {"classes", tm.config.classes},
          {"fields", fields},
          {"parameters", tm.model->parameter_count()},
          {"config", tm.options},
          {"data", tm.data}};
}

}  // namespace deepcross
