// gemm_bench: OpenBLAS cblas_sgemm against oneDNN (dnnl_sgemm and the matmul primitive) on
// the GEMM shapes a DCN training step and an online prediction actually issue.
//
//   cmake -S . -B build-bench -DDEEPCROSS_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release
//   cmake --build build-bench --target gemm_bench
//   build-bench/bench/gemm_bench                      # all shapes, 1 and 2 threads, 3 rounds
//   build-bench/bench/gemm_bench --rounds=5 --threads=2 --benchmark_filter=B=2048
//   OMP_WAIT_POLICY=passive build-bench/bench/gemm_bench   # on a busy, shared machine
//
// Every case computes, row-major and float32,
//   C(MxN) = op(A) * op(B),  op(X) = X or Xᵀ,  FLOPs = 2·M·N·K,
// with the libraries interleaved: for each round, shape and thread count the libraries run
// back to back (order reversed on odd rounds), so machine noise hits them alike. The end of
// the output is a markdown summary: median and min–max over the rounds, GFLOPS for the
// training batch, ns per call for the online batches (B = 1, 64).
//
// Before timing, every library's result is checked against a double-precision reference;
// a mismatch is a bug in this file (wrong transposition or leading dimension) and stops it.
// Own flags: --rounds=N (default 3), --threads=1,2 (default). Google Benchmark's flags pass
// through; --benchmark_min_time defaults to 0.1 s here.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <link.h>
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/blas.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "deepcross/error.h"

#ifdef DEEPCROSS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace deepcross {
namespace {

// The model's sizes: D = width of x0 after sqrt-sized embeddings, r = low rank, K = experts.
constexpr int kD = 185;
constexpr int kRank = 32;
constexpr int kExperts = 4;
constexpr int kTrainBatch = 2048;

struct Shape {
  std::string name;  // what the GEMM is in the model
  int batch;
  int m, n, k;
  bool ta, tb;  // op(A) = Aᵀ, op(B) = Bᵀ
  int lda() const { return ta ? m : k; }
  int ldb() const { return tb ? k : n; }
  double flops() const { return 2.0 * m * n * k; }
  std::string dims() const {
    return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
           (ta ? "T" : "N") + (tb ? "T" : "N");
  }
  std::string label() const { return name + "/B=" + std::to_string(batch) + "/" + dims(); }
};

// Forward GEMMs (training and prediction) for one batch size b.
std::vector<Shape> forward_shapes(int b) {
  const int d = kD, r = kRank, kr = kExperts * kRank;
  return {
      {"cross_matrix_fwd X·Wᵀ", b, b, d, d, false, true},
      {"mlp1_fwd X·W1ᵀ", b, b, 128, d, false, true},
      {"mlp2_fwd H1·W2ᵀ", b, b, 64, 128, false, true},
      {"mlp3_fwd H2·W3ᵀ", b, b, 32, 64, false, true},
      {"lowrank_fwd X·V", b, b, r, d, false, false},
      {"lowrank_fwd Z·C", b, b, r, r, false, false},
      {"lowrank_fwd Z·Uᵀ", b, b, d, r, false, true},
      {"mix_experts_fwd X·V[K·r]", b, b, kr, d, false, false},
  };
}

// Backward GEMMs of a training step (weight gradients have the batch as their K).
std::vector<Shape> backward_shapes(int b) {
  const int d = kD, r = kRank, kr = kExperts * kRank;
  return {
      {"cross_matrix_wgrad dYᵀ·X", b, d, d, b, true, false},
      {"cross_matrix_dgrad dY·W", b, b, d, d, false, false},
      {"mlp1_wgrad dH1ᵀ·X", b, 128, d, b, true, false},
      {"mlp1_dgrad dH1·W1", b, b, d, 128, false, false},
      {"mlp2_wgrad dH2ᵀ·H1", b, 64, 128, b, true, false},
      {"mlp2_dgrad dH2·W2", b, b, 128, 64, false, false},
      {"mlp3_wgrad dH3ᵀ·H2", b, 32, 64, b, true, false},
      {"mlp3_dgrad dH3·W3", b, b, 64, 32, false, false},
      {"lowrank_wgrad Xᵀ·dZ", b, d, r, b, true, false},
      {"lowrank_wgrad Zᵀ·dZ", b, r, r, b, true, false},
      {"mix_experts_wgrad Xᵀ·dZ", b, d, kr, b, true, false},
      {"mix_experts_dgrad dZ·V[K·r]ᵀ", b, b, d, kr, false, true},
  };
}

std::vector<Shape> all_shapes() {
  std::vector<Shape> out = forward_shapes(kTrainBatch);
  for (const Shape& s : backward_shapes(kTrainBatch)) out.push_back(s);
  for (int b : {64, 1})
    for (const Shape& s : forward_shapes(b)) out.push_back(s);
  return out;
}

enum class Lib { kOpenBlas, kDnnlSgemm, kDnnlMatmul };

const char* lib_name(Lib lib) {
  switch (lib) {
    case Lib::kOpenBlas:
      return "openblas_sgemm";
    case Lib::kDnnlSgemm:
      return "dnnl_sgemm";
    case Lib::kDnnlMatmul:
      return "dnnl_matmul";
  }
  return "?";
}

std::vector<Lib> available_libs() {
#ifdef DEEPCROSS_HAVE_DNNL
  return {Lib::kOpenBlas, Lib::kDnnlSgemm, Lib::kDnnlMatmul};
#else
  return {Lib::kOpenBlas};
#endif
}

// Operands shared by every case, sized for the largest shape, filled once with U(-1, 1).
struct Operands {
  Buffer<float> a, b, c;
  Operands() {
    size_t most = 0;
    for (const Shape& s : all_shapes())
      most = std::max({most, size_t(s.m) * s.k, size_t(s.k) * s.n, size_t(s.m) * s.n});
    a.resize(most);
    b.resize(most);
    c.resize(most);
    Rng rng(2024);
    for (size_t i = 0; i < most; ++i) a[i] = float(rng.uniform(-1, 1));
    for (size_t i = 0; i < most; ++i) b[i] = float(rng.uniform(-1, 1));
  }
};

Operands& operands() {
  static Operands ops;
  return ops;
}

// One library's GEMM, prepared once for a shape (the matmul primitive is created here, as a
// real integration would create it once per layer), then run many times.
class Gemm {
 public:
  Gemm(Lib lib, const Shape& s) : lib_(lib), s_(s) {
#ifdef DEEPCROSS_HAVE_DNNL
    if (lib == Lib::kDnnlMatmul) {
      using dnnl::memory;
      const memory::dims a_strides = s.ta ? memory::dims{1, s.lda()} : memory::dims{s.lda(), 1};
      const memory::dims b_strides = s.tb ? memory::dims{1, s.ldb()} : memory::dims{s.ldb(), 1};
      memory::desc a_md({s.m, s.k}, memory::data_type::f32, a_strides);
      memory::desc b_md({s.k, s.n}, memory::data_type::f32, b_strides);
      memory::desc c_md({s.m, s.n}, memory::data_type::f32, memory::dims{s.n, 1});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine());
      impl_ = pd.impl_info_str();
      matmul_ = dnnl::matmul(pd);
      Operands& op = operands();
      a_mem_ = memory(a_md, engine(), op.a.data());
      b_mem_ = memory(b_md, engine(), op.b.data());
      c_mem_ = memory(c_md, engine(), op.c.data());
    }
#endif
  }

  // Runs C = op(A)·op(B) once into the shared C buffer.
  void run() {
    Operands& op = operands();
    switch (lib_) {
      case Lib::kOpenBlas:
        cblas_sgemm(CblasRowMajor, s_.ta ? CblasTrans : CblasNoTrans,
                    s_.tb ? CblasTrans : CblasNoTrans, s_.m, s_.n, s_.k, 1.0f, op.a.data(),
                    s_.lda(), op.b.data(), s_.ldb(), 0.0f, op.c.data(), s_.n);
        return;
#ifdef DEEPCROSS_HAVE_DNNL
      case Lib::kDnnlSgemm: {
        dnnl_status_t st =
            dnnl_sgemm(s_.ta ? 'T' : 'N', s_.tb ? 'T' : 'N', s_.m, s_.n, s_.k, 1.0f, op.a.data(),
                       s_.lda(), op.b.data(), s_.ldb(), 0.0f, op.c.data(), s_.n);
        DC_CHECK(st == dnnl_success);
        return;
      }
      case Lib::kDnnlMatmul:
        matmul_.execute(
            stream(), {{DNNL_ARG_SRC, a_mem_}, {DNNL_ARG_WEIGHTS, b_mem_}, {DNNL_ARG_DST, c_mem_}});
        stream().wait();
        return;
#endif
      default:
        DC_CHECK(false);
    }
  }

  // oneDNN's name for the kernel it chose ("brg:avx512_core", "gemm:jit", ...).
  const std::string& impl() const { return impl_; }

 private:
#ifdef DEEPCROSS_HAVE_DNNL
  static dnnl::engine& engine() {
    static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    return eng;
  }
  static dnnl::stream& stream() {
    static dnnl::stream str(engine());
    return str;
  }
  dnnl::matmul matmul_;
  dnnl::memory a_mem_, b_mem_, c_mem_;
#endif
  Lib lib_;
  Shape s_;
  std::string impl_;
};

// Max |C - C_ref| / max |C_ref| against a double-precision loop.
double relative_error(const Shape& s) {
  const Operands& op = operands();
  double worst = 0, scale = 0;
  for (int i = 0; i < s.m; ++i) {
    for (int j = 0; j < s.n; ++j) {
      double acc = 0;
      for (int p = 0; p < s.k; ++p) {
        const double a = s.ta ? op.a[size_t(p) * s.lda() + i] : op.a[size_t(i) * s.lda() + p];
        const double b = s.tb ? op.b[size_t(j) * s.ldb() + p] : op.b[size_t(p) * s.ldb() + j];
        acc += a * b;
      }
      worst = std::max(worst, std::fabs(acc - op.c[size_t(i) * s.n + j]));
      scale = std::max(scale, std::fabs(acc));
    }
  }
  return scale > 0 ? worst / scale : worst;
}

// Every library on every shape against the reference; false (and a message) on a mismatch.
bool self_check(std::map<std::string, std::string>* impls) {
  bool ok = true;
  for (const Shape& s : all_shapes()) {
    for (Lib lib : available_libs()) {
      Gemm g(lib, s);
      operands().c.zero();
      g.run();
      const double err = relative_error(s);
      // fp32 accumulation over K <= 2048 terms stays near 1e-6.
      if (!(err <= 1e-4)) {
        std::fprintf(stderr, "gemm_bench: self-check failed: %s on %s: relative error %.3g\n",
                     lib_name(lib), s.label().c_str(), err);
        ok = false;
      }
      if (!g.impl().empty()) (*impls)[std::string(lib_name(lib)) + " " + s.dims()] = g.impl();
    }
  }
  return ok;
}

struct Case {
  Shape shape;
  Lib lib;
  int threads;
  int round;
};

// Times the calls in groups of >= 20 µs (two clock reads would distort a 40 ns call) and
// reports, besides Google Benchmark's mean, the per-call time of the fastest group
// ("best_ns") and the 10th percentile over the groups ("p10_ns"). Other processes only ever
// add time, so the best group estimates the speed on a quiet machine even while the shared
// one is busy; with 2 threads a group is clean only when both threads were on a core.
void run_case(benchmark::State& state, const Case& c) {
  using Clock = std::chrono::steady_clock;
  set_blas_threads(c.threads);  // openblas_set_num_threads + omp_set_num_threads (oneDNN)
  Gemm g(c.lib, c.shape);
  g.run();  // warm-up: thread pool, JIT kernels, caches
  Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 3; ++i) g.run();
  const double one_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / 3;
  const int group = std::clamp(int(20000 / std::max(one_ns, 1.0)), 1, 1000);
  std::vector<double> per_call;
  per_call.reserve(size_t(state.max_iterations / group + 1));
  while (state.KeepRunningBatch(group)) {
    t0 = Clock::now();
    for (int i = 0; i < group; ++i) g.run();
    per_call.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / group);
  }
  std::sort(per_call.begin(), per_call.end());
  state.counters["best_ns"] = per_call.empty() ? 0 : per_call.front();
  state.counters["p10_ns"] = per_call.empty() ? 0 : per_call[per_call.size() / 10];
  state.counters["GFLOPS"] =
      benchmark::Counter(c.shape.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::map<std::string, Case>& registry() {
  static std::map<std::string, Case> cases;
  return cases;
}

// The console output plus, at the end, markdown tables of medians and spreads over rounds:
//   best     GFLOPS (B = 2048) or ns per call (B = 1, 64) from the fastest timed group's
//            per-call wall time (see run_case): the headline figure;
//   ratio    OpenBLAS best time / the library's, paired within each round (> 1: faster than
//            OpenBLAS), the comparison least disturbed by other load;
//   wall     the same from the mean wall time: what a busy machine actually delivered;
//   on-CPU   from the calling thread's CPU time, 1 thread only: a cross-check of best, since
//            a descheduled single-threaded GEMM loses wall time but not CPU time.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations == 0) continue;
      auto it = registry().find(run.run_name.function_name);
      if (it == registry().end()) continue;
      const Case& c = it->second;
      const double iters = double(run.iterations);
      auto best = run.counters.find("best_ns");
      if (best == run.counters.end()) continue;
      samples_[{c.shape.label(), c.threads, int(c.lib)}][c.round] = {
          best->second.value, run.real_accumulated_time * 1e9 / iters,
          run.cpu_accumulated_time * 1e9 / iters};
      threads_.insert(c.threads);
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const std::vector<Lib> libs = available_libs();
    const std::vector<Lib> others(libs.begin() + 1, libs.end());  // all but OpenBLAS
    const std::vector<int> threads(threads_.begin(), threads_.end());
    for (bool training : {true, false}) {
      print_table(training, Metric::kBest, threads, libs);
      if (!others.empty()) print_table(training, Metric::kRatio, threads, others);
      print_table(training, Metric::kWall, threads, libs);
      if (threads_.count(1)) print_table(training, Metric::kOnCpu, {1}, libs);
    }
    std::fflush(stdout);
  }

 private:
  enum class Metric { kBest, kWall, kOnCpu, kRatio };
  struct Time {
    double best_ns, wall_ns, cpu_ns;
  };
  using Key = std::tuple<std::string, int, int>;  // shape label, threads, lib

  // The per-round values of one metric for one shape, thread count and library.
  std::vector<double> values(const Shape& s, int threads, Lib lib, Metric metric) const {
    std::vector<double> v;
    auto it = samples_.find({s.label(), threads, int(lib)});
    if (it == samples_.end()) return v;
    const bool training = s.batch == kTrainBatch;
    for (const auto& [round, t] : it->second) {
      if (metric == Metric::kRatio) {
        auto base = samples_.find({s.label(), threads, int(Lib::kOpenBlas)});
        if (base == samples_.end() || !base->second.count(round)) continue;
        v.push_back(base->second.at(round).best_ns / t.best_ns);
      } else {
        const double ns = metric == Metric::kBest   ? t.best_ns
                          : metric == Metric::kWall ? t.wall_ns
                                                    : t.cpu_ns;
        v.push_back(training ? s.flops() / ns : ns);
      }
    }
    return v;
  }

  // "median (min–max)" over the rounds.
  static std::string cell(std::vector<double> v, Metric metric) {
    if (v.empty()) return "–";
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    const char* one = metric == Metric::kRatio ? "%.2f" : "%.0f";
    const char* many = metric == Metric::kRatio ? "%.2f (%.2f–%.2f)" : "%.0f (%.0f–%.0f)";
    char buf[96];
    if (n == 1)
      std::snprintf(buf, sizeof buf, one, med);
    else
      std::snprintf(buf, sizeof buf, many, med, v.front(), v.back());
    return buf;
  }

  void print_table(bool training, Metric metric, const std::vector<int>& threads,
                   const std::vector<Lib>& libs) const {
    std::vector<Shape> rows;  // the shapes of this table that ran (a filter may skip some)
    for (const Shape& s : all_shapes()) {
      if ((s.batch == kTrainBatch) != training) continue;
      bool ran = false;
      for (int t : threads)
        for (Lib lib : libs) ran = ran || !values(s, t, lib, metric).empty();
      if (ran) rows.push_back(s);
    }
    if (rows.empty()) return;
    const char* what = metric == Metric::kRatio ? "speed relative to OpenBLAS (paired per round)"
                       : training               ? "GFLOPS"
                                                : "ns per call";
    const char* clock = metric == Metric::kWall    ? "mean wall time"
                        : metric == Metric::kOnCpu ? "on-CPU time of the calling thread"
                                                   : "the fastest group's wall time per call";
    std::printf("\n%s: %s from %s, median (min–max) over the rounds:\n\n| shape | MxNxK op |",
                training ? "Training batch B = 2048" : "Online batches", what, clock);
    for (int t : threads)
      for (Lib lib : libs) std::printf(" %s t%d |", lib_name(lib), t);
    std::printf("\n|---|---|");
    for (size_t i = 0; i < threads.size() * libs.size(); ++i) std::printf("---|");
    std::printf("\n");
    for (const Shape& s : rows) {
      std::printf("| %s B=%d | %s |", s.name.c_str(), s.batch, s.dims().c_str());
      for (int t : threads)
        for (Lib lib : libs) std::printf(" %s |", cell(values(s, t, lib, metric), metric).c_str());
      std::printf("\n");
    }
  }

  std::map<Key, std::map<int, Time>> samples_;  // per round
  std::set<int> threads_;
};

// Parses a positive integer flag value with std::from_chars.
int parse_positive(std::string_view text, const std::string& flag) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > 256)
    throw UsageError("expected an integer in [1, 256], found '" + std::string(text) + "'", flag);
  return v;
}

struct Options {
  int rounds = 3;
  std::vector<int> threads = {1, 2};
};

// Reads --rounds=N and --threads=a,b,... (what Google Benchmark left over).
Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--rounds=")) {
      o.rounds = parse_positive(arg.substr(9), "--rounds");
    } else if (arg.starts_with("--threads=")) {
      o.threads.clear();
      std::string_view list = arg.substr(10);
      while (true) {
        const size_t comma = list.find(',');
        o.threads.push_back(parse_positive(list.substr(0, comma), "--threads"));
        if (comma == std::string_view::npos) break;
        list = list.substr(comma + 1);
      }
    } else {
      throw UsageError("unknown flag '" + std::string(arg) +
                           "' (own flags: --rounds=N, --threads=a,b; others: --help)",
                       std::string(arg));
    }
  }
  return o;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  return "unknown";
}

// Shared objects loaded into this process whose names mark an OpenMP runtime.
std::vector<std::string> openmp_runtimes() {
  std::vector<std::string> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        std::string name = info->dlpi_name ? info->dlpi_name : "";
        for (const char* rt : {"libgomp", "libomp", "libiomp"})
          if (name.find(rt) != std::string::npos)
            static_cast<std::vector<std::string>*>(data)->push_back(name);
        return 0;
      },
      &out);
  return out;
}

// The 1-minute load average (/proc/loadavg), or 0 when unreadable.
double load_average() {
  std::ifstream in("/proc/loadavg");
  std::string first;
  in >> first;
  double v = 0;
  std::from_chars(first.data(), first.data() + first.size(), v);
  return v;
}

int process_threads() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("Threads:")) {
      int n = 0;
      std::string_view v = std::string_view(line).substr(8);
      while (!v.empty() && v.front() == '\t') v.remove_prefix(1);
      std::from_chars(v.data(), v.data() + v.size(), n);
      return n;
    }
  return -1;
}

int run_main(int argc, char** argv) {
  // A shorter default than Google Benchmark's 0.5 s: many cases, each repeated per round.
  std::vector<char*> args(argv, argv + argc);
  std::string min_time = "--benchmark_min_time=0.1";
  if (std::none_of(args.begin(), args.end(), [](const char* a) {
        return std::string_view(a).starts_with("--benchmark_min_time");
      }))
    args.insert(args.begin() + 1, min_time.data());
  int n = int(args.size());
  benchmark::Initialize(&n, args.data());
  const Options opt = parse_options(n, args.data());

  const std::vector<std::string> omp = openmp_runtimes();
  std::string omp_list;
  for (const std::string& s : omp) omp_list += (omp_list.empty() ? "" : ", ") + s;
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext(
      "openblas", std::string(openblas_get_config()) + ", core " + openblas_get_corename());
  benchmark::AddCustomContext("openmp_runtimes_loaded", omp_list.empty() ? "none" : omp_list);
#ifdef DEEPCROSS_HAVE_DNNL
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn",
                              std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                  std::to_string(v->patch) + " (cpu runtime " +
                                  (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other") + ")");
#else
  std::printf(
      "gemm_bench: oneDNN was not found at build time; only the OpenBLAS cases run "
      "(install it with scripts/setup-bench-deps.sh and reconfigure)\n");
  benchmark::AddCustomContext("onednn", "absent at build time: OpenBLAS cases only");
#endif
  if (omp.size() > 1)
    std::printf("gemm_bench: warning: more than one OpenMP runtime is loaded: %s\n",
                omp_list.c_str());
  // libgomp reads OMP_WAIT_POLICY once, when it loads: it can only be set from outside.
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  benchmark::AddCustomContext("omp_wait_policy",
                              wait_policy ? wait_policy : "unset (libgomp: spin, then sleep)");
  const double load = load_average();
  if (load > omp_get_num_procs() && !(wait_policy && std::string_view(wait_policy) == "passive"))
    std::printf(
        "gemm_bench: warning: load average %.1f on %d CPUs: with more than one thread, "
        "libgomp's spin-waiting threads lose their cores and each GEMM call can stall for "
        "milliseconds; rerun with OMP_WAIT_POLICY=passive for 2-thread figures\n",
        load, omp_get_num_procs());

  set_blas_threads(*std::max_element(opt.threads.begin(), opt.threads.end()));
  std::map<std::string, std::string> impls;
  if (!self_check(&impls)) return 1;
  std::printf(
      "self-check: every library matches a double-precision reference on all %zu "
      "shapes\n",
      all_shapes().size());
  std::map<std::string, int> impl_counts;
  for (const auto& [k, impl] : impls) impl_counts[k.substr(0, k.find(' ')) + ": " + impl]++;
  for (const auto& [k, count] : impl_counts)
    std::printf("oneDNN kernel  %s  (%d shapes)\n", k.c_str(), count);

  for (int round = 0; round < opt.rounds; ++round) {
    for (const Shape& s : all_shapes()) {
      for (int t : opt.threads) {
        std::vector<Lib> libs = available_libs();
        if (round % 2) std::reverse(libs.begin(), libs.end());
        for (Lib lib : libs) {
          const std::string name = s.label() + "/" + lib_name(lib) +
                                   "/threads:" + std::to_string(t) +
                                   "/round:" + std::to_string(round + 1);
          Case c{s, lib, t, round};
          registry().emplace(name, c);
          benchmark::RegisterBenchmark(name.c_str(), [c](benchmark::State& st) { run_case(st, c); })
              ->UseRealTime()
              ->Unit(s.batch == kTrainBatch ? benchmark::kMicrosecond : benchmark::kNanosecond);
        }
      }
    }
  }
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("\nprocess threads at exit: %d (OpenMP runtimes loaded: %s)\n", process_threads(),
              omp_list.c_str());
  return 0;
}

}  // namespace
}  // namespace deepcross

int main(int argc, char** argv) {
  try {
    return deepcross::run_main(argc, argv);
  } catch (const deepcross::Error& e) {
    std::fprintf(stderr, "gemm_bench: error: %s\n", e.message().c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemm_bench: error: %s\n", e.what());
    return 1;
  }
}
