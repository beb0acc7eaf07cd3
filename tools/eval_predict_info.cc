// deepcross eval, predict, info: use a saved model (deepcross/predictor.h).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "deepcross/error.h"
#include "deepcross/predictor.h"
#include "deepcross/runtime.h"

namespace deepcross {
namespace {

Predictor load_for(const Options& o) {
  PredictorOptions po;
  po.threads = thread_count(o);
  if (o.accepts("eval-batch-size")) po.batch_rows = o.get_int("eval-batch-size");
  po.on_warning = warn;
  // eval --bad-lines and --delimiter: the command line wins over the model's training layout.
  if (o.accepts("bad-lines") && o.is_set("bad-lines")) po.bad_lines = o.get_string("bad-lines");
  if (o.accepts("delimiter") && o.is_set("delimiter")) po.delimiter = o.get_string("delimiter");
  return Predictor::load(o.get_string("model"), po);
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

int run_eval(const Options& o) {
  const Predictor p = load_for(o);
  const Rows rows = p.read({o.get_string("data")}, /*labels_required=*/true);
  if (rows.size() == 0) throw DataError("no rows to evaluate", o.get_string("data"));
  const EvaluationResult e = p.evaluate(rows);
  nlohmann::json out = {{"rows", e.rows}, {"auc", number_or_null(e.auc)},
                        {"logloss", number_or_null(e.logloss)}};
  if (p.outputs() > 1) out["accuracy"] = e.accuracy;
  write_json_line(out.dump());
  return 0;
}

int run_predict(const Options& o) {
  // --output: checked before any work; "-" is standard output.
  const std::string path =
      o.is_set("output") && o.get_string("output") != "-" ? o.get_string("output") : std::string();
  if (!path.empty()) check_output_path(path, "--output");
  const Predictor p = load_for(o);
  Rows rows;
  try {
    rows = p.read({o.get_string("data")});
  } catch (const DataError& e) {
    // No rows to predict: no predictions (an empty output), not an error.
    if (!std::string_view(e.what()).starts_with("no data rows")) throw;
    if (!path.empty()) write_text_file(path, "");
    std::fprintf(stderr, "scored 0 rows (%s has none)\n", o.get_string("data").c_str());
    return 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Scores scores = p.predict(rows);
  const double predict_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int k = scores.outputs;

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
  for (size_t r = 0; r < scores.rows; ++r) {
    for (int c = 0; c < k; ++c) {
      if (c) buf.push_back(',');
      auto res = std::to_chars(num, num + sizeof num, scores(r, c));
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
  std::fprintf(stderr, "scored %zu rows in %.3f s (%.0f rows/s)%s%s\n", scores.rows, predict_s,
               scores.rows / std::max(predict_s, 1e-9), path.empty() ? "" : "; wrote ",
               path.c_str());
  return 0;
}

int run_info(const Options& o) {
  write_json_line(load_for(o).info_json());
  return 0;
}

}  // namespace deepcross
