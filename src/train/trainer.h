// Trainer: mini-batch training with per-epoch validation, early stopping and best-epoch
// restore (SPEC.md "Pipeline: Training").
//
//   each epoch: rows reshuffled (seeded); batches of batch_size (a last batch of fewer than 2
//   rows is skipped: BatchNorm needs 2); forward in training mode, loss, backward, Adam step;
//   then validation loss and AUC in evaluation mode. The monitored metric (val AUC, maximised,
//   or val log loss, minimised) decides the best epoch; training stops after `patience`
//   epochs without improvement (0: never) and the best epoch's parameters are restored.
//   Train loss and train AUC come from the epoch's training-mode predictions (the tutorial's).
//
//   Trainer trainer(model, options);
//   TrainSummary s = trainer.fit(train, valid, [&](const EpochRecord& r) { save checkpoint });
//   Evaluation test = evaluate(model, test_data, 256);
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/blas.h"
#include "data/preprocess.h"
#include "infer/scoring.h"
#include "nn/model.h"
#include "nn/step_profile.h"
#include "optim/adam.h"
#include "train/history.h"

namespace deepcross {

enum class Monitor { kValAuc, kValLogloss };

struct TrainerOptions {
  int batch_size = 2048;
  int epochs = 100;
  int patience = 5;
  Monitor monitor = Monitor::kValAuc;
  AdamOptions adam;
  uint64_t seed = 42;
  int eval_batch_size = 256;
  // Of the training steps' GEMMs (evaluation and prediction always run in float).
  GemmPrecision precision = GemmPrecision::kFp32;
  StepProfile* profile = nullptr;  // when set, every training step's phases are timed into it
  // Training steps' threads: with tune_threads, chosen between 1 and max_threads by measuring
  // (train/thread_tuner.h; for a shared machine); otherwise the current OpenMP setting.
  bool tune_threads = false;
  int max_threads = 1;
};

struct TrainSummary {
  int best_epoch = 0;
  int epochs_run = 0;
  Evaluation best_valid;
  double train_seconds = 0;        // time spent in training steps, all epochs
  double train_samples_per_s = 0;  // training rows × epochs run / train_seconds
  History history;
};

// Called during an epoch: step (1-based), steps in the epoch, running mean loss, samples/s.
using StepCallback = std::function<void(int64_t, int64_t, double, double)>;
// Called after each epoch with its record (record.best is set when it improved).
using EpochCallback = std::function<void(const EpochRecord&)>;

class Trainer {
 public:
  Trainer(Model<float>& model, const TrainerOptions& options);
  TrainSummary fit(const EncodedData& train, const EncodedData& valid,
                   const EpochCallback& on_epoch = {}, const StepCallback& on_step = {});

 private:
  Model<float>* model_;
  TrainerOptions options_;
};

}  // namespace deepcross
