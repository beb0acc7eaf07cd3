#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include <omp.h>

#include "core/rng.h"
#include "deepcross/error.h"
#include "loss/loss.h"
#include "metrics/metrics.h"
#include "train/thread_tuner.h"

namespace deepcross {
namespace {

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Copies rows `idx[0..n)` of `data` into contiguous batch buffers.
void gather(const EncodedData& data, const uint32_t* idx, int n, std::vector<float>& x_num,
            std::vector<int32_t>& x_cat, std::vector<float>& labels) {
  const int d = data.num_numeric, c = data.num_categorical;
  // Random rows of tens of MB: memory latency, which two threads overlap.
#pragma omp parallel for schedule(static) if (n >= 512)
  for (int i = 0; i < n; ++i) {
    const size_t r = idx[i];
    if (d) std::memcpy(&x_num[static_cast<size_t>(i) * d], &data.x_num[r * d], sizeof(float) * d);
    if (c) std::memcpy(&x_cat[static_cast<size_t>(i) * c], &data.x_cat[r * c], sizeof(int32_t) * c);
    labels[i] = data.labels[r];
  }
}

// A mean log loss above this (nats per row) means the model has diverged: a model that
// predicts 0.5 everywhere scores log 2 (binary) or log k; this is a probability of e^-1000
// for the true class on average.
constexpr double kDivergedLoss = 1000;

std::string format_loss(double loss) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", loss);
  return buf;
}

bool improves(Monitor m, const Evaluation& e, const Evaluation& best, bool have_best) {
  const double v = m == Monitor::kValAuc ? e.auc : e.loss;
  const double b = m == Monitor::kValAuc ? best.auc : best.loss;
  if (!have_best) return true;
  if (std::isnan(v)) return false;
  if (std::isnan(b)) return true;
  return m == Monitor::kValAuc ? v > b : v < b;
}

}  // namespace

Trainer::Trainer(Model<float>& model, const TrainerOptions& options)
    : model_(&model), options_(options) {}

TrainSummary Trainer::fit(const EncodedData& train, const EncodedData& valid,
                          const EpochCallback& on_epoch, const StepCallback& on_step) {
  Model<float>& model = *model_;
  const size_t n = train.rows;
  if (!train.has_labels || !valid.has_labels) throw DataError("training data needs labels");
  if (n < 2) throw DataError("training needs at least 2 rows, found " + std::to_string(n));
  if (valid.rows == 0) throw DataError("the validation set is empty");
  // Workspaces are sized by the rows there are, not by the flags: a batch larger than the
  // training rows is all of them (the same steps), a chunk larger than the validation rows
  // all of those.
  const int B = static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.batch_size), n));
  model.reserve(std::max<int>(
      B, static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.eval_batch_size), valid.rows))));
  model.set_profile(options_.profile);
  Adam<float> opt(model.params(), model.embedding_tables(), options_.adam);
  Rng shuffle_rng = Rng(options_.seed).split(2);
  const int k = model.outputs();
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  std::vector<float> x_num(static_cast<size_t>(B) * train.num_numeric);
  std::vector<int32_t> x_cat(static_cast<size_t>(B) * train.num_categorical);
  std::vector<float> labels(B);
  Buffer<float> dlogits_buffer(static_cast<size_t>(B) * k);  // ∂loss/∂logits of a batch
  std::vector<float> epoch_probs, epoch_labels;
  epoch_probs.reserve(n * k);
  epoch_labels.reserve(n);

  TrainSummary summary;
  Evaluation best;
  bool have_best = false;
  std::vector<std::vector<float>> best_state;
  const int64_t steps = static_cast<int64_t>((n + B - 1) / B);
  ThreadTuner tuner(options_.max_threads, options_.tune_threads);
  for (int epoch = 1; epoch <= options_.epochs; ++epoch) {
    const double t_epoch = now_seconds();
    for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.below(i + 1)]);
    epoch_probs.clear();
    epoch_labels.clear();
    double loss_sum = 0, step_seconds = 0;
    size_t seen = 0;
    int64_t step = 0;
    for (size_t s = 0; s < n; s += B) {
      const int len = static_cast<int>(std::min<size_t>(B, n - s));
      ++step;
      if (len < 2) continue;  // BatchNorm needs two rows
      tuner.before_step();
      const double t0 = now_seconds();
      gather(train, &order[s], len, x_num, x_cat, labels);
      StepProfile* prof = options_.profile;
      if (prof) prof->lap(StepProfile::kGather, t0);
      const Batch<float> batch{len, x_num.data(), x_cat.data(), labels.data()};
      // Forward (training mode), loss, backward: the gradients of this batch.
      double loss;
      {
        ScopedGemmPrecision precision(options_.precision);
        ConstMatrixView<float> logits = model.forward(batch, Mode::kTrain);
        const MatrixView<float> dlogits{dlogits_buffer.data(), len, k};
        const double t_loss = prof ? StepProfile::now() : 0;
        loss = logit_loss<float>(logits, batch.labels, dlogits);
        if (prof) prof->lap(StepProfile::kLoss, t_loss);
        model.backward(batch, dlogits);
      }
      const double t_opt = prof ? StepProfile::now() : 0;
      opt.step();
      if (prof) {
        prof->lap(StepProfile::kOptimizer, t_opt);
        ++prof->steps;
      }
      const double t_step = now_seconds() - t0;
      tuner.after_step(t_step, len);
      step_seconds += t_step;
      // The training-mode predictions of this step, for the epoch's train AUC.
      ConstMatrixView<float> logits = model.last_logits();
      const size_t at = epoch_probs.size();
      epoch_probs.resize(at + static_cast<size_t>(len) * k);
      logits_to_probabilities<float>(logits, MatrixView<float>{&epoch_probs[at], len, k});
      epoch_labels.insert(epoch_labels.end(), labels.begin(), labels.begin() + len);
      // A diverging run stops at its first non-finite (or absurd) loss: nothing after it can
      // be trusted, and the best epoch's checkpoint written so far is left as it is.
      if (!std::isfinite(loss) || loss > kDivergedLoss) {
        throw DataError("training diverged in epoch " + std::to_string(epoch) + ", step " +
                            std::to_string(step) + " of " + std::to_string(steps) +
                            ": the loss is " + format_loss(loss) +
                            "; try a smaller learning rate",
                        "--lr");
      }
      loss_sum += loss * len;
      seen += len;
      if (on_step) on_step(step, steps, loss_sum / seen, seen / std::max(step_seconds, 1e-9));
    }
    summary.train_seconds += step_seconds;
    const Evaluation train_eval = score(epoch_probs, epoch_labels, k);
    opt.flush();
    const Evaluation val = evaluate(model, valid, options_.eval_batch_size);
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = seen ? loss_sum / seen : std::numeric_limits<double>::quiet_NaN();
    rec.train_auc = train_eval.auc;
    rec.val_loss = val.loss;
    rec.val_auc = val.auc;
    rec.samples_per_s = seen / std::max(step_seconds, 1e-9);
    rec.best = improves(options_.monitor, val, best, have_best);
    if (rec.best) {
      best = val;
      have_best = true;
      summary.best_epoch = epoch;
      best_state.clear();
      for (auto& t : model.tensors()) best_state.emplace_back(t.value, t.value + t.size);
    }
    rec.seconds = now_seconds() - t_epoch;
    summary.history.add(rec);
    summary.epochs_run = epoch;
    if (on_epoch) on_epoch(rec);
    if (options_.patience > 0 && epoch - summary.best_epoch >= options_.patience) break;
  }
  // Restore the best epoch's parameters and running statistics.
  if (!best_state.empty()) {
    size_t i = 0;
    for (auto& t : model.tensors()) {
      std::copy(best_state[i].begin(), best_state[i].end(), t.value);
      ++i;
    }
  }
  model.set_profile(nullptr);
  summary.best_valid = best;
  summary.train_samples_per_s =
      summary.train_seconds > 0
          ? static_cast<double>(n) * summary.epochs_run / summary.train_seconds
          : 0;
  return summary;
}

}  // namespace deepcross
