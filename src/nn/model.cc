#include "nn/model.h"

#include <cstring>

#include "core/blas.h"
#include "core/ops.h"
#include "deepcross/error.h"
#include "loss/loss.h"
#include "nn/init.h"

namespace deepcross {

template <typename T>
Model<T>::Model(const ModelConfig& config, uint64_t seed)
    : config_(config),
      embeddings_(config.num_numeric, config.vocab_sizes, config.embed_max),
      dropout_rng_(Rng(seed).split(1)) {
  build();
  // Initialise in a fixed order from one seeded stream: embeddings, cross, MLP, output.
  Rng rng(seed);
  for (auto& t : embeddings_.tables()) init_normal(t.weight.data(), t.weight.size(), 1.0, rng);
  cross_->init(rng);
  mlp_->init(rng);
  out_->init(rng);
}

template <typename T>
Model<T>::Model(const ModelConfig& config, NoInit, bool allocate_tables)
    : config_(config),
      embeddings_(config.num_numeric, config.vocab_sizes, config.embed_max, allocate_tables),
      dropout_rng_(0) {
  build();
}

template <typename T>
std::unique_ptr<Model<T>> Model<T>::uninitialized(const ModelConfig& config) {
  return std::unique_ptr<Model>(new Model(config, NoInit{}, /*allocate_tables=*/true));
}

template <typename T>
void Model<T>::build() {
  validate(config_);
  const int D = embeddings_.width();
  cross_ = make_cross<T>(config_, D, store_);
  mlp_ = std::make_unique<Mlp<T>>(store_, D, config_.mlp, config_.dropout);
  const int last_in = config_.structure == Structure::kStacked ? mlp_->out() : mlp_->out() + D;
  out_ = std::make_unique<Linear<T>>(store_, "out", last_in, config_.outputs());
  store_.finalize();
}

template <typename T>
std::unique_ptr<Model<T>> Model<T>::inference_clone(const Model& source) {
  std::unique_ptr<Model> m(new Model(source.config_, NoInit{}, /*allocate_tables=*/false));
  m->embeddings_.share_weights_from(source.embeddings_);
  const Buffer<T>& values = source.store_.values();
  std::copy(values.data(), values.data() + values.size(), m->store_.values().data());
  auto mine = m->mlp_->batch_norms();
  auto theirs = source.mlp_->batch_norms();
  for (size_t i = 0; i < mine.size(); ++i) {
    mine[i]->running_mean() = theirs[i]->running_mean();
    mine[i]->running_var() = theirs[i]->running_var();
  }
  return m;
}

template <typename T>
void Model<T>::reserve(int max_batch) {
  DC_CHECK(max_batch >= 1);
  max_batch_ = max_batch;
  const size_t D = embeddings_.width();
  embeddings_.reserve(max_batch);
  cross_->reserve(max_batch);
  mlp_->reserve(max_batch);
  x0_.resize(max_batch * D);
  dx0_.resize(max_batch * D);
  dxl_.resize(max_batch * D);
  logits_.resize(static_cast<size_t>(max_batch) * outputs());
  dlogits_.resize(static_cast<size_t>(max_batch) * outputs());
  dh_.resize(static_cast<size_t>(max_batch) * mlp_->out());
}

template <typename T>
ConstMatrixView<T> Model<T>::forward(const Batch<T>& batch, Mode mode) {
  const int B = batch.size, D = embeddings_.width();
  DC_CHECK(B >= 1 && B <= max_batch_);
  batch_ = B;
  StepProfile* prof = mode == Mode::kTrain ? profile_ : nullptr;
  double t = prof ? StepProfile::now() : 0;
  MatrixView<T> x0{x0_.data(), B, D};
  embeddings_.forward(B, batch.x_num, batch.x_cat, x0);
  if (prof) t = prof->lap(StepProfile::kEmbedForward, t);
  cross_out_ = cross_->forward(x0);
  if (prof) t = prof->lap(StepProfile::kCrossForward, t);
  const bool stacked = config_.structure == Structure::kStacked;
  const uint64_t seed = mode == Mode::kTrain ? dropout_rng_.next() : 0;
  mlp_out_ = mlp_->forward(stacked ? cross_out_ : ConstMatrixView<T>(x0), mode, seed);
  MatrixView<T> logits{logits_.data(), B, outputs()};
  if (stacked) {
    out_->forward(mlp_out_, logits);
  } else {
    // logits = h W_hᵀ + x_L W_xᵀ + b, with W = [W_h | W_x].
    MatrixView<T> w = store_.matrix(out_->weight_id());
    const int h = mlp_->out();
    gemm<T>(Trans::kNo, Trans::kYes, T(1), mlp_out_, w.columns(0, h), T(0), logits);
    gemm<T>(Trans::kNo, Trans::kYes, T(1), cross_out_, w.columns(h, D), T(1), logits);
    add_row_vector(logits, store_.value(out_->bias_id()));
  }
  if (prof) prof->lap(StepProfile::kDeepForward, t);
  return logits;
}

template <typename T>
double Model<T>::train_step_gradients(const Batch<T>& batch) {
  DC_CHECK(batch.labels != nullptr);
  ConstMatrixView<T> logits = forward(batch, Mode::kTrain);
  MatrixView<T> dlogits{dlogits_.data(), batch.size, outputs()};
  const double t = profile_ ? StepProfile::now() : 0;
  const double loss = logit_loss<T>(logits, batch.labels, dlogits);
  if (profile_) profile_->lap(StepProfile::kLoss, t);
  backward(batch, dlogits);
  return loss;
}

template <typename T>
void Model<T>::backward(const Batch<T>& batch, ConstMatrixView<T> dlogits) {
  const int B = batch_, D = embeddings_.width();
  DC_CHECK(batch.size == B);
  double t = profile_ ? StepProfile::now() : 0;
  store_.zero_grad();
  const bool stacked = config_.structure == Structure::kStacked;
  MatrixView<T> dx0{dx0_.data(), B, D}, dxl{dxl_.data(), B, D};
  const int h = mlp_->out();
  MatrixView<T> w = store_.matrix(out_->weight_id());
  MatrixView<T> wgrad = store_.grad_matrix(out_->weight_id());
  MatrixView<T> dh{dh_.data(), B, h};
  if (stacked) {
    out_->backward(mlp_out_, dlogits, dh);
    // MLP input was x_L: its gradient starts the cross backward.
    mlp_->backward(dh, dxl);
    zero(dx0);
  } else {
    // W = [W_h | W_x]:  dW_h += dlogitsᵀ h,  dW_x += dlogitsᵀ x_L,  db += Σ dlogits,
    // dh = dlogits W_h,  dx_L = dlogits W_x.
    gemm<T>(Trans::kYes, Trans::kNo, T(1), dlogits, mlp_out_, T(1), wgrad.columns(0, h));
    gemm<T>(Trans::kYes, Trans::kNo, T(1), dlogits, cross_out_, T(1), wgrad.columns(h, D));
    add_column_sums(dlogits, store_.grad(out_->bias_id()));
    gemm<T>(Trans::kNo, Trans::kNo, T(1), dlogits, w.columns(0, h), T(0), dh);
    gemm<T>(Trans::kNo, Trans::kNo, T(1), dlogits, w.columns(h, D), T(0), dxl);
    // MLP input was x0.
    mlp_->backward(dh, dx0);
  }
  if (profile_) t = profile_->lap(StepProfile::kDeepBackward, t);
  cross_->backward(dxl, dx0);
  if (profile_) t = profile_->lap(StepProfile::kCrossBackward, t);
  embeddings_.backward(B, batch.x_cat, dx0);
  if (profile_) profile_->lap(StepProfile::kEmbedBackward, t);
}

template <typename T>
std::vector<TensorRef<T>> Model<T>::tensors() {
  std::vector<TensorRef<T>> out;
  for (auto& t : embeddings_.tables()) {
    out.push_back({t.name, {t.rows, t.width}, t.weight.data(), t.weight.size(), true});
  }
  for (int i = 0; i < static_cast<int>(store_.entries().size()); ++i) {
    const auto& e = store_.entry(i);
    out.push_back({e.name, e.shape, store_.value(i), e.size, true});
  }
  for (BatchNorm<T>* bn : mlp_->batch_norms()) {
    out.push_back({bn->name() + ".running_mean", {bn->size()}, bn->running_mean().data(),
                   static_cast<size_t>(bn->size()), false});
    out.push_back({bn->name() + ".running_var", {bn->size()}, bn->running_var().data(),
                   static_cast<size_t>(bn->size()), false});
  }
  return out;
}

template <typename T>
size_t Model<T>::parameter_count() {
  size_t n = 0;
  for (const auto& t : tensors()) {
    if (t.is_parameter) n += t.size;
  }
  return n;
}

template class Model<float>;
template class Model<double>;

}  // namespace deepcross
