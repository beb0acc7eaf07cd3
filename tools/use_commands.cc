// deepcross eval, predict, info: use a saved model.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/blas.h"
#include "data_options.h"
#include "deepcross/error.h"
#include "io/model_io.h"
#include "io/whole_file.h"
#include "train/trainer.h"

namespace deepcross {
namespace {

// Reads --data in the model's layout. Labels: required for eval, optional for predict.
Table read_for_model(const Options& o, const TrainedModel& tm, LabelPolicy policy) {
  ReadOptions layout = tm.layout;
  layout.label_policy = policy;
  layout.threads = thread_count(o);
  layout.compute_sha256 = false;  // only the training data's fingerprint is kept (in the model)
  // eval --bad-lines: the command line wins over the model's training layout.
  if (o.accepts("bad-lines") && o.is_set("bad-lines")) {
    layout.bad_lines = parse_bad_lines(o.get_string("bad-lines"));
  }
  if (const char d = delimiter_option(o); d != 0) layout.delimiter = d;
  // Columns the model does not use are read past, with one warning (INTERFACE.md).
  layout.unknown_columns_ignored = true;
  Table t = read_checked({o.get_string("data")}, layout, "data");
  if (!t.unused_columns.empty()) {
    std::string names;
    for (const std::string& n : t.unused_columns) names += (names.empty() ? "" : ", ") + n;
    warn("ignoring column" + std::string(t.unused_columns.size() == 1 ? " " : "s ") + names +
         " of " + o.get_string("data") + ": the model does not use " +
         (t.unused_columns.size() == 1 ? "it" : "them"));
  }
  return t;
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

int run_eval(const Options& o) {
  const int threads = thread_count(o);
  set_blas_threads(threads);
  TrainedModel tm = load_model(o.get_string("model"));
  const Table table = read_for_model(o, tm, LabelPolicy::kRequired);
  const EncodedData data = tm.preprocessor.encode(table, {}, threads);
  if (data.rows == 0) throw DataError("no rows to evaluate", o.get_string("data"));
  const Evaluation e = evaluate(*tm.model, data, o.get_int("eval-batch-size"));
  nlohmann::json out = {{"rows", e.rows}, {"auc", number_or_null(e.auc)},
                        {"logloss", number_or_null(e.loss)}};
  if (tm.config.classes > 1) out["accuracy"] = e.accuracy;
  write_json_line(out.dump());
  return 0;
}

int run_predict(const Options& o) {
  const int threads = thread_count(o);
  set_blas_threads(threads);
  // --output: checked before any work; "-" is standard output.
  const std::string path =
      o.is_set("output") && o.get_string("output") != "-" ? o.get_string("output") : std::string();
  if (!path.empty()) check_output_path(path, "--output");
  TrainedModel tm = load_model(o.get_string("model"));
  Table table;
  try {
    table = read_for_model(o, tm, LabelPolicy::kOptional);
  } catch (const DataError& e) {
    // No rows to predict: no predictions (an empty output), not an error.
    if (!std::string_view(e.what()).starts_with("no data rows")) throw;
    if (!path.empty()) write_text_file(path, "");
    std::fprintf(stderr, "scored 0 rows (%s has none)\n", o.get_string("data").c_str());
    return 0;
  }
  const EncodedData data = tm.preprocessor.encode(table, {}, threads);
  warm_up_gemm();  // oneDNN's one-time kernel generation, outside the scoring rate
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<float> probs = predict_probabilities(*tm.model, data, o.get_int("eval-batch-size"));
  const double predict_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int k = tm.model->outputs();

  std::FILE* out = stdout;
  if (!path.empty()) {
    out = std::fopen(path.c_str(), "w");
    if (!out) throw DataError(std::string("cannot open for writing: ") + std::strerror(errno), path);
  }
  // One line per row; probabilities in shortest round-trip form, classes comma-separated.
  std::string buf;
  buf.reserve(1 << 20);
  char num[32];
  bool ok = true;
  for (size_t r = 0; r < data.rows; ++r) {
    for (int c = 0; c < k; ++c) {
      if (c) buf.push_back(',');
      auto res = std::to_chars(num, num + sizeof num, probs[r * k + c]);
      buf.append(num, res.ptr);
    }
    buf.push_back('\n');
    if (buf.size() > (1 << 20) - 512) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
  ok = (out == stdout ? std::fflush(out) == 0 : std::fclose(out) == 0) && ok;
  if (!ok) {
    const int err = errno;
    throw DataError(std::string(path.empty() ? "cannot write to standard output"
                                             : "cannot write the predictions") +
                        (err != 0 ? std::string(": ") + std::strerror(err) : std::string()),
                    path.empty() ? "stdout" : path);
  }
  std::fprintf(stderr, "scored %zu rows in %.3f s (%.0f rows/s)%s%s\n", data.rows, predict_s,
               data.rows / std::max(predict_s, 1e-9), path.empty() ? "" : "; wrote ",
               path.c_str());
  return 0;
}

int run_info(const Options& o) {
  TrainedModel tm = load_model(o.get_string("model"));
  write_json_line(model_info(tm).dump());
  return 0;
}

}  // namespace deepcross
