// Scoring: a model's eval-mode probabilities for encoded rows, their metrics, and the pool of
// inference clones that lets many threads score one model at once. Used by training
// (validation), the public Predictor (api/) and the server; nothing here trains.
//
//   std::vector<float> p = predict_probabilities(model, data, 256);  // rows x outputs
//   Evaluation e = evaluate(model, data, 256);                         // needs labels
//
//   InferencePool pool(model, /*clones=*/4, /*batch_rows=*/512);      // once
//   std::vector<float> q = pool.score(data, 512);  // any thread; same numbers as predict_...
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "data/preprocess.h"
#include "nn/model.h"

namespace deepcross {

struct Evaluation {
  size_t rows = 0;
  double loss = 0;      // mean log loss (binary or multi-class)
  double auc = 0;       // binary AUC, or the macro one-vs-rest AUC; NaN when undefined
  double accuracy = 0;  // multi-class only (NaN for binary)
};

// Eval-mode probabilities, rows x n_out (σ for one output, softmax otherwise), row-major.
// Rows are scored in fixed chunks of `batch_size`, each by one of omp_get_max_threads()
// threads with its own inference clone of `model`; the result does not depend on the thread
// count.
std::vector<float> predict_probabilities(Model<float>& model, const EncodedData& data,
                                         int batch_size);
// Metrics of `probs` (rows x k) against labels: log loss, AUC (NaN if one class only),
// accuracy for k > 1.
Evaluation score(const std::vector<float>& probs, const std::vector<float>& labels, int k);
Evaluation evaluate(Model<float>& model, const EncodedData& data, int batch_size);

// Inference clones of one model (nn/model.h Model::inference_clone: own dense weights and
// scratch, the source's embedding rows shared read-only), each reserved for `batch_rows`.
// score() may be called from any number of threads at once: a call's threads score with the
// clones free at the moment (one clone waited for when none is) and give the same numbers as
// predict_probabilities(source, data, batch_rows) — the chunks are the same, each scored by one
// clone. `source` must outlive the pool and is never written.
class InferencePool {
 public:
  InferencePool(const Model<float>& source, int clones, int batch_rows);
  InferencePool(const InferencePool&) = delete;
  InferencePool& operator=(const InferencePool&) = delete;

  // A clone held for the lifetime of the lease.
  class Lease {
   public:
    Lease(InferencePool& pool, Model<float>* model) : pool_(pool), model_(model) {}
    ~Lease() { pool_.release(model_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Model<float>& operator*() const { return *model_; }

   private:
    InferencePool& pool_;
    Model<float>* model_;
  };

  // Waits for a free clone.
  Lease acquire();
  // Probabilities of every row (rows x outputs), in chunks of batch_rows scored by up to
  // min(omp_get_max_threads(), clones) threads of the caller.
  std::vector<float> score(const EncodedData& data);
  int batch_rows() const { return batch_rows_; }

 private:
  Model<float>* try_take();  // a free clone, or nullptr without waiting
  void release(Model<float>* m);

  int batch_rows_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Model<float>*> free_;
  std::vector<std::unique_ptr<Model<float>>> owned_;
};

}  // namespace deepcross
