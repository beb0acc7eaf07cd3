// A training run: a plain spec of data, preprocessing, model and trainer options in, a trained
// model file and its metrics out (what `deepcross train` does; SPEC.md "Pipeline").
//
//   deepcross::TrainingSpec spec;
//   spec.data.train = {"train.tsv.gz"};           // valid/test empty: seeded 64/16/20 split
//   spec.model.cross = "matrix";
//   spec.trainer.epochs = 5;
//   spec.model_path = "criteo.model";              // written at each best epoch and at the end
//   deepcross::TrainingCallbacks cb;
//   cb.on_epoch = [](const deepcross::EpochStats& e) { std::printf("%d %g\n", e.epoch, e.val_auc); };
//   cb.should_stop = [] { return interrupted.load(); };  // checked between batches
//   deepcross::TrainingResult r = deepcross::train(spec, cb);   // r.test_auc, r.history, ...
//   deepcross::Predictor p = deepcross::Predictor::load(r.model_path);
//
// Each epoch: rows reshuffled (seeded), batches of batch_size: forward, loss, backward, Adam
// step; then validation. The best epoch by `monitor` is restored at the end, written to
// model_path, and scored on the test rows. The same spec and seed give the same model file,
// bit for bit, for any thread count.
//
// Errors: deepcross::UsageError naming the spec field (e.g. "model.embed_max"), DataError for
// data (file:line:column), deepcross::Stopped when should_stop() said so.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {

// Where the rows come from and what their columns are.
struct DataSpec {
  std::vector<std::string> train;  // files, read in order
  // Empty valid/test: split from `train`, seeded: 64/16/20 without either, 80/20 with one.
  std::vector<std::string> valid;
  std::vector<std::string> test;
  std::string format = "criteo";   // criteo | csv | tsv
  std::string label;               // csv/tsv: the label column
  std::vector<std::string> numeric, categorical, ignore;  // csv/tsv: column roles
  std::string bad_lines = "error";  // error | skip (skipped lines are counted, warned)
  std::string delimiter;           // csv/tsv: one character, or "tab"; "": the format's own
  std::string cache_dir;           // "": none; else the encoded rows are kept (and reused) there
};

struct PreprocessSpec {
  int min_count = 2;                // rarer categories map to the out-of-vocabulary id
  int quantiles = 1000;             // of the numeric transform to [0, 1]
  int64_t quantile_sample = 100000;  // training rows sampled for the quantiles
};

struct ModelSpec {
  std::string cross = "matrix";      // vector | matrix | mix | lowrank
  std::string structure = "stacked";  // stacked | parallel
  int cross_layers = 2;
  int low_rank = 32;
  int experts = 4;
  int embed_max = 8;
  std::vector<int> mlp = {128, 64, 32};
  double dropout = 0.25;
  int classes = 1;                // 1: binary labels; N > 1: labels 0..N-1 (softmax)
  std::string oov_init = "zero";  // zero | normal
};

struct TrainerSpec {
  int batch_size = 2048;
  int epochs = 100;
  int patience = 5;
  std::string monitor = "val_auc";      // val_auc | val_logloss
  double lr = 0.002;
  double weight_decay = 0.001;
  std::string optimizer_mode = "lazy";  // lazy | exact
  std::string precision = "auto";       // auto | fp32 | bf16
  int64_t seed = 42;
  int eval_batch_size = 256;
  int threads = 0;                      // 0: the available CPUs, the training steps' count
                                        // chosen by timing steps (also BLAS's process-wide count)
  bool profile = false;                 // time the phases of every step (TrainingResult::profile)
};

struct TrainingSpec {
  DataSpec data;
  PreprocessSpec preprocess;
  ModelSpec model;
  TrainerSpec trainer;
  std::string model_path;    // "": not written
  std::string history_path;  // per-epoch CSV; "": not written
  std::string curves_path;   // SVG of the learning curves; "": not written
  // The configuration the model file records as "options" (a JSON object's text); "": the
  // spec's own fields. `deepcross train` passes its flags here.
  std::string recorded_options_json;
};

// One epoch's numbers (NaN where undefined).
struct EpochStats {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_auc = 0, val_loss = 0, val_auc = 0;
  double seconds = 0, samples_per_s = 0;
  bool best = false;  // improved the monitored metric
};

struct StepStats {
  int epoch = 0;  // 1-based
  int64_t step = 0, steps = 0;  // step of steps in this epoch (1-based)
  double mean_loss = 0;         // running mean over the epoch
  double samples_per_s = 0;
};

struct TrainingCallbacks {
  std::function<void(const std::string&)> on_warning;  // e.g. skipped lines, a cache problem
  // Lines that describe the run as it goes: the data and model summaries.
  std::function<void(const std::string&)> on_message;
  std::function<void(const StepStats&)> on_step;    // after each training batch
  std::function<void(const EpochStats&)> on_epoch;  // after each epoch's validation
  // Checked between batches: true stops the run by throwing deepcross::Stopped.
  std::function<bool()> should_stop;
};

struct TrainingResult {
  int best_epoch = 0, epochs_run = 0;
  double val_auc = 0, val_logloss = 0, test_auc = 0, test_logloss = 0;
  double train_samples_per_s = 0;
  std::vector<EpochStats> history;
  std::string model_path;  // as given ("" when not written)
  std::string cross, structure, precision;  // what ran ("fp32" or "bf16", never "auto")
  size_t train_rows = 0, valid_rows = 0, test_rows = 0;
  // profile: per phase, milliseconds per step (spec.trainer.profile).
  int64_t profiled_steps = 0;
  std::vector<std::pair<std::string, double>> profile;
  // Memory, bytes: parsed rows (freed before training), encoded rows, vocabularies and
  // transforms, model parameters, optimizer state, gradients and activation workspaces.
  size_t parsed_bytes = 0, encoded_bytes = 0, vocabulary_bytes = 0, model_bytes = 0,
         optimizer_bytes = 0, workspace_bytes = 0;
};

// Runs the spec. Writes spec.model_path (atomically, at each best epoch and at the end),
// spec.history_path and spec.curves_path when set.
TrainingResult train(const TrainingSpec& spec, const TrainingCallbacks& callbacks = {});

// Callbacks that print what `deepcross train` prints on `out` (standard error there): the
// summaries, a progress line per epoch and the epoch table; warnings as "deepcross: warning:".
TrainingCallbacks console_callbacks(std::FILE* out);

}  // namespace deepcross
