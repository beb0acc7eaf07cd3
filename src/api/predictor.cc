// The public Predictor (include/deepcross/predictor.h) over the loaded model (io/model_io.h),
// the readers (data/reader.h), the request decoder (serve/request.h, for JSON rows) and the
// pool of inference clones (infer/scoring.h).
#include "deepcross/predictor.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "api/read_rows.h"
#include "core/blas.h"
#include "deepcross/error.h"
#include "explain/explain.h"
#include "explain/heatmap.h"
#include "infer/scoring.h"
#include "io/model_io.h"
#include "serve/request.h"

namespace deepcross {

struct Rows::Impl {
  EncodedData data;
};

Rows::Rows() : impl_(std::make_shared<const Impl>()) {}
Rows::Rows(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
size_t Rows::size() const { return impl_->data.rows; }
bool Rows::has_labels() const { return impl_->data.has_labels; }

struct Predictor::Impl {
  Impl(std::string path, TrainedModel model, const PredictorOptions& o)
      : model_path(std::move(path)),
        tm(std::move(model)),
        options(o),
        threads(resolve_threads(o.threads)),
        info(model_info(tm).dump()),
        pool(*tm.model, threads, o.batch_rows) {
    for (const std::string& n : tm.preprocessor.numeric_names()) fields.push_back({n, false});
    for (const std::string& n : tm.preprocessor.categorical_names()) fields.push_back({n, true});
  }

  // The model's layout for rows to score: labels optional, no fingerprint.
  ReadOptions read_layout(LabelPolicy policy) const {
    ReadOptions layout = tm.layout;
    layout.label_policy = policy;
    layout.threads = threads;
    layout.compute_sha256 = false;  // only the training data's fingerprint is kept (in the model)
    return layout;
  }

  std::shared_ptr<const Rows::Impl> rows_of(const Table& table) const {
    auto impl = std::make_shared<Rows::Impl>();
    impl->data = tm.preprocessor.encode(table, {}, threads);
    return impl;
  }

  void warn(const std::string& message) const {
    if (options.on_warning) options.on_warning(message);
  }

  std::string model_path;
  TrainedModel tm;
  PredictorOptions options;
  int threads;
  std::string info;
  std::vector<FieldSpec> fields;
  // Scoring never writes the pool's source model; the clones are taken and given back.
  mutable InferencePool pool;
  mutable std::mutex explain_mu;  // explain() runs the loaded model itself
};

Predictor::Predictor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Predictor Predictor::load(const std::string& model_path, const PredictorOptions& options) {
  if (options.batch_rows < 1) {
    throw UsageError("batch_rows must be at least 1, not " + std::to_string(options.batch_rows),
                     "batch_rows");
  }
  if (options.threads < 0) {
    throw UsageError("threads must be 0 (every core) or more, not " +
                         std::to_string(options.threads),
                     "threads");
  }
  set_blas_threads(resolve_threads(options.threads));
  TrainedModel tm = load_model(model_path);
  warm_up_gemm();  // oneDNN's one-time kernel generation, not inside the first scoring
  return Predictor(std::make_shared<Impl>(model_path, std::move(tm), options));
}

Rows Predictor::encode(const std::vector<Column>& columns, const std::vector<float>& labels) const {
  const Impl& p = *impl_;
  Table table;
  bool first = true;
  auto check_rows = [&](size_t n, const std::string& name) {
    if (first) {
      table.rows = n;
      first = false;
    } else if (n != table.rows) {
      throw DataError("column '" + name + "' has " + std::to_string(n) + " rows, the first " +
                          std::to_string(table.rows),
                      name);
    }
  };
  for (const Column& c : columns) {
    const auto field = std::find_if(p.fields.begin(), p.fields.end(),
                                    [&](const FieldSpec& f) { return f.name == c.name; });
    if (field == p.fields.end()) continue;  // not a field of the model
    if (!field->categorical) {
      if (!c.strings.empty()) {
        throw DataError("field '" + c.name + "' is numeric: give its values as numbers", c.name);
      }
      check_rows(c.numbers.size(), c.name);
      table.numeric.push_back({c.name, c.numbers});
    } else {
      if (!c.numbers.empty()) {
        throw DataError("field '" + c.name + "' is categorical: give its values as strings",
                        c.name);
      }
      check_rows(c.strings.size(), c.name);
      CategoricalColumn col;
      col.name = c.name;
      col.codes.reserve(c.strings.size());
      std::unordered_map<std::string_view, uint32_t> codes;
      for (const std::string& s : c.strings) {
        auto [it, added] = codes.try_emplace(s, static_cast<uint32_t>(col.dictionary.size()));
        if (added) col.dictionary.push_back(s);
        col.codes.push_back(it->second);
      }
      table.categorical.push_back(std::move(col));
    }
  }
  if (!labels.empty()) {
    check_rows(labels.size(), "labels");
    table.has_label = true;
    table.labels = labels;
  }
  table.sources = {"columns"};
  table.source_rows = {table.rows};
  return Rows(p.rows_of(table));
}

Rows Predictor::read(const std::vector<std::string>& paths, bool labels_required) const {
  const Impl& p = *impl_;
  ReadOptions layout =
      p.read_layout(labels_required ? LabelPolicy::kRequired : LabelPolicy::kOptional);
  // The reading options win over the model's training layout.
  if (!p.options.bad_lines.empty()) {
    if (p.options.bad_lines == "error") {
      layout.bad_lines = BadLines::kError;
    } else if (p.options.bad_lines == "skip") {
      layout.bad_lines = BadLines::kSkip;
    } else {
      throw UsageError("unknown value '" + p.options.bad_lines + "' (error or skip)", "data.bad_lines");
    }
  }
  if (const char d = delimiter_of(p.options.delimiter); d != 0) layout.delimiter = d;
  // Columns the model does not use are read past, with one warning (INTERFACE.md).
  layout.unknown_columns_ignored = true;
  const Table table = read_reporting(paths, layout, "data", [&](const std::string& w) { p.warn(w); });
  if (!table.unused_columns.empty()) {
    std::string names;
    for (const std::string& n : table.unused_columns) names += (names.empty() ? "" : ", ") + n;
    std::string files;
    for (const std::string& f : paths) files += (files.empty() ? "" : ", ") + f;
    p.warn("ignoring column" + std::string(table.unused_columns.size() == 1 ? " " : "s ") +
           names + " of " + files + ": the model does not use " +
           (table.unused_columns.size() == 1 ? "it" : "them"));
  }
  return Rows(p.rows_of(table));
}

Rows Predictor::parse_text(std::string_view text, std::string_view source) const {
  const Impl& p = *impl_;
  ReadOptions layout = p.read_layout(LabelPolicy::kOptional);
  layout.bad_lines = BadLines::kError;
  return Rows(p.rows_of(parse_table(text, source, layout)));
}

Rows Predictor::parse_json(std::string_view json) const {
  const Impl& p = *impl_;
  RequestLimits limits;
  limits.max_rows = std::numeric_limits<size_t>::max();
  limits.max_body_bytes = std::numeric_limits<size_t>::max();
  const std::string label =
      p.tm.layout.format == Format::kCriteo ? std::string("label") : p.tm.layout.label;
  try {
    return Rows(p.rows_of(decode_json_request(json, p.fields, label, limits)));
  } catch (const RequestError& e) {
    std::string where = e.row >= 0 ? "row " + std::to_string(e.row) : std::string("json");
    if (!e.field.empty()) where += " (" + e.field + ")";
    throw DataError(e.message, where);
  }
}

Scores Predictor::predict(const Rows& rows) const {
  Scores s;
  s.rows = rows.size();
  s.outputs = outputs();
  s.values = impl_->pool.score(rows.impl_->data);
  return s;
}

EvaluationResult Predictor::evaluate(const Rows& rows) const {
  const EncodedData& data = rows.impl_->data;
  if (!data.has_labels) throw DataError("evaluation needs labels", "rows");
  const Evaluation e = score(impl_->pool.score(data), data.labels, outputs());
  return {e.rows, e.auc, e.loss, e.accuracy};
}

const std::string& Predictor::info_json() const { return impl_->info; }

ExplainReport Predictor::explain(const ExplainRequest& options) const {
  const Impl& p = *impl_;
  // The loaded model itself (clones do not own their embedding tables, which explaining reads),
  // one explanation at a time: it runs the model on the sample rows (its own scratch; the
  // weights the clones share are only read).
  if (p.tm.config.cross_layers == 0) {
    // Every pair would score 0: that is no explanation, and must not look like one.
    throw DataError("the model has no cross layers (--cross-layers 0): it learned no explicit "
                    "feature crosses to explain",
                    p.model_path);
  }
  std::lock_guard lock(p.explain_mu);
  Model<float>* model = p.tm.model.get();
  std::vector<std::string> names = p.tm.preprocessor.numeric_names();
  for (const auto& n : p.tm.preprocessor.categorical_names()) names.push_back(n);
  const std::vector<FieldInfo> fields = model_fields(*model, names);

  // Optional sample rows: the input spreads and the mix gates come from them.
  EncodedData sample;
  Batch<float> batch;
  const Batch<float>* sample_ptr = nullptr;
  if (!options.sample_files.empty()) {
    const Table table =
        read_reporting(options.sample_files, p.read_layout(LabelPolicy::kOptional),
                       "data", [&](const std::string& w) { p.warn(w); });
    std::vector<uint32_t> rows;
    const size_t n = std::min<size_t>(table.rows, 5000);  // plenty for spreads and mean gates
    for (size_t i = 0; i < n; ++i) rows.push_back(static_cast<uint32_t>(i));
    sample = p.tm.preprocessor.encode(table, rows, p.threads);
    if (sample.rows >= 2) {
      model->reserve(static_cast<int>(sample.rows));
      batch = {static_cast<int>(sample.rows), sample.x_num.data(), sample.x_cat.data(), nullptr};
      sample_ptr = &batch;
    }
  }
  const Explanation e = explain_model(*model, fields, sample_ptr);
  ExplainReport r;
  r.table = format_top_pairs(e, options.top);
  r.json = to_json(e, options.top).dump(2) + "\n";
  const std::string title =
      !options.title.empty() ? options.title
                             : "deepcross explain — " + std::string(to_string(p.tm.config.cross)) +
                                   " cross, " + p.model_path;
  r.svg = render_heatmap_svg(e, title);
  return r;
}

std::vector<std::string> Predictor::field_names() const {
  std::vector<std::string> names;
  for (const FieldSpec& f : impl_->fields) names.push_back(f.name);
  return names;
}

bool Predictor::is_categorical(size_t field) const { return impl_->fields.at(field).categorical; }

int Predictor::outputs() const { return impl_->tm.model->outputs(); }

const std::string& Predictor::model_path() const { return impl_->model_path; }

}  // namespace deepcross
