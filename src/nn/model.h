// Model: the whole DeepCross network, wired per SPEC.md steps 1–6.
//
//   x0 = concat(x_num, E_1[x_cat_1], ..., E_n[x_cat_n])                    (B x D)
//   x_L = CrossNet(x0)
//   stacked:  logits = Linear(h_last → n_out)(MLP(x_L))
//   parallel: logits = Linear(h_last + D → n_out)(concat(MLP(x0), x_L))   (deep part first)
//
// In parallel mode the output Linear's weight is used as two column blocks [W_h | W_x], so
// the concatenation is never materialised: logits = h W_hᵀ + x_L W_xᵀ + b.
//
//   Model<float> model(config, /*seed=*/42);      // parameters initialised per the SPEC
//   model.reserve(2048);                          // all activation buffers, once
//   double loss = model.train_step_gradients(batch);   // forward (training), loss, backward
//   optimizer.step();                             // reads the gradients (optim/adam.h)
//   MatrixView<float> logits = model.forward(batch, Mode::kEval);
//
// T is float for training and serving, double for the finite-difference gradient checks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "nn/config.h"
#include "nn/cross.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/param_store.h"
#include "nn/step_profile.h"

namespace deepcross {

// One mini-batch, row-major: x_num (size x d_num), x_cat (size x n_cat ids), labels (size).
template <typename T>
struct Batch {
  int size = 0;
  const T* x_num = nullptr;
  const int32_t* x_cat = nullptr;
  const float* labels = nullptr;  // 0/1, or the class index; may be null for prediction
};

// A named tensor of the model: a parameter (with gradient) or persistent state (no gradient).
template <typename T>
struct TensorRef {
  std::string name;
  std::vector<int> shape;
  T* value;
  size_t size;
  bool is_parameter;
};

template <typename T>
class Model {
 public:
  Model(const ModelConfig& config, uint64_t seed);
  // An inference clone of `source` (evaluation only): its own copy of the dense parameters,
  // running statistics and activation buffers, reading `source`'s embedding rows, which stay
  // shared and read-only. `source` must outlive the clone and not be trained meanwhile.
  // Gives each serving thread its own scratch without copying the large tables.
  static std::unique_ptr<Model> inference_clone(const Model& source);
  // A model of `config` whose parameters are allocated but not initialised (no random draws):
  // for loading, where every value is overwritten from a file.
  static std::unique_ptr<Model> uninitialized(const ModelConfig& config);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  int input_width() const { return embeddings_.width(); }
  int outputs() const { return config_.outputs(); }
  int max_batch() const { return max_batch_; }
  // Sizes every activation buffer for batches of up to max_batch rows. Call before use.
  void reserve(int max_batch);

  // Forward pass; returns the logits (B x n_out), a view valid until the next call.
  // Mode::kTrain uses batch statistics (and updates running ones) and dropout.
  ConstMatrixView<T> forward(const Batch<T>& batch, Mode mode);
  // Forward (training mode), mean loss, backward, in one call: a convenience for tests and
  // benchmarks (the trainer spells the three steps out, train/trainer.cc). Dense gradients are
  // zeroed first and then hold ∂loss/∂θ; each embedding table's sparse gradient holds its
  // touched rows.
  double train_step_gradients(const Batch<T>& batch);
  // Backward from a given logit gradient (B x n_out), after forward(batch, Mode::kTrain).
  void backward(const Batch<T>& batch, ConstMatrixView<T> dlogits);

  ParamStore<T>& params() { return store_; }
  std::vector<EmbeddingTable<T>>& embedding_tables() { return embeddings_.tables(); }
  // Every tensor (embeddings first, then dense parameters, then BatchNorm running
  // statistics) with its name: what a model file saves and what golden tests compare.
  std::vector<TensorRef<T>> tensors();
  // The total count of trainable numbers.
  size_t parameter_count();
  // Test seams: the intermediate activations of the last forward, x0 and x_L (golden tests
  // compare them with the PyTorch fixtures; nothing in production reads them).
  ConstMatrixView<T> last_x0() const { return {x0_.data(), batch_, embeddings_.width()}; }
  ConstMatrixView<T> last_cross_out() const { return cross_out_; }
  // Time the training phases of forward (Mode::kTrain), train_step_gradients and backward into
  // `p` (nullptr: stop). Not owned.
  void set_profile(StepProfile* p) { profile_ = p; }

  // The logits of the last forward (B x n_out).
  ConstMatrixView<T> last_logits() const { return {logits_.data(), batch_, outputs()}; }

 private:
  struct NoInit {};
  Model(const ModelConfig& config, NoInit, bool allocate_tables);
  void build();

  ModelConfig config_;
  ParamStore<T> store_;
  Embeddings<T> embeddings_;
  std::unique_ptr<CrossNet<T>> cross_;
  std::unique_ptr<Mlp<T>> mlp_;
  std::unique_ptr<Linear<T>> out_;
  Rng dropout_rng_;
  int max_batch_ = 0;
  int batch_ = 0;
  Buffer<T> x0_, dx0_, dxl_, logits_, dlogits_, dh_;
  ConstMatrixView<T> cross_out_, mlp_out_;
  StepProfile* profile_ = nullptr;
};

}  // namespace deepcross
