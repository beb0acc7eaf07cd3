#include "infer/scoring.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>

#include <omp.h>

#include "core/check.h"
#include "deepcross/error.h"
#include "loss/loss.h"
#include "metrics/metrics.h"

namespace deepcross {
namespace {

// Scores chunk `chunk` (rows [chunk * B, chunk * B + B)) of `data` with `m` into `out`.
void score_rows(Model<float>& m, const EncodedData& data, int B, size_t chunk,
                std::vector<float>& out) {
  const int k = m.outputs();
  const int d = data.num_numeric, c = data.num_categorical;
  const size_t s = chunk * B;
  const int len = static_cast<int>(std::min<size_t>(B, data.rows - s));
  if (m.max_batch() < len) m.reserve(len);  // workspaces sized by the work, never beyond it
  const Batch<float> batch{len, d ? &data.x_num[s * d] : nullptr,
                           c ? &data.x_cat[s * c] : nullptr, nullptr};
  ConstMatrixView<float> logits = m.forward(batch, Mode::kEval);
  logits_to_probabilities<float>(logits, MatrixView<float>{&out[s * k], len, k});
}

}  // namespace

std::vector<float> predict_probabilities(Model<float>& model, const EncodedData& data,
                                         int batch_size) {
  const int k = model.outputs();
  // A chunk is never larger than the rows there are (a huge --eval-batch-size must not size
  // the workspaces); the chunks, and so the result, are the same.
  const int B = static_cast<int>(
      std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(1, batch_size)), data.rows)));
  std::vector<float> out(data.rows * k);
  const size_t chunks = (data.rows + B - 1) / B;
  auto score_chunk = [&](Model<float>& m, size_t chunk) { score_rows(m, data, B, chunk, out); };
  const int threads = static_cast<int>(std::min<size_t>(omp_get_max_threads(), chunks));
  if (threads <= 1) {
    // One chunk or one thread (a serving thread, say): no parallel region at all.
    if (model.max_batch() < B) model.reserve(B);
    for (size_t chunk = 0; chunk < chunks; ++chunk) score_chunk(model, chunk);
    return out;
  }
  // Each thread scores whole chunks with its own inference clone (shared embedding tables, own
  // scratch) and single-threaded kernels: no barrier between layers, each chunk's activations
  // stay in the thread's cache. The chunks are fixed, so the output does not depend on the
  // thread count or on which thread scored a chunk.
#pragma omp parallel num_threads(threads)
  {
    std::unique_ptr<Model<float>> clone = Model<float>::inference_clone(model);
    clone->reserve(B);
#pragma omp for schedule(dynamic)
    for (size_t chunk = 0; chunk < chunks; ++chunk) score_chunk(*clone, chunk);
  }
  return out;
}

Evaluation score(const std::vector<float>& probs, const std::vector<float>& labels, int k) {
  Evaluation e;
  e.rows = labels.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (labels.empty()) {
    e.loss = e.auc = e.accuracy = nan;
    return e;
  }
  auto auc_or_nan = [&](auto fn) {
    try {
      return fn();
    } catch (const DataError&) {
      return nan;  // one class only: AUC undefined
    }
  };
  if (k == 1) {
    e.loss = log_loss(probs, labels);
    e.auc = auc_or_nan([&] { return roc_auc(probs, labels); });
    e.accuracy = nan;
  } else {
    e.loss = log_loss_multiclass(probs, labels, k);
    e.auc = auc_or_nan([&] { return macro_auc_ovr(probs, labels, k); });
    e.accuracy = accuracy(probs, labels, k);
  }
  return e;
}

Evaluation evaluate(Model<float>& model, const EncodedData& data, int batch_size) {
  if (!data.has_labels) throw DataError("evaluation needs labels");
  return score(predict_probabilities(model, data, batch_size), data.labels, model.outputs());
}


InferencePool::InferencePool(const Model<float>& source, int clones, int batch_rows)
    : batch_rows_(batch_rows) {
  DC_CHECK(clones >= 1 && batch_rows >= 1);
  for (int i = 0; i < clones; ++i) {
    std::unique_ptr<Model<float>> clone = Model<float>::inference_clone(source);
    // Workspaces for a usual request now; a larger chunk grows its clone's (never beyond the
    // rows there are: a huge batch_rows must not size them).
    clone->reserve(std::min(batch_rows, 4096));
    free_.push_back(clone.get());
    owned_.push_back(std::move(clone));
  }
}

InferencePool::Lease InferencePool::acquire() {
  std::unique_lock lock(mu_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  Model<float>* m = free_.back();
  free_.pop_back();
  return Lease(*this, m);
}

Model<float>* InferencePool::try_take() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return nullptr;
  Model<float>* m = free_.back();
  free_.pop_back();
  return m;
}

void InferencePool::release(Model<float>* m) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(m);
  }
  freed_.notify_one();
}

std::vector<float> InferencePool::score(const EncodedData& data) {
  const int B = static_cast<int>(
      std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(batch_rows_), data.rows)));
  const int k = owned_.front()->outputs();
  std::vector<float> out(data.rows * k);
  const size_t chunks = (data.rows + B - 1) / B;
  const int threads = static_cast<int>(
      std::min({static_cast<size_t>(omp_get_max_threads()), owned_.size(), chunks}));
  if (threads <= 1) {
    if (chunks == 0) return out;
    Lease clone = acquire();
    for (size_t chunk = 0; chunk < chunks; ++chunk) score_rows(*clone, data, B, chunk, out);
    return out;
  }
  // As predict_probabilities, with pooled clones instead of fresh ones. A thread of the team
  // scores only with a clone that is free now (never waiting inside the parallel region, where
  // teammates holding clones would wait for it at the barrier while other calls' teams wait for
  // theirs); chunks nobody took are scored after it, with a clone waited for.
  std::atomic<size_t> next{0};
  auto drain = [&](Model<float>& m) {
    for (size_t chunk; (chunk = next.fetch_add(1)) < chunks;) score_rows(m, data, B, chunk, out);
  };
#pragma omp parallel num_threads(threads)
  {
    if (Model<float>* m = try_take()) {
      Lease clone(*this, m);
      drain(*m);
    }
  }
  if (next.load() < chunks) {
    Lease clone = acquire();
    drain(*clone);
  }
  return out;
}

}  // namespace deepcross
