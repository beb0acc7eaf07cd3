// deepcross train: the flags become a training spec (deepcross/training.h), which reads,
// splits, fits, trains with early stopping, checkpoints and writes the model, the history and
// the curves; this prints the summary and the final JSON on stdout.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data_options.h"
#include "deepcross/error.h"
#include "deepcross/runtime.h"
#include "deepcross/training.h"

namespace deepcross {
namespace {

// The path an output flag names; empty when unset or "none" (not written).
std::string output_path(const Options& o, const char* flag) {
  if (!o.is_set(flag) || o.get_string(flag) == "none") return std::string();
  return o.get_string(flag);
}

// The path of an optional output: "none" = not written; unset = beside --model.
std::string default_beside(const Options& o, const char* flag, const char* suffix) {
  if (o.is_set(flag)) return output_path(o, flag);
  const std::string& model = o.get_string("model");
  return model.empty() ? std::string() : model + suffix;
}

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  return buf;
}

// --cache DIR: a folder we may write into, or one that can be created (in the nearest folder
// above it that exists).
void check_cache_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec);
  if (ec) return;  // the write reports it
  if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec)) {
    throw DataError("cannot use --cache: not a folder", dir);
  }
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (::access(p.c_str(), W_OK | X_OK) != 0) {
    throw DataError(std::string("cannot write --cache: ") + std::strerror(errno), p.string());
  }
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

TrainingSpec training_spec(const Options& o) {
  TrainingSpec s;
  s.data = data_spec_from_options(o);
  s.preprocess.min_count = o.get_int("min-count");
  s.preprocess.quantile_sample = o.get_int("quantile-sample");
  s.preprocess.quantiles = o.get_int("quantiles");
  ModelSpec& m = s.model;
  m.cross = o.get_string("cross");
  m.structure = o.get_string("structure");
  m.cross_layers = o.get_int("cross-layers");
  m.low_rank = o.get_int("low-rank");
  m.experts = o.get_int("experts");
  m.embed_max = o.get_int("embed-max");
  m.mlp = o.get_int_list("mlp");
  m.dropout = o.get_float("dropout");
  m.classes = o.get_int("classes");
  m.oov_init = o.get_string("oov-init");
  TrainerSpec& t = s.trainer;
  t.batch_size = o.get_int("batch-size");
  t.epochs = o.get_int("epochs");
  t.patience = o.get_int("patience");
  t.monitor = o.get_string("monitor");
  t.lr = o.get_float("lr");
  t.weight_decay = o.get_float("weight-decay");
  t.optimizer_mode = o.get_string("optimizer-mode");
  t.precision = o.get_string("precision");
  t.seed = o.get_int("seed");
  t.eval_batch_size = o.get_int("eval-batch-size");
  t.threads = thread_count(o);
  t.profile = o.get_flag("profile");
  s.model_path = o.get_string("model");
  s.history_path = default_beside(o, "history", ".history.csv");
  s.curves_path = default_beside(o, "curves", ".curves.svg");
  s.recorded_options_json = o.to_json().dump();
  return s;
}

}  // namespace

int run_train(const Options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  std::fputs(o.describe().c_str(), stderr);
  TrainingSpec spec = training_spec(o);
  // Every output is checked before any work: a typo in a folder name fails now, not after the
  // whole training.
  const std::string report_path = output_path(o, "report");
  if (!spec.model_path.empty()) check_output_path(spec.model_path, "--model");
  if (!spec.history_path.empty()) check_output_path(spec.history_path, "--history");
  if (!spec.curves_path.empty()) check_output_path(spec.curves_path, "--curves");
  if (!report_path.empty()) check_output_path(report_path, "--report");
  // The data cache only saves time: one that cannot be written is a warning, said now.
  if (!spec.data.cache_dir.empty()) {
    try {
      check_cache_folder(spec.data.cache_dir);
    } catch (const DataError& e) {
      warn(std::string("could not write the data cache: ") + e.what() + " (" + e.where() +
           "); training without it");
      spec.data.cache_dir.clear();
    }
  }
  const TrainingResult r = train(spec, console_callbacks(stderr));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  const std::string& model_path = spec.model_path;
  nlohmann::json out = {{"best_epoch", r.best_epoch},
                        {"epochs_run", r.epochs_run},
                        {"val_auc", number_or_null(r.val_auc)},
                        {"val_logloss", number_or_null(r.val_logloss)},
                        {"test_auc", number_or_null(r.test_auc)},
                        {"test_logloss", number_or_null(r.test_logloss)},
                        {"train_samples_per_s", r.train_samples_per_s},
                        {"seconds", seconds},
                        {"model", model_path.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(model_path)}};
  std::fprintf(stderr,
               "best epoch %d of %d: val AUC %.5f; test AUC %.5f, test log loss %.5f\n"
               "model: %s\nhistory: %s\ncurves: %s\n",
               r.best_epoch, r.epochs_run, r.val_auc, r.test_auc, r.test_logloss,
               model_path.empty() ? "not saved (no --model)" : model_path.c_str(),
               spec.history_path.empty() ? "not written" : spec.history_path.c_str(),
               spec.curves_path.empty() ? "not written" : spec.curves_path.c_str());
  if (r.profiled_steps > 0) {
    double total = 0;
    for (const auto& [phase, ms] : r.profile) total += ms;
    std::fprintf(stderr, "profile: %lld training steps, %.3f ms per step:\n",
                 static_cast<long long>(r.profiled_steps), total);
    for (const auto& [phase, ms] : r.profile) {
      std::fprintf(stderr, "  %-20s %8.3f ms  %5.1f %%\n", phase.c_str(), ms,
                   total > 0 ? 100 * ms / total : 0.0);
    }
  }
  // Where the memory went (peak RSS is the process's high-water mark).
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::fprintf(stderr,
               "memory: peak RSS %s; of it parsed rows %s (freed before training), encoded rows %s, vocabularies and "
               "transforms %s, model %s, optimizer state %s, gradients and activation "
               "workspaces %s; the remainder is parsing buffers, libraries and allocator slack\n",
               mib(static_cast<size_t>(ru.ru_maxrss) * 1024).c_str(), mib(r.parsed_bytes).c_str(),
               mib(r.encoded_bytes).c_str(), mib(r.vocabulary_bytes).c_str(),
               mib(r.model_bytes).c_str(), mib(r.optimizer_bytes).c_str(),
               mib(r.workspace_bytes).c_str());
  if (const std::string report = output_path(o, "report"); !report.empty()) {
    write_text_file(report, out.dump(2) + "\n");
  }
  write_json_line(out.dump());
  return 0;
}

}  // namespace deepcross
