// A trained deepcross model on disk: what `train` writes and every other subcommand reads.
//
// One model file (io/model_file.h container) holds:
//   metadata  {"format": "deepcross-model", "model": ModelConfig, "options": the effective
//             configuration of the run, "layout": how input rows are read (format, label
//             and column roles), "fields": [{"name", "kind", "vocabulary", "width"}],
//             "label": name, "data": {"rows", "sha256"}, "numeric": [{"name", "mean"}],
//             "training": {...summary...}}
//   tensors   every model tensor by name (embedding.<j>, cross.*, mlp.*, out.*, BatchNorm
//             running statistics), f32; quantiles.<i> (f64) per numeric field;
//             vocab.<j>.offsets / vocab.<j>.bytes per categorical field (kept values).
// Loading checks every tensor's presence and shape against the stored configuration, so a
// file that parses but does not describe a consistent model is refused with its path.
//
//   TrainedModel tm = load_model("criteo.model");
//   EncodedData x = tm.preprocessor.encode(table);
//   save_model("copy.model", tm);
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/preprocess.h"
#include "data/reader.h"
#include "io/model_file.h"
#include "nn/model.h"

namespace deepcross {

struct TrainedModel {
  ModelConfig config;
  Preprocessor preprocessor;
  std::unique_ptr<Model<float>> model;
  ReadOptions layout;          // format, label, column roles (threads etc. not stored)
  nlohmann::json options;      // the effective configuration of the training run
  nlohmann::json data;         // {"rows", "sha256"} of the training data
  nlohmann::json training;     // summary of the run (best epoch, metrics), may be null
};

void save_model(const std::string& path, TrainedModel& tm);
TrainedModel load_model(const std::string& path);
// The checks and decoding of load_model on a container already parsed (io/model_file.h);
// `where` names it in errors. The fuzzing entry point: parse_model_file, then this.
TrainedModel trained_model_from_file(const ModelFile& f, const std::string& where);

// The fitted preprocessing in a container (the model file's layout, also used by the data
// cache): metadata "fields" [{"name", "kind", "vocabulary", "width"}] (widths from
// `embed_max`) and "numeric" [{"name", "mean"}]; tensors quantiles.<i> (f64) and
// vocab.<j>.offsets / vocab.<j>.bytes. get_preprocessor reads them back; DataError naming
// `where` when anything is missing or malformed.
void put_preprocessor(ModelFile& f, const Preprocessor& pre, int embed_max);
Preprocessor get_preprocessor(const ModelFile& f, const std::string& where);

// The `info` JSON of INTERFACE.md.
nlohmann::json model_info(TrainedModel& tm);

nlohmann::json to_json(const ModelConfig& c);
ModelConfig model_config_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json layout_to_json(const ReadOptions& o);
ReadOptions layout_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace deepcross
