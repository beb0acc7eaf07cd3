#include "optim/adam.h"

#include <algorithm>
#include <cmath>

namespace deepcross {

namespace {

// The per-step scalars, computed once (in double, as torch does) and applied to T arrays.
template <typename T>
struct AdamStep {
  T step_size, bc2_sqrt, b1, b2, one_minus_b1, one_minus_b2, wd, eps;
  AdamStep(const AdamOptions& o, int64_t t) {
    const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
    step_size = static_cast<T>(o.lr / bc1);
    bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    b1 = static_cast<T>(o.beta1);
    b2 = static_cast<T>(o.beta2);
    one_minus_b1 = static_cast<T>(1.0 - o.beta1);
    one_minus_b2 = static_cast<T>(1.0 - o.beta2);
    wd = static_cast<T>(o.weight_decay);
    eps = static_cast<T>(o.eps);
  }
  // One element; grad may be null (a zero gradient: only weight decay and the moments act).
  inline void apply(T* param, const T* grad, T* m, T* v, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      T g = grad ? grad[i] : T(0);
      g += wd * param[i];
      m[i] = m[i] * b1 + g * one_minus_b1;
      v[i] = v[i] * b2 + g * g * one_minus_b2;
      const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      param[i] -= step_size * (m[i] / denom);
    }
  }
};

}  // namespace

template <typename T>
void adam_update(T* param, const T* grad, T* m, T* v, size_t n, const AdamOptions& o, int64_t t) {
  const AdamStep<T> s(o, t);
  constexpr size_t kChunk = 4096;
  const size_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 8)
  for (size_t c = 0; c < chunks; ++c) {
    const size_t at = c * kChunk, len = std::min(kChunk, n - at);
    s.apply(param + at, grad ? grad + at : nullptr, m + at, v + at, len);
  }
}

template <typename T>
Adam<T>::Adam(ParamStore<T>& dense, std::vector<EmbeddingTable<T>>& tables,
              const AdamOptions& options)
    : dense_(&dense), tables_(&tables), options_(options) {
  m_.resize(dense.values().size());
  v_.resize(dense.values().size());
  for (auto& t : tables) {
    table_m_.emplace_back(t.weight.size());
    table_v_.emplace_back(t.weight.size());
  }
  if (options.mode == OptimizerMode::kLazy) {
    for (auto& t : tables) last_.emplace_back(static_cast<size_t>(t.rows), 0);
    touched_start_.resize(tables.size() + 1);
    constexpr int kTable = 4096;
    for (int k = 0; k < kTable; ++k) {
      pow1_.push_back(std::pow(options.beta1, k));
      pow2_.push_back(std::pow(options.beta2, k));
      pow2_half_.push_back(std::pow(options.beta2, 0.5 * k));
    }
  }
  if (options.mode != OptimizerMode::kExact) return;
  // The exact mode's work, cut once into pieces of about kChunk values: the dense store, then
  // every table by whole rows. One parallel loop over the pieces updates everything.
  constexpr size_t kChunk = 8192;
  const size_t n = dense.values().size();
  for (size_t at = 0; at < n; at += kChunk) pieces_.push_back({-1, at, std::min(n, at + kChunk)});
  for (size_t k = 0; k < tables.size(); ++k) {
    const size_t rows = static_cast<size_t>(tables[k].rows);
    const size_t step = std::max<size_t>(1, kChunk / std::max(1, tables[k].width));
    for (size_t r = 0; r < rows; r += step) {
      pieces_.push_back({static_cast<int>(k), r, std::min(rows, r + step)});
    }
  }
}

template <typename T>
void Adam<T>::step() {
  ++t_;
  const AdamStep<T> s(options_, t_);
  // Values [at, at + len) of the dense store: a piece of either mode's parallel loop.
  const auto dense_part = [&](size_t at, size_t len) {
    s.apply(dense_->values().data() + at, dense_->grads().data() + at, m_.data() + at,
            v_.data() + at, len);
  };

  if (options_.mode == OptimizerMode::kExact) {
    // Every value, every step: torch's dense Adam, nn.Embedding included (untouched rows have a
    // zero gradient, so weight decay and their moments still move them). A table piece is
    // walked by rows: each run of untouched rows is one vectorised span with a zero gradient,
    // each touched row takes its sparse gradient row. The same arithmetic as a sweep over a
    // dense gradient table, without building, reading or clearing one.
    const int count = static_cast<int>(pieces_.size());
#pragma omp parallel for schedule(dynamic, 2)
    for (int p = 0; p < count; ++p) {
      const Piece& piece = pieces_[p];
      if (piece.table < 0) {
        dense_part(piece.begin, piece.end - piece.begin);
        continue;
      }
      EmbeddingTable<T>& tab = (*tables_)[piece.table];
      const size_t width = tab.width;
      T* w = tab.weight.data();
      T* m = table_m_[piece.table].data();
      T* v = table_v_[piece.table].data();
      size_t r = piece.begin;
      while (r < piece.end) {
        size_t e = r;
        while (e < piece.end && tab.grad.find(static_cast<int32_t>(e)) == nullptr) ++e;
        if (e > r) s.apply(w + r * width, nullptr, m + r * width, v + r * width, (e - r) * width);
        if (e < piece.end) {
          s.apply(w + e * width, tab.grad.find(static_cast<int32_t>(e)), m + e * width,
                  v + e * width, width);
          ++e;
        }
        r = e;
      }
    }
    return;
  }
  // Lazy: the dense store in chunks of values, then the rows this batch touched in every
  // table, in chunks of rows that run across table boundaries: one parallel loop for all of it
  // (a loop per table left small tables' rows, most of them, on one thread). Each value is
  // updated by one thread, so the result does not depend on the thread count.
  constexpr size_t kDenseChunk = 4096, kRowChunk = 256;
  const size_t n_dense = dense_->values().size();
  const size_t dense_chunks = (n_dense + kDenseChunk - 1) / kDenseChunk;
  const size_t n_tables = tables_->size();
  touched_start_[0] = 0;
  for (size_t k = 0; k < n_tables; ++k) {
    touched_start_[k + 1] = touched_start_[k] + (*tables_)[k].grad.rows().size();
  }
  const size_t total_rows = touched_start_[n_tables];
  const int items = static_cast<int>(dense_chunks + (total_rows + kRowChunk - 1) / kRowChunk);
  const double bc2_prev = std::sqrt(1.0 - std::pow(options_.beta2, static_cast<double>(t_ - 1)));
#pragma omp parallel for schedule(dynamic, 1) if (n_dense + total_rows >= 8192)
  for (int c = 0; c < items; ++c) {
    if (static_cast<size_t>(c) < dense_chunks) {
      const size_t at = c * kDenseChunk;
      dense_part(at, std::min(kDenseChunk, n_dense - at));
      continue;
    }
    size_t g = (c - dense_chunks) * kRowChunk;
    const size_t end = std::min(g + kRowChunk, total_rows);
    size_t k = static_cast<size_t>(
        std::upper_bound(touched_start_.begin(), touched_start_.begin() + n_tables + 1, g) -
        touched_start_.begin() - 1);
    for (; g < end; ++g) {
      while (g >= touched_start_[k + 1]) ++k;
      EmbeddingTable<T>& tab = (*tables_)[k];
      const size_t i = g - touched_start_[k];
      const int32_t row = tab.grad.rows()[i];
      const size_t off = static_cast<size_t>(row) * tab.width;
      catch_up(k, row, t_ - 1, bc2_prev);
      last_[k][row] = static_cast<int32_t>(t_);
      s.apply(tab.weight.data() + off, tab.grad.row(i), table_m_[k].data() + off,
              table_v_[k].data() + off, tab.width);
    }
  }
}

// Applies `upto - last` zero-gradient steps (weight decay only) to a row, approximately: the
// formula and what it leaves out are in adam.h ("What the lazy catch-up computes"). The value
// moves toward 0 by lr per missed step where weight decay dominates its second moment (Adam's
// normalised step: an idle row started at N(0, 1) shrinks by about lr per step in the exact
// sweep), proportionally less where past gradients make v large; it never crosses 0; the moments
// are decayed, not replayed. Measured on the parity data, this scores as well as the exact sweep
// or better (bench/README.md).
template <typename T>
void Adam<T>::catch_up(size_t k, int32_t row, int64_t upto, double bc2) {
  const int64_t missed = upto - last_[k][row];
  if (missed <= 0) return;
  EmbeddingTable<T>& tab = (*tables_)[k];
  const size_t width = tab.width, off = static_cast<size_t>(row) * width;
  T* w = tab.weight.data() + off;
  T* m = table_m_[k].data() + off;
  T* v = table_v_[k].data() + off;
  const double lr = options_.lr, wd = options_.weight_decay, eps = options_.eps;
  // β^k from the tables built once (idle spans beyond them are rare: pow); bc2 = √(1 − β2^upto)
  // from the caller, once per step.
  const bool tabled = missed < static_cast<int64_t>(pow1_.size());
  const double kd = static_cast<double>(missed);
  const double b1k = tabled ? pow1_[missed] : std::pow(options_.beta1, kd);
  const double b2k = tabled ? pow2_[missed] : std::pow(options_.beta2, kd);
  const double b2h = tabled ? pow2_half_[missed] : std::pow(options_.beta2, 0.5 * kd);

  for (size_t i = 0; i < width; ++i) {
    const double theta = w[i];
    const double vmid = std::sqrt(static_cast<double>(v[i]) * b2h) / bc2;
    const double rate = std::min(1.0, wd * std::abs(theta) / (vmid + eps));
    const double pull = static_cast<double>(missed) * lr * rate;
    const double mag = std::max(std::abs(theta) - pull, 0.0);
    w[i] = static_cast<T>(theta < 0 ? -mag : mag);
    m[i] = static_cast<T>(m[i] * b1k);
    v[i] = static_cast<T>(v[i] * b2k);
  }
  last_[k][row] = static_cast<int32_t>(upto);
}

template <typename T>
void Adam<T>::flush() {
  if (options_.mode != OptimizerMode::kLazy) return;
  const double bc2 = std::sqrt(1.0 - std::pow(options_.beta2, static_cast<double>(t_)));
  for (size_t k = 0; k < tables_->size(); ++k) {
    const int rows = (*tables_)[k].rows;
#pragma omp parallel for schedule(static) if (rows >= 4096)
    for (int r = 0; r < rows; ++r) catch_up(k, r, t_, bc2);
  }
}

template void adam_update(float*, const float*, float*, float*, size_t, const AdamOptions&,
                          int64_t);
template void adam_update(double*, const double*, double*, double*, size_t, const AdamOptions&,
                          int64_t);
template class Adam<float>;
template class Adam<double>;

}  // namespace deepcross
