// Predictor: a trained model file, loaded once, scoring rows from any number of threads.
//
//   deepcross::Predictor p = deepcross::Predictor::load("criteo.model");
//   deepcross::Rows rows = p.read({"day_1.tsv.gz"});             // files in the model's layout
//   deepcross::Scores s = p.predict(rows);                        // s(r) = P(click) of row r
//   deepcross::Rows two = p.parse_json(R"({"rows": [{"I1": 3, "C14": "68fd1e64"}, {}]})");
//   deepcross::Rows cols = p.encode({{.name = "I1", .numbers = {3, NAN}},
//                                    {.name = "C14", .strings = {"68fd1e64", ""}}});
//   deepcross::EvaluationResult e = p.evaluate(p.read({"test.tsv"}));  // rows need labels
//   std::string info = p.info_json();                              // `deepcross info`
//
// Rows are encoded exactly as training encoded them (the model's fitted vocabularies and
// quantile transforms; an unseen category takes the out-of-vocabulary id), and scored in
// evaluation mode, batch_rows rows per forward pass: the numbers equal `deepcross predict`
// (batch_rows = --eval-batch-size) on the same rows, bit for bit, whichever entry point built
// the Rows and however many threads call. A row scored in a pass of another size (another
// batch_rows, or the last, shorter pass) may differ in the last bits: the matrix products
// block their sums by the pass's size.
//
// Threads: a Predictor is immutable after load(); every const member may be called from any
// number of threads at once. It holds `threads` inference clones of the model (own dense
// weights and scratch, the embedding tables shared read-only); a call scores with up to that
// many of them (fewer when others are busy: it waits for a free one, never for the whole pool).
// Moving a Predictor is cheap; copies share the loaded model.
//
// Errors: deepcross::DataError for a model file or rows that cannot be used (naming the file,
// row, field or line), deepcross::UsageError for bad options (naming the option's field).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {

struct PredictorOptions {
  // Threads (and inference clones) a call may use; 0: every core. Also sets the BLAS
  // library's thread count, which is process-wide.
  int threads = 0;
  // Rows per forward pass (see above: the last bits of a score may depend on it).
  int batch_rows = 256;
  // Non-fatal findings (e.g. "skipped 3 malformed lines of FILE"); unset: they are dropped.
  std::function<void(const std::string&)> on_warning;
  // Reading files (read()): "" keeps the model's training layout; else "error" or "skip"
  // (malformed lines), and a delimiter of one character (or "tab") for CSV/TSV models.
  std::string bad_lines;
  std::string delimiter;
};

// One input field, all rows: `numbers` for a numeric field (NaN = missing), `strings` for a
// categorical one ("" = missing). The name is the model's field name (info_json()'s "fields").
struct Column {
  std::string name;
  std::vector<float> numbers;
  std::vector<std::string> strings;
};

// Rows encoded for one model (its preprocessing applied), ready to score. Opaque; cheap to
// copy (shared, immutable).
class Rows {
 public:
  Rows();
  size_t size() const;
  bool has_labels() const;
  struct Impl;

 private:
  friend class Predictor;
  explicit Rows(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Probabilities, rows x outputs, row-major: outputs is 1 for a binary model (P(label 1)),
// the number of classes otherwise (a softmax over the classes).
struct Scores {
  size_t rows = 0;
  int outputs = 1;
  std::vector<float> values;
  float operator()(size_t row, int output = 0) const {
    return values[row * static_cast<size_t>(outputs) + static_cast<size_t>(output)];
  }
};

// The `eval` JSON's numbers. auc and logloss are NaN when undefined (e.g. one class only);
// accuracy is for models with classes > 1 (NaN otherwise).
struct EvaluationResult {
  size_t rows = 0;
  double auc = 0;
  double logloss = 0;
  double accuracy = 0;
};

// What `deepcross explain` writes: the strongest field pairs as a text table, the pairs as
// JSON, and the heatmap of every field pair as an SVG picture.
struct ExplainReport {
  std::string table;
  std::string json;
  std::string svg;
};

struct ExplainRequest {
  int top = 20;                         // pairs in the table and the JSON
  std::vector<std::string> sample_files;  // rows for the input spreads and mix gates (optional)
  std::string title;                    // of the picture; "": "deepcross explain — CROSS cross, FILE"
};

class Predictor {
 public:
  // Loads a model file written by `deepcross train` (or train() in deepcross/training.h).
  static Predictor load(const std::string& model_path, const PredictorOptions& options = {});

  // Rows from typed columns, one per model field (a missing field is an error; columns the
  // model does not use are ignored). `labels` (optional, empty = none) makes them evaluable.
  Rows encode(const std::vector<Column>& columns, const std::vector<float>& labels = {}) const;
  // Rows from files in the model's training layout (Criteo TSV, or CSV/TSV with the header),
  // plain or gzip. Labels are read when present (evaluate() needs them); with
  // `labels_required` a row without one is an error naming its line.
  Rows read(const std::vector<std::string>& paths, bool labels_required = false) const;
  // Rows from text lines in the model's training layout (a header first for CSV/TSV);
  // errors name `source` and the line.
  Rows parse_text(std::string_view text, std::string_view source = "text") const;
  // Rows from JSON: {"rows": [{"FIELD": value, ...}, ...]} (the `serve` request body: numbers
  // or numeric strings for numeric fields, strings or numbers for categorical ones, null or
  // absent = missing). Errors name the row (0-based) and the field.
  Rows parse_json(std::string_view json) const;

  Scores predict(const Rows& rows) const;
  // Log loss, AUC and (classes > 1) accuracy against the rows' labels (DataError without).
  EvaluationResult evaluate(const Rows& rows) const;
  // The `info` JSON (INTERFACE.md): configuration, fields, parameters, training summary.
  const std::string& info_json() const;
  // The learnt feature crosses (`deepcross explain`).
  ExplainReport explain(const ExplainRequest& options = {}) const;

  // The model's input fields in order (numeric fields first) and the kind of each.
  std::vector<std::string> field_names() const;
  bool is_categorical(size_t field) const;
  int outputs() const;                     // 1, or the number of classes
  const std::string& model_path() const;

  struct Impl;

 private:
  explicit Predictor(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace deepcross
