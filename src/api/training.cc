// The public training run (include/deepcross/training.h): read, split, fit the preprocessing
// on the training rows, train with early stopping, checkpoint the best epoch, score the test
// rows, write the model, the history and the curves.
#include "deepcross/training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>

#include "api/read_rows.h"
#include "core/blas.h"
#include "data/split.h"
#include "infer/scoring.h"
#include "io/data_cache.h"
#include "io/model_io.h"
#include "train/curves.h"
#include "train/progress.h"
#include "train/trainer.h"

namespace deepcross {
namespace {

// The value of an enumerated spec field, or UsageError naming the field and the choices.
int choice(const std::string& value, std::initializer_list<const char*> choices,
           const char* field) {
  int i = 0;
  std::string listed;
  for (const char* c : choices) {
    if (value == c) return i;
    listed += (i ? "|" : "") + std::string(c);
    ++i;
  }
  throw UsageError("invalid value '" + value + "' (expected " + listed + ")", field);
}

void at_least(long long value, long long lo, const char* field) {
  if (value < lo) {
    throw UsageError("must be at least " + std::to_string(lo) + ", not " + std::to_string(value),
                     field);
  }
}

ReadOptions layout_of(const DataSpec& d, int threads, int classes) {
  ReadOptions o;
  o.format = static_cast<Format>(choice(d.format, {"criteo", "csv", "tsv"}, "data.format"));
  o.delimiter = delimiter_of(d.delimiter);
  if (o.delimiter != 0 && o.format == Format::kCriteo) {
    throw UsageError("--delimiter is for --format csv or tsv (Criteo files are tab separated)",
                     "data.delimiter");
  }
  o.label = d.label;
  o.numeric = d.numeric;
  o.categorical = d.categorical;
  o.ignore = d.ignore;
  o.bad_lines = static_cast<BadLines>(choice(d.bad_lines, {"error", "skip"}, "data.bad_lines"));
  o.threads = threads;
  o.classes = classes;
  return o;
}

ModelConfig model_config(const ModelSpec& m, const Preprocessor& pre) {
  ModelConfig c;
  c.num_numeric = static_cast<int>(pre.numeric_names().size());
  c.vocab_sizes = pre.vocab_sizes();
  c.embed_max = m.embed_max;
  if (!parse_cross_type(m.cross, &c.cross)) choice(m.cross, {"vector", "matrix", "mix", "lowrank"}, "model.cross");
  if (!parse_structure(m.structure, &c.structure)) choice(m.structure, {"stacked", "parallel"}, "model.structure");
  c.cross_layers = m.cross_layers;
  c.low_rank = m.low_rank;
  c.experts = m.experts;
  c.mlp = m.mlp;
  c.dropout = m.dropout;
  c.classes = m.classes;
  try {
    validate(c);
  } catch (const UsageError& e) {
    // nn/config.cc names ModelConfig's fields; here they are the spec's model.* fields.
    static const char* const kSpecFields[] = {"embed_max", "cross_layers", "low_rank", "experts",
                                              "mlp",       "dropout",      "classes"};
    for (const char* f : kSpecFields) {
      if (e.where() == f) throw UsageError(e.what(), std::string("model.") + f);
    }
    throw;
  }
  return c;
}

TrainerOptions trainer_options(const TrainerSpec& s) {
  TrainerOptions t;
  at_least(s.batch_size, 2, "trainer.batch_size");
  at_least(s.epochs, 1, "trainer.epochs");
  at_least(s.patience, 0, "trainer.patience");
  at_least(s.eval_batch_size, 1, "trainer.eval_batch_size");
  at_least(s.seed, 0, "trainer.seed");
  if (!(s.lr > 0)) throw UsageError("must be above 0", "trainer.lr");
  if (!(s.weight_decay >= 0)) throw UsageError("must be at least 0", "trainer.weight_decay");
  t.batch_size = s.batch_size;
  t.epochs = s.epochs;
  t.patience = s.patience;
  t.monitor = static_cast<Monitor>(choice(s.monitor, {"val_auc", "val_logloss"}, "trainer.monitor"));
  t.adam.lr = s.lr;
  t.adam.weight_decay = s.weight_decay;
  t.adam.mode = choice(s.optimizer_mode, {"exact", "lazy"}, "trainer.optimizer_mode") == 1
                    ? OptimizerMode::kLazy
                    : OptimizerMode::kExact;
  const int precision = choice(s.precision, {"auto", "fp32", "bf16"}, "trainer.precision");
  const bool native_bf16 = cpu_has_native_bf16();
  if (precision == 2 && !native_bf16) {
    throw UsageError("bf16 needs a CPU with bf16 dot products (AVX-512-BF16 or AMX); use fp32",
                     "trainer.precision");
  }
  t.precision = precision == 2 || (precision == 0 && native_bf16) ? GemmPrecision::kBf16
                                                                  : GemmPrecision::kFp32;
  t.seed = static_cast<uint64_t>(s.seed);
  t.eval_batch_size = s.eval_batch_size;
  // Without a thread count the training steps' count is measured, up to the CPUs available.
  t.max_threads = resolve_threads(s.threads);
  t.tune_threads = s.threads <= 0;
  return t;
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

std::vector<uint32_t> all_rows(size_t n) {
  std::vector<uint32_t> r(n);
  std::iota(r.begin(), r.end(), 0u);
  return r;
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

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string joined(const std::vector<std::string>& paths) {
  std::string s;
  for (const auto& p : paths) s += (s.empty() ? "" : ",") + p;
  return s;
}

// Reads the training files (and valid, test), splits what is missing from them, fits the
// preprocessing on the training rows only and encodes the three parts. Warnings are collected.
IngestedData ingest(const DataSpec& d, const ReadOptions& layout, const PreprocessOptions& po,
                    int threads) {
  IngestedData in;
  auto collect = [&](const std::string& w) { in.warnings.push_back(w); };
  const bool has_valid = !d.valid.empty(), has_test = !d.test.empty();
  Table data = read_reporting(d.train, layout, "training data", collect);
  Table valid_table, test_table;
  // Only the training data's fingerprint goes into the model: the other files are not hashed.
  ReadOptions unhashed = layout;
  unhashed.compute_sha256 = false;
  std::vector<uint32_t> train_rows, valid_rows, test_rows;
  if (has_valid && has_test) {
    train_rows = all_rows(data.rows);
  } else {
    // Missing splits come from the training files: 64/16/20 without either, 80/20 with one.
    const double test_fraction = has_test ? 0.0 : 0.2;
    const double valid_fraction = has_valid ? 0.0 : 0.2;
    Split s = split_rows(data.rows, po.seed, test_fraction, valid_fraction);
    train_rows = std::move(s.train);
    valid_rows = std::move(s.valid);
    test_rows = std::move(s.test);
  }
  if (has_valid) valid_table = read_reporting(d.valid, unhashed, "validation data", collect);
  if (has_test) test_table = read_reporting(d.test, unhashed, "test data", collect);
  in.preprocessor = Preprocessor::fit(data, train_rows, po, &in.warnings);
  const Preprocessor& pre = in.preprocessor;
  in.train = pre.encode(data, train_rows, threads);
  in.valid = has_valid ? pre.encode(valid_table, {}, threads) : pre.encode(data, valid_rows, threads);
  in.test = has_test ? pre.encode(test_table, {}, threads) : pre.encode(data, test_rows, threads);
  in.data = {{"rows", data.rows}, {"sha256", data.sha256}};
  in.parsed_bytes = table_bytes(data) + table_bytes(valid_table) + table_bytes(test_table);
  return in;
}

// The spec as the model file records it when no recorded_options_json is given.
nlohmann::json spec_json(const TrainingSpec& s) {
  return {{"data", joined(s.data.train)},         {"valid", joined(s.data.valid)},
          {"test", joined(s.data.test)},          {"format", s.data.format},
          {"label", s.data.label},                {"numeric", s.data.numeric},
          {"categorical", s.data.categorical},    {"ignore", s.data.ignore},
          {"bad-lines", s.data.bad_lines},        {"min-count", s.preprocess.min_count},
          {"quantiles", s.preprocess.quantiles},  {"quantile-sample", s.preprocess.quantile_sample},
          {"cross", s.model.cross},               {"structure", s.model.structure},
          {"cross-layers", s.model.cross_layers}, {"low-rank", s.model.low_rank},
          {"experts", s.model.experts},           {"embed-max", s.model.embed_max},
          {"mlp", s.model.mlp},                   {"dropout", s.model.dropout},
          {"classes", s.model.classes},           {"oov-init", s.model.oov_init},
          {"batch-size", s.trainer.batch_size},   {"epochs", s.trainer.epochs},
          {"patience", s.trainer.patience},       {"monitor", s.trainer.monitor},
          {"lr", s.trainer.lr},                   {"weight-decay", s.trainer.weight_decay},
          {"optimizer-mode", s.trainer.optimizer_mode},
          {"seed", s.trainer.seed},               {"eval-batch-size", s.trainer.eval_batch_size},
          {"model", s.model_path}};
}

EpochStats stats_of(const EpochRecord& r) {
  return {r.epoch, r.train_loss, r.train_auc, r.val_loss, r.val_auc, r.seconds, r.samples_per_s,
          r.best};
}

}  // namespace

TrainingResult train(const TrainingSpec& spec, const TrainingCallbacks& cb) {
  const TrainerSpec& ts = spec.trainer;
  if (spec.data.train.empty()) throw UsageError("no training files", "data.train");
  at_least(ts.threads, 0, "trainer.threads");
  at_least(spec.preprocess.min_count, 1, "preprocess.min_count");
  at_least(spec.preprocess.quantiles, 2, "preprocess.quantiles");
  at_least(spec.preprocess.quantile_sample, 1, "preprocess.quantile_sample");
  choice(spec.model.oov_init, {"zero", "normal"}, "model.oov_init");
  TrainerOptions topts = trainer_options(ts);
  const int threads = resolve_threads(ts.threads);
  set_blas_threads(threads);
  auto warn = [&](const std::string& w) {
    if (cb.on_warning) cb.on_warning(w);
  };
  auto message = [&](const std::string& m) {
    if (cb.on_message) cb.on_message(m);
  };

  const ReadOptions layout = layout_of(spec.data, threads, spec.model.classes);
  const uint64_t seed = static_cast<uint64_t>(ts.seed);
  const std::string& model_path = spec.model_path;
  PreprocessOptions po;
  po.min_count = spec.preprocess.min_count;
  po.seed = seed;
  po.quantile_sample = static_cast<size_t>(spec.preprocess.quantile_sample);
  po.quantiles = spec.preprocess.quantiles;

  // The data: from the cache when cache_dir holds this ingest, else read, fitted and encoded
  // (and then cached). The parsed tables are gone before training starts.
  const auto t_read = std::chrono::steady_clock::now();
  std::optional<DataCacheKey> cache_key;
  if (!spec.data.cache_dir.empty()) {
    std::vector<std::pair<std::string, std::string>> sources = {{"data", joined(spec.data.train)}};
    if (!spec.data.valid.empty()) sources.emplace_back("valid", joined(spec.data.valid));
    if (!spec.data.test.empty()) sources.emplace_back("test", joined(spec.data.test));
    cache_key = data_cache_key(spec.data.cache_dir, sources, layout, po);
  }
  std::optional<IngestedData> cached;
  std::string cache_miss;
  if (cache_key) cached = load_data_cache(*cache_key, &cache_miss);
  if (cache_key && !cached && cache_miss != "no entry") {
    warn("ignoring the data cache entry " + cache_key->path + ": " + cache_miss + "; rebuilding it");
  }
  const bool cache_hit = cached.has_value();
  IngestedData in = cache_hit ? std::move(*cached) : ingest(spec.data, layout, po, threads);
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
  const EncodedData& train_rows = in.train;
  const EncodedData& valid_rows = in.valid;
  const EncodedData& test_rows = in.test;
  const double ingest_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();
  std::string how = cache_hit ? "loaded from the data cache " + cache_key->path
                              : std::string("read, fitted and encoded");
  if (cache_key && !cache_hit) how += " (cached in " + cache_key->path + ")";
  char line[512];
  std::snprintf(line, sizeof line,
                "data: %zu training, %zu validation, %zu test rows; %d numeric, %d categorical "
                "fields; %s in %.2f s",
                train_rows.rows, valid_rows.rows, test_rows.rows, train_rows.num_numeric,
                train_rows.num_categorical, how.c_str(), ingest_s);
  message(line);

  TrainedModel tm;
  tm.config = model_config(spec.model, in.preprocessor);
  tm.preprocessor = std::move(in.preprocessor);
  tm.layout = layout;
  tm.options = spec.recorded_options_json.empty()
                   ? spec_json(spec)
                   : nlohmann::json::parse(spec.recorded_options_json);
  tm.data = in.data;
  tm.model = std::make_unique<Model<float>>(tm.config, seed);
  if (spec.model.oov_init == "zero") {
    // The out-of-vocabulary row starts at zero: unseen values add no noise (SPEC, OOV).
    for (auto& t : tm.model->embedding_tables()) {
      std::fill(t.weight.data(), t.weight.data() + t.width, 0.0f);
    }
  }
  StepProfile profile;
  if (topts.monitor == Monitor::kValAuc) {
    if (const std::string why = undefined_auc_reason(valid_rows, tm.config.classes); !why.empty()) {
      warn("the validation AUC is undefined (" + why +
           "): early stopping monitors the validation log loss instead");
      topts.monitor = Monitor::kValLogloss;
      tm.options["monitor"] = "val_logloss";
    }
  }
  const bool bf16 = topts.precision == GemmPrecision::kBf16;
  // The model's configuration records the precision the products had, not "auto".
  tm.options["precision"] = bf16 ? "bf16" : "fp32";
  // Where a bf16 matmul could not be created, the products ran in float from then on: the model
  // records fp32 (checked before every save), and the user is told once.
  const auto record_precision = [&] {
    if (!bf16 || tm.options["precision"] == "fp32") return;
    const Bf16Fallback f = bf16_fallback();
    if (!f.fell_back) return;
    tm.options["precision"] = "fp32";
    warn("bf16 matrix products are not available here (" + f.reason + "); training ran them in "
         "fp32" + (f.bf16_products_before > 0
                       ? " after " + std::to_string(f.bf16_products_before) + " in bf16"
                       : std::string()) +
         ", and the model records precision fp32");
  };
  std::snprintf(line, sizeof line,
                "model: %s cross, %s, D = %d, %zu parameters; training products in %s",
                std::string(to_string(tm.config.cross)).c_str(),
                std::string(to_string(tm.config.structure)).c_str(), tm.model->input_width(),
                tm.model->parameter_count(), bf16 ? "bf16 (float sums)" : "fp32");
  message(line);
  if (ts.profile) topts.profile = &profile;
  Trainer trainer(*tm.model, topts);
  int epoch_no = 0;
  auto on_step = [&](int64_t step, int64_t steps, double loss, double rate) {
    if (cb.should_stop && cb.should_stop()) throw Stopped("training stopped", "should_stop");
    if (cb.on_step) cb.on_step({epoch_no + 1, step, steps, loss, rate});
  };
  const std::string curves_title = "deepcross — " + std::string(to_string(tm.config.cross)) +
                                   " cross, " + std::string(to_string(tm.config.structure));
  History so_far;
  auto on_epoch = [&](const EpochRecord& r) {
    ++epoch_no;
    if (cb.on_epoch) cb.on_epoch(stats_of(r));
    // Checkpoint: the best epoch so far, written atomically (no model path: nothing is saved);
    // then, after every epoch, the history and curves up to it, so that the files of a run
    // interrupted at any point (SIGINT, a diverging step) describe the same run.
    record_precision();
    if (r.best && !model_path.empty()) save_model(model_path, tm);
    so_far.add(r);
    if (!spec.history_path.empty()) so_far.write_csv(spec.history_path);
    if (!spec.curves_path.empty()) write_curves_svg(spec.curves_path, so_far, curves_title);
  };
  TrainSummary summary = trainer.fit(train_rows, valid_rows, on_epoch, on_step);

  const Evaluation test_eval = evaluate(*tm.model, test_rows, topts.eval_batch_size);
  record_precision();
  tm.training = {{"best_epoch", summary.best_epoch},
                 {"epochs_run", summary.epochs_run},
                 {"val_auc", number_or_null(summary.best_valid.auc)},
                 {"val_logloss", number_or_null(summary.best_valid.loss)},
                 {"test_auc", number_or_null(test_eval.auc)},
                 {"test_logloss", number_or_null(test_eval.loss)}};
  if (!model_path.empty()) save_model(model_path, tm);
  // The history and curves were written with every epoch (on_epoch).

  TrainingResult r;
  r.best_epoch = summary.best_epoch;
  r.epochs_run = summary.epochs_run;
  r.val_auc = summary.best_valid.auc;
  r.val_logloss = summary.best_valid.loss;
  r.test_auc = test_eval.auc;
  r.test_logloss = test_eval.loss;
  r.train_samples_per_s = summary.train_samples_per_s;
  for (const EpochRecord& e : summary.history.epochs()) r.history.push_back(stats_of(e));
  r.model_path = model_path;
  r.cross = std::string(to_string(tm.config.cross));
  r.structure = std::string(to_string(tm.config.structure));
  r.precision = tm.options["precision"].get<std::string>();
  r.train_rows = train_rows.rows;
  r.valid_rows = valid_rows.rows;
  r.test_rows = test_rows.rows;
  r.profiled_steps = profile.steps;
  if (profile.steps > 0) {
    for (int i = 0; i < StepProfile::kCount; ++i) {
      r.profile.emplace_back(StepProfile::name(i), 1e3 * profile.seconds[i] / profile.steps);
    }
  }
  size_t params = 0;
  for (auto& t : tm.model->tensors()) params += t.size * sizeof(float);
  const size_t buffers = buffer_bytes_in_use();
  r.parsed_bytes = in.parsed_bytes;
  r.encoded_bytes = encoded_bytes(train_rows) + encoded_bytes(valid_rows) + encoded_bytes(test_rows);
  r.vocabulary_bytes = vocabulary_bytes(tm.preprocessor);
  r.model_bytes = params;
  r.optimizer_bytes = 2 * params;  // Adam's m and v
  r.workspace_bytes = buffers > 3 * params ? buffers - 3 * params : 0;
  return r;
}

TrainingCallbacks console_callbacks(std::FILE* out) {
  // The progress line of the running epoch; the epoch table's header before the first row.
  struct State {
    std::unique_ptr<Progress> progress;
    bool header = false;
  };
  auto state = std::make_shared<State>();
  TrainingCallbacks cb;
  cb.on_warning = [out](const std::string& w) {
    std::fprintf(out, "deepcross: warning: %s\n", w.c_str());
  };
  cb.on_message = [out, state](const std::string& m) {
    std::fprintf(out, "%s\n", m.c_str());
    if (m.starts_with("model: ") && !state->header) {
      std::fprintf(out, "%s\n", format_epoch_header().c_str());
      state->header = true;
    }
  };
  cb.on_step = [out, state](const StepStats& s) {
    if (!state->progress) {
      state->progress =
          std::make_unique<Progress>(out, s.steps, "epoch " + std::to_string(s.epoch));
    }
    state->progress->update(s.step, s.mean_loss, s.samples_per_s);
  };
  cb.on_epoch = [out, state](const EpochStats& e) {
    if (state->progress) state->progress->finish();
    state->progress.reset();
    EpochRecord r;
    r.epoch = e.epoch;
    r.train_loss = e.train_loss;
    r.train_auc = e.train_auc;
    r.val_loss = e.val_loss;
    r.val_auc = e.val_auc;
    r.seconds = e.seconds;
    r.samples_per_s = e.samples_per_s;
    r.best = e.best;
    std::fprintf(out, "%s\n", format_epoch_row(r).c_str());
  };
  return cb;
}

}  // namespace deepcross
