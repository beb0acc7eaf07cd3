// In-process latency of one-row scoring: the serving path of `deepcross serve` without the
// network — ScoringServer::handle on a POST /v1/predict request (JSON body decoding, encoding,
// a forward pass, the JSON answer) — called in a loop on one thread, each call timed.
//
//   serve_latency MODEL ROWS.tsv [CALLS]    # CALLS default 20000, after 2000 warm-up calls
//
// The row is the first line of ROWS.tsv (Criteo layout, with or without the label); it is
// sent as JSON ({"rows": [{"I1": ..., "C14": "...", ...}]}, empty fields absent) and, in a
// second series, as the TSV line itself. Prints p50, p90, p99, p99.9 and max in µs per series.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/float_env.h"
#include "io/model_io.h"
#include "serve/server.h"

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out(1);
  for (char ch : line) {
    if (ch == '\t') {
      out.emplace_back();
    } else if (ch != '\n' && ch != '\r') {
      out.back().push_back(ch);
    }
  }
  return out;
}

void series(deepcross::ScoringServer& server, const deepcross::HttpRequest& req, int calls,
            const char* name) {
  for (int i = 0; i < 2000; ++i) server.handle(req);
  std::vector<double> us(calls);
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const deepcross::HttpResponse r = server.handle(req);
    us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (r.status != 200) {
      std::fprintf(stderr, "serve_latency: status %d: %s\n", r.status, r.body.c_str());
      std::exit(1);
    }
  }
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[std::min<size_t>(us.size() - 1, static_cast<size_t>(q * us.size()))]; };
  std::printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, calls, at(0.5), at(0.9),
              at(0.99), at(0.999), us.back());
}

}  // namespace

int main(int argc, char** argv) {
  deepcross::flush_subnormals_to_zero();
  if (argc < 3) {
    std::fprintf(stderr, "usage: serve_latency MODEL ROWS.tsv [CALLS]\n");
    return 2;
  }
  const int calls = argc > 3 ? std::max(1, std::atoi(argv[3])) : 20000;
  std::ifstream in(argv[2]);
  std::string line;
  if (!std::getline(in, line)) {
    std::fprintf(stderr, "serve_latency: no row in %s\n", argv[2]);
    return 1;
  }
  std::vector<std::string> fields = split_tabs(line);
  if (fields.size() == 40) fields.erase(fields.begin());  // the label
  if (fields.size() != 39) {
    std::fprintf(stderr, "serve_latency: %s: expected 39 or 40 fields\n", argv[2]);
    return 1;
  }
  nlohmann::json row = nlohmann::json::object();
  for (int i = 0; i < 39; ++i) {
    if (fields[i].empty()) continue;
    if (i < 13) {
      row["I" + std::to_string(i + 1)] = std::stod(fields[i]);
    } else {
      row["C" + std::to_string(i + 1)] = fields[i];
    }
  }
  deepcross::ServeOptions opt;
  opt.threads = 1;
  deepcross::ScoringServer server(deepcross::load_model(argv[1]), opt);
  deepcross::HttpRequest json_req{"POST", "/v1/predict", {{"content-type", "application/json"}},
                                  nlohmann::json{{"rows", {row}}}.dump()};
  deepcross::HttpRequest tsv_req{"POST", "/v1/predict",
                                 {{"content-type", "text/tab-separated-values"}},
                                 line + "\n"};
  std::printf("| body | calls | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  series(server, json_req, calls, "1 row, JSON");
  series(server, tsv_req, calls, "1 row, TSV");
  return 0;
}
