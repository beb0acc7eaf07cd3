// deepcross train: read, split, fit the preprocessing on the training rows, train with early
// stopping, checkpoint the best epoch, score the test rows, write the model, the history and
// the curves, and print the final JSON on stdout.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <filesystem>
#include <optional>
#include <sys/resource.h>

#include "commands.h"
#include "core/blas.h"
#include "data/split.h"
#include "data_options.h"
#include "deepcross/error.h"
#include "io/data_cache.h"
#include "io/model_io.h"
#include "io/whole_file.h"
#include "train/curves.h"
#include "train/progress.h"
#include "train/trainer.h"

namespace deepcross {
namespace {

ModelConfig model_config(const Options& o, const Preprocessor& pre) {
  ModelConfig c;
  c.num_numeric = static_cast<int>(pre.numeric_names().size());
  c.vocab_sizes = pre.vocab_sizes();
  c.embed_max = o.get_int("embed-max");
  if (!parse_cross_type(o.get_string("cross"), &c.cross))
    throw UsageError("unknown cross type", "--cross");
  if (!parse_structure(o.get_string("structure"), &c.structure))
    throw UsageError("unknown structure", "--structure");
  c.cross_layers = o.get_int("cross-layers");
  c.low_rank = o.get_int("low-rank");
  c.experts = o.get_int("experts");
  c.mlp = o.get_int_list("mlp");
  c.dropout = o.get_float("dropout");
  c.classes = o.get_int("classes");
  return c;
}

TrainerOptions trainer_options(const Options& o) {
  TrainerOptions t;
  t.batch_size = o.get_int("batch-size");
  t.epochs = o.get_int("epochs");
  t.patience = o.get_int("patience");
  t.monitor = o.get_string("monitor") == "val_logloss" ? Monitor::kValLogloss : Monitor::kValAuc;
  t.adam.lr = o.get_float("lr");
  t.adam.weight_decay = o.get_float("weight-decay");
  t.adam.mode =
      o.get_string("optimizer-mode") == "lazy" ? OptimizerMode::kLazy : OptimizerMode::kExact;
  const std::string& precision = o.get_string("precision");
  const bool native_bf16 = cpu_has_native_bf16();
  if (precision == "bf16" && !native_bf16) {
    throw UsageError("bf16 needs a CPU with bf16 dot products (AVX-512-BF16 or AMX); use fp32",
                     "--precision");
  }
  t.precision = precision == "bf16" || (precision == "auto" && native_bf16)
                    ? GemmPrecision::kBf16
                    : GemmPrecision::kFp32;
  t.seed = static_cast<uint64_t>(o.get_int("seed"));
  t.eval_batch_size = o.get_int("eval-batch-size");
  // Without --threads the training steps' thread count is measured, up to the CPUs available.
  t.max_threads = thread_count(o);
  t.tune_threads = !(o.is_set("threads") && o.get_int("threads") > 0);
  return t;
}

// The rows of a table, in order.
std::vector<uint32_t> all_rows(size_t n) {
  std::vector<uint32_t> r(n);
  std::iota(r.begin(), r.end(), 0u);
  return r;
}

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

size_t table_bytes(const Table& t) {
  size_t n = t.labels.size() * sizeof(float);
  for (const auto& c : t.numeric) n += c.values.size() * sizeof(float);
  for (const auto& c : t.categorical) {
    n += c.codes.size() * sizeof(uint32_t);
    for (const auto& s : c.dictionary) n += sizeof(std::string) + (s.size() > 15 ? s.size() + 1 : 0);
  }
  return n;
}

size_t encoded_bytes(const EncodedData& d) {
  return d.x_num.size() * sizeof(float) + d.x_cat.size() * sizeof(int32_t) +
         d.labels.size() * sizeof(float);
}

size_t vocabulary_bytes(const Preprocessor& p) {
  size_t n = 0;
  for (const auto& v : p.vocabularies()) {
    // The kept strings, and the hash index over them (a node and a bucket per value).
    for (const auto& s : v.values()) n += 2 * sizeof(std::string) + 48 + (s.size() > 15 ? 2 * (s.size() + 1) : 0);
  }
  for (const auto& q : p.transforms()) n += q.quantiles().size() * sizeof(double) * 5;
  return n;
}

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  return buf;
}

// Why the AUC of `valid` is undefined for a model with `classes` outputs ("" when it is
// defined): asked of the metric itself, on constant scores (any defined AUC is then 0.5).
std::string undefined_auc_reason(const EncodedData& valid, int classes) {
  if (valid.rows == 0) return std::string();  // the trainer refuses an empty validation set
  const int k = classes > 1 ? classes : 1;
  const std::vector<float> constant(valid.rows * static_cast<size_t>(k), 1.0f / static_cast<float>(k + (k == 1)));
  if (!std::isnan(score(constant, valid.labels, k).auc)) return std::string();
  if (k == 1) return "the validation rows have one class only";
  std::vector<size_t> count(static_cast<size_t>(k), 0);
  for (float y : valid.labels) {
    if (y >= 0 && y < k) ++count[static_cast<size_t>(y)];
  }
  for (int c = 0; c < k; ++c) {
    if (count[static_cast<size_t>(c)] == 0 || count[static_cast<size_t>(c)] == valid.rows) {
      return "class " + std::to_string(c) + " of --classes " + std::to_string(classes) +
             (count[static_cast<size_t>(c)] == 0 ? " has no validation rows"
                                                 : " is every validation row");
    }
  }
  return "the validation labels";
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

// Reads --data (and --valid, --test), splits what is missing from --data, fits the
// preprocessing on the training rows only and encodes the three parts. Warnings are collected.
IngestedData ingest(const Options& o, const ReadOptions& layout, const PreprocessOptions& po,
                    int threads) {
  IngestedData in;
  const bool has_valid = o.is_set("valid"), has_test = o.is_set("test");
  Table data = read_checked({o.get_string("data")}, layout, "training data", &in.warnings);
  Table valid_table, test_table;
  // Only the training data's fingerprint goes into the model: the other files are not hashed.
  ReadOptions unhashed = layout;
  unhashed.compute_sha256 = false;
  std::vector<uint32_t> train_rows, valid_rows, test_rows;
  if (has_valid && has_test) {
    train_rows = all_rows(data.rows);
  } else {
    // Missing splits come from --data: 64/16/20 without either file, 80/20 with one.
    const double test_fraction = has_test ? 0.0 : 0.2;
    const double valid_fraction = has_valid ? 0.0 : 0.2;
    Split s = split_rows(data.rows, po.seed, test_fraction, valid_fraction);
    train_rows = std::move(s.train);
    valid_rows = std::move(s.valid);
    test_rows = std::move(s.test);
  }
  if (has_valid) {
    valid_table =
        read_checked({o.get_string("valid")}, unhashed, "validation data", &in.warnings);
  }
  if (has_test) {
    test_table = read_checked({o.get_string("test")}, unhashed, "test data", &in.warnings);
  }
  in.preprocessor = Preprocessor::fit(data, train_rows, po, &in.warnings);
  const Preprocessor& pre = in.preprocessor;
  in.train = pre.encode(data, train_rows, threads);
  in.valid = has_valid ? pre.encode(valid_table, {}, threads) : pre.encode(data, valid_rows, threads);
  in.test = has_test ? pre.encode(test_table, {}, threads) : pre.encode(data, test_rows, threads);
  in.data = {{"rows", data.rows}, {"sha256", data.sha256}};
  in.parsed_bytes = table_bytes(data) + table_bytes(valid_table) + table_bytes(test_table);
  return in;
}

}  // namespace

int run_train(const Options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  const int threads = thread_count(o);
  set_blas_threads(threads);
  std::fputs(o.describe().c_str(), stderr);

  ReadOptions layout = layout_from_options(o);
  const uint64_t seed = static_cast<uint64_t>(o.get_int("seed"));
  const std::string model_path = o.get_string("model");
  const bool has_valid = o.is_set("valid"), has_test = o.is_set("test");

  // Every output is checked before any work: a typo in a folder name fails now, not after the
  // whole training.
  const std::string history_path = default_beside(o, "history", ".history.csv");
  const std::string curves_path = default_beside(o, "curves", ".curves.svg");
  const std::string report_path = output_path(o, "report");
  if (!model_path.empty()) check_output_path(model_path, "--model");
  if (!history_path.empty()) check_output_path(history_path, "--history");
  if (!curves_path.empty()) check_output_path(curves_path, "--curves");
  if (!report_path.empty()) check_output_path(report_path, "--report");
  // The data cache only saves time: one that cannot be written is a warning, said now.
  std::string cache_dir = output_path(o, "cache");
  if (!cache_dir.empty()) {
    try {
      check_cache_folder(cache_dir);
    } catch (const DataError& e) {
      warn(std::string("could not write the data cache: ") + e.what() + " (" + e.where() +
           "); training without it");
      cache_dir.clear();
    }
  }

  PreprocessOptions po;
  po.min_count = o.get_int("min-count");
  po.seed = seed;
  po.quantile_sample = static_cast<size_t>(o.get_int("quantile-sample"));
  po.quantiles = o.get_int("quantiles");

  // The data: from the cache when --cache holds this ingest, else read, fitted and encoded
  // (and then cached). The parsed tables are gone before training starts.
  const auto t_read = std::chrono::steady_clock::now();
  std::optional<DataCacheKey> cache_key;
  if (const std::string& dir = cache_dir; !dir.empty()) {
    std::vector<std::pair<std::string, std::string>> sources = {{"data", o.get_string("data")}};
    if (has_valid) sources.emplace_back("valid", o.get_string("valid"));
    if (has_test) sources.emplace_back("test", o.get_string("test"));
    cache_key = data_cache_key(dir, sources, layout, po);
  }
  std::optional<IngestedData> cached;
  std::string cache_miss;
  if (cache_key) cached = load_data_cache(*cache_key, &cache_miss);
  if (cache_key && !cached && cache_miss != "no entry") {
    warn("ignoring the data cache entry " + cache_key->path + ": " + cache_miss + "; rebuilding it");
  }
  const bool cache_hit = cached.has_value();
  IngestedData in = cache_hit ? std::move(*cached) : ingest(o, layout, po, threads);
  cached.reset();
  for (const auto& w : in.warnings) warn(w);
  if (cache_key && !cache_hit) {
    try {
      save_data_cache(*cache_key, in);
    } catch (const DataError& e) {
      warn(std::string("could not write the data cache: ") + e.what() + " (" + e.where() + ")");
      cache_key.reset();
    }
  }
  const EncodedData& train = in.train;
  const EncodedData& valid = in.valid;
  const EncodedData& test = in.test;
  const double ingest_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();
  std::string how = cache_hit ? "loaded from the data cache " + cache_key->path
                              : std::string("read, fitted and encoded");
  if (cache_key && !cache_hit) how += " (cached in " + cache_key->path + ")";
  std::fprintf(stderr,
               "data: %zu training, %zu validation, %zu test rows; %d numeric, %d categorical "
               "fields; %s in %.2f s\n",
               train.rows, valid.rows, test.rows, train.num_numeric, train.num_categorical,
               how.c_str(), ingest_s);

  TrainedModel tm;
  tm.config = model_config(o, in.preprocessor);
  tm.preprocessor = std::move(in.preprocessor);
  tm.layout = layout;
  tm.options = o.to_json();
  tm.data = in.data;
  tm.model = std::make_unique<Model<float>>(tm.config, seed);
  if (o.get_string("oov-init") == "zero") {
    // The out-of-vocabulary row starts at zero: unseen values add no noise (SPEC, OOV).
    for (auto& t : tm.model->embedding_tables()) {
      std::fill(t.weight.data(), t.weight.data() + t.width, 0.0f);
    }
  }
  StepProfile profile;
  TrainerOptions topts = trainer_options(o);
  if (topts.monitor == Monitor::kValAuc) {
    if (const std::string why = undefined_auc_reason(valid, tm.config.classes); !why.empty()) {
      warn("the validation AUC is undefined (" + why +
           "): early stopping monitors the validation log loss instead");
      topts.monitor = Monitor::kValLogloss;
      tm.options["monitor"] = "val_logloss";
    }
  }
  // The model's configuration records the precision the products had, not "auto".
  tm.options["precision"] = topts.precision == GemmPrecision::kBf16 ? "bf16" : "fp32";
  std::fprintf(stderr, "model: %s cross, %s, D = %d, %zu parameters; training products in %s\n",
               std::string(to_string(tm.config.cross)).c_str(),
               std::string(to_string(tm.config.structure)).c_str(), tm.model->input_width(),
               tm.model->parameter_count(),
               topts.precision == GemmPrecision::kBf16 ? "bf16 (float sums)" : "fp32");
  // Where a bf16 matmul could not be created, the products ran in float from then on: the model
  // records fp32 (checked before every save), and the user is told once.
  const auto record_precision = [&] {
    if (topts.precision != GemmPrecision::kBf16 || tm.options["precision"] == "fp32") return;
    const Bf16Fallback f = bf16_fallback();
    if (!f.fell_back) return;
    tm.options["precision"] = "fp32";
    warn("bf16 matrix products are not available here (" + f.reason + "); training ran them in "
         "fp32" + (f.bf16_products_before > 0
                       ? " after " + std::to_string(f.bf16_products_before) + " in bf16"
                       : std::string()) +
         ", and the model records precision fp32");
  };
  if (o.get_flag("profile")) topts.profile = &profile;
  Trainer trainer(*tm.model, topts);
  std::unique_ptr<Progress> progress;
  int epoch_no = 0;
  std::fprintf(stderr, "%s\n", format_epoch_header().c_str());
  auto on_step = [&](int64_t step, int64_t steps, double loss, double rate) {
    if (!progress) {
      progress = std::make_unique<Progress>(stderr, steps, "epoch " + std::to_string(epoch_no + 1));
    }
    progress->update(step, loss, rate);
  };
  const std::string curves_title = "deepcross — " + std::string(to_string(tm.config.cross)) +
                                   " cross, " + std::string(to_string(tm.config.structure));
  History so_far;
  auto on_epoch = [&](const EpochRecord& r) {
    if (progress) progress->finish();
    progress.reset();
    ++epoch_no;
    std::fprintf(stderr, "%s\n", format_epoch_row(r).c_str());
    // Checkpoint: the best epoch so far, written atomically (no --model: nothing is saved);
    // then, after every epoch, the history and curves up to it, so that the files of a run
    // interrupted at any point (SIGINT, a diverging step) describe the same run.
    record_precision();
    if (r.best && !model_path.empty()) save_model(model_path, tm);
    so_far.add(r);
    if (!history_path.empty()) so_far.write_csv(history_path);
    if (!curves_path.empty()) write_curves_svg(curves_path, so_far, curves_title);
  };
  TrainSummary summary = trainer.fit(train, valid, on_epoch, on_step);

  const Evaluation test_eval = evaluate(*tm.model, test, trainer_options(o).eval_batch_size);
  record_precision();
  tm.training = {{"best_epoch", summary.best_epoch},
                 {"epochs_run", summary.epochs_run},
                 {"val_auc", number_or_null(summary.best_valid.auc)},
                 {"val_logloss", number_or_null(summary.best_valid.loss)},
                 {"test_auc", number_or_null(test_eval.auc)},
                 {"test_logloss", number_or_null(test_eval.loss)}};
  if (!model_path.empty()) save_model(model_path, tm);

  // The history and curves (beside the model unless placed explicitly; nowhere without
  // either a --model or their own flag) were written with every epoch (on_epoch).

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  nlohmann::json out = {{"best_epoch", summary.best_epoch},
                        {"epochs_run", summary.epochs_run},
                        {"val_auc", number_or_null(summary.best_valid.auc)},
                        {"val_logloss", number_or_null(summary.best_valid.loss)},
                        {"test_auc", number_or_null(test_eval.auc)},
                        {"test_logloss", number_or_null(test_eval.loss)},
                        {"train_samples_per_s", summary.train_samples_per_s},
                        {"seconds", seconds},
                        {"model", model_path.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(model_path)}};
  std::fprintf(stderr,
               "best epoch %d of %d: val AUC %.5f; test AUC %.5f, test log loss %.5f\n"
               "model: %s\nhistory: %s\ncurves: %s\n",
               summary.best_epoch, summary.epochs_run, summary.best_valid.auc, test_eval.auc,
               test_eval.loss, model_path.empty() ? "not saved (no --model)" : model_path.c_str(),
               history_path.empty() ? "not written" : history_path.c_str(),
               curves_path.empty() ? "not written" : curves_path.c_str());
  if (profile.steps > 0) {
    double total = 0;
    for (double v : profile.seconds) total += v;
    std::fprintf(stderr, "profile: %lld training steps, %.3f ms per step:\n",
                 static_cast<long long>(profile.steps), 1e3 * total / profile.steps);
    for (int i = 0; i < StepProfile::kCount; ++i) {
      std::fprintf(stderr, "  %-20s %8.3f ms  %5.1f %%\n", StepProfile::name(i),
                   1e3 * profile.seconds[i] / profile.steps,
                   total > 0 ? 100 * profile.seconds[i] / total : 0.0);
    }
  }
  // Where the memory went (peak RSS is the process's high-water mark).
  {
    size_t params = 0;
    for (auto& t : tm.model->tensors()) params += t.size * sizeof(float);
    const size_t optimizer = 2 * params;  // Adam's m and v
    const size_t buffers = buffer_bytes_in_use();
    const size_t rest = buffers > params + optimizer ? buffers - params - optimizer : 0;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(stderr,
                 "memory: peak RSS %s; of it parsed rows %s (freed before training), encoded rows %s, vocabularies and "
                 "transforms %s, model %s, optimizer state %s, gradients and activation "
                 "workspaces %s; the remainder is parsing buffers, libraries and allocator slack\n",
                 mib(static_cast<size_t>(ru.ru_maxrss) * 1024).c_str(),
                 mib(in.parsed_bytes).c_str(),
                 mib(encoded_bytes(train) + encoded_bytes(valid) + encoded_bytes(test)).c_str(),
                 mib(vocabulary_bytes(tm.preprocessor)).c_str(), mib(params).c_str(),
                 mib(optimizer).c_str(), mib(rest).c_str());
  }
  if (!report_path.empty()) write_text_file(report_path, out.dump(2) + "\n");
  write_json_line(out.dump());
  return 0;
}

}  // namespace deepcross
