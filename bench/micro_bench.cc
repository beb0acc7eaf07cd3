// Micro-benchmarks of the training step's pieces (Google Benchmark). Figures are per call;
// items/s are samples (rows) per second. Run on a quiet machine, threads as --threads:
//   build-bench/bench/micro_bench --benchmark_min_time=1 [--benchmark_filter=Step]
// The CPU is printed in the context block at the top of every run.
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/float_env.h"
#include "core/blas.h"
#include "core/rng.h"
#include "nn/cross.h"
#include "data/reader.h"
#include "data/synth.h"
#include "nn/embedding.h"
#include "nn/model.h"
#include "optim/adam.h"

namespace deepcross {
namespace {

constexpr int kBatch = 2048;

// Criteo-like: 13 numeric fields and 26 categorical fields whose widths give D ≈ 185.
ModelConfig criteo_config(CrossType t) {
  ModelConfig c;
  c.num_numeric = 13;
  c.vocab_sizes = {1460, 583, 305000, 124000, 305, 24, 12500, 633, 3, 93000, 5600, 287000, 3194,
                   27, 14000, 200000, 10, 5600, 2173, 4, 260000, 18, 15, 54000, 105, 41000};
  c.cross = t;
  return c;
}

struct Data {
  std::vector<float> x_num, labels;
  std::vector<int32_t> x_cat;
  Data(const ModelConfig& c, int rows, uint64_t seed) {
    Rng rng(seed);
    for (int i = 0; i < rows * c.num_numeric; ++i) x_num.push_back(static_cast<float>(rng.uniform()));
    for (int r = 0; r < rows; ++r) {
      for (int v : c.vocab_sizes) {
        // Zipf-ish: small ids much more often.
        const double u = rng.uniform();
        x_cat.push_back(static_cast<int32_t>(std::min<double>(v - 1, v * u * u * u)));
      }
      labels.push_back(rng.uniform() < 0.28 ? 1.f : 0.f);
    }
  }
};

CrossType cross_arg(int64_t i) {
  return static_cast<CrossType>(i);  // 0 vector, 1 matrix, 2 mix, 3 lowrank
}

void set_threads(benchmark::State& state) { set_blas_threads(static_cast<int>(state.range(1))); }

// The GEMM precision of argument 2 (0 fp32, 1 bf16), or false (the run skipped) where the CPU
// has no bf16 units.
bool set_precision(benchmark::State& state) {
  const bool bf16 = state.range(2) == 1;
  if (bf16 && !cpu_has_native_bf16()) {
    state.SkipWithError("this CPU has no bf16 dot products");
    return false;
  }
  set_gemm_precision(bf16 ? GemmPrecision::kBf16 : GemmPrecision::kFp32);
  return true;
}

std::string precision_label(benchmark::State& state) {
  return state.range(2) == 1 ? ", bf16" : ", fp32";
}

// One full training step: forward (training), loss, backward, Adam (lazy: the CLI's default).
void BM_TrainStep(benchmark::State& state) {
  set_threads(state);
  if (!set_precision(state)) return;
  const ModelConfig c = criteo_config(cross_arg(state.range(0)));
  Model<float> model(c, 1);
  model.reserve(kBatch);
  AdamOptions adam;
  adam.mode = OptimizerMode::kLazy;
  Adam<float> opt(model.params(), model.embedding_tables(), adam);
  Data d(c, kBatch, 2);
  const Batch<float> b{kBatch, d.x_num.data(), d.x_cat.data(), d.labels.data()};
  for (auto _ : state) {
    model.train_step_gradients(b);
    opt.step();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(std::string(to_string(c.cross)) + ", D=" + std::to_string(model.input_width()) +
                 precision_label(state));
  set_gemm_precision(GemmPrecision::kFp32);
}

// Forward and backward of the cross network alone.
void BM_CrossForwardBackward(benchmark::State& state) {
  set_threads(state);
  if (!set_precision(state)) return;
  const ModelConfig c = criteo_config(cross_arg(state.range(0)));
  const int D = input_width(c);
  ParamStore<float> store;
  auto cross = make_cross<float>(c, D, store);
  store.finalize();
  Rng rng(3);
  cross->init(rng);
  cross->reserve(kBatch);
  std::vector<float> x0(static_cast<size_t>(kBatch) * D), g(x0.size()), dx0(x0.size());
  for (auto& v : x0) v = static_cast<float>(rng.normal());
  MatrixView<float> x0v{x0.data(), kBatch, D};
  for (auto _ : state) {
    ConstMatrixView<float> xl = cross->forward(x0v);
    std::copy(xl.data, xl.data + x0.size(), g.begin());
    cross->backward(MatrixView<float>{g.data(), kBatch, D}, MatrixView<float>{dx0.data(), kBatch, D});
    benchmark::DoNotOptimize(dx0.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(std::string(to_string(c.cross)) + ", D=" + std::to_string(D) +
                 precision_label(state));
  set_gemm_precision(GemmPrecision::kFp32);
}

// Evaluation-mode forward (batch prediction).
void BM_Predict(benchmark::State& state) {
  set_threads(state);
  const ModelConfig c = criteo_config(cross_arg(state.range(0)));
  Model<float> model(c, 1);
  const int rows = static_cast<int>(state.range(2));
  model.reserve(rows);
  Data d(c, rows, 4);
  const Batch<float> b{rows, d.x_num.data(), d.x_cat.data(), nullptr};
  for (auto _ : state) benchmark::DoNotOptimize(model.forward(b, Mode::kEval).data);
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetLabel(std::string(to_string(c.cross)) + ", batch " + std::to_string(rows));
}

// Adam over the model: exact (every embedding row) or lazy (touched rows only).
void BM_AdamStep(benchmark::State& state) {
  set_threads(state);
  const ModelConfig c = criteo_config(CrossType::kMatrix);
  Model<float> model(c, 1);
  model.reserve(kBatch);
  AdamOptions o;
  o.mode = state.range(0) ? OptimizerMode::kLazy : OptimizerMode::kExact;
  Adam<float> opt(model.params(), model.embedding_tables(), o);
  Data d(c, kBatch, 5);
  model.train_step_gradients({kBatch, d.x_num.data(), d.x_cat.data(), d.labels.data()});
  for (auto _ : state) opt.step();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(state.range(0) ? "lazy" : "exact");
}

// Embedding gather (range 0 = 0: x0 = numeric values and each field's embedding row) and
// scatter (1: the per-row gradient sums of a backward pass), Criteo-sized tables, Zipf-like ids.
void BM_Embedding(benchmark::State& state) {
  set_threads(state);
  const bool scatter = state.range(0) == 1;
  const ModelConfig c = criteo_config(CrossType::kMatrix);
  Embeddings<float> emb(c.num_numeric, c.vocab_sizes, c.embed_max);
  emb.reserve(kBatch);
  Data d(c, kBatch, 6);
  std::vector<float> x0(static_cast<size_t>(kBatch) * emb.width(), 0.5f);
  for (auto _ : state) {
    if (scatter) {
      emb.backward(kBatch, d.x_cat.data(), ConstMatrixView<float>{x0.data(), kBatch, emb.width()});
      benchmark::DoNotOptimize(emb.tables()[0].grad.rows().data());
    } else {
      emb.forward(kBatch, d.x_num.data(), d.x_cat.data(),
                  MatrixView<float>{x0.data(), kBatch, emb.width()});
      benchmark::DoNotOptimize(x0.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetLabel(scatter ? "scatter (backward)" : "gather (forward)");
}

// Parsing Criteo TSV text (deepcross synth rows, in memory) into a Table: splitting, numbers,
// interning; bytes/s and rows/s.
void BM_Parse(benchmark::State& state) {
  static const std::string text = [] {
    SynthOptions o = default_synth_options();
    o.rows = 200000;
    std::ostringstream out;
    write_synth(out, o);
    return out.str();
  }();
  ReadOptions r;
  r.threads = static_cast<int>(state.range(0));
  r.compute_sha256 = false;
  size_t rows = 0;
  for (auto _ : state) rows += parse_table(text, "bench.tsv", r).rows;
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// Cross type, threads, precision (0 fp32, 1 bf16).
void cross_args(benchmark::internal::Benchmark* b) {
  for (int t : {0, 1, 2, 3})
    for (int th : {1, 2})
      for (int p : {0, 1}) b->Args({t, th, p});
}

BENCHMARK(BM_TrainStep)->Apply(cross_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CrossForwardBackward)->Apply(cross_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Predict)
    ->Args({1, 1, 1})
    ->Args({1, 1, 64})
    ->Args({1, 2, 8192})
    ->Args({2, 2, 8192})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Embedding)
    ->Args({0, 1})->Args({0, 2})->Args({1, 1})->Args({1, 2})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Parse)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AdamStep)->Args({0, 2})->Args({1, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace deepcross

// As the CLI does (core/float_env.h): subnormals flushed before any thread exists.
int main(int argc, char** argv) {
  deepcross::flush_subnormals_to_zero();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
