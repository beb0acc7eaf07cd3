// ScoringServer: `deepcross serve` — a trained model answering HTTP requests
// (INTERFACE.md, "HTTP (serve)"), over the transport of serve/http.h.
//
//   ServeOptions opts;
//   opts.port = 0;                                   // any free port
//   opts.threads = 4;                                // requests scored at once
//   ScoringServer server(load_model("m.dcn"), opts);
//   int port = server.listen();                      // DataError if it cannot
//   std::thread t([&] { server.run(); });            // until stop()
//   // POST http://127.0.0.1:PORT/v1/predict  {"rows": [{"I1": 3, "C14": "68fd1e64"}]}
//   //   -> 200 {"predictions":[0.2531]}
//   server.stop();                                   // async-signal-safe
//   t.join();                                        // in-flight requests answered first
//
// Endpoints
//   POST /v1/predict   application/json or text/tab-separated-values (serve/request.h) ->
//                      200 {"predictions": [p, ...]} in row order; for n_classes > 1 each p
//                      is the list of class probabilities. Each p is the float probability
//                      printed in shortest round-trip form (std::to_chars), so it reads back
//                      as the same float; the values equal `deepcross predict` on the same
//                      rows (same preprocessing, eval-mode forward). Unseen categories take
//                      the out-of-vocabulary id, as in `predict`.
//   GET /health        200 {"status": "ok"}
//   GET /v1/model      200 the `info` JSON (io/model_io.h model_info)
//   GET /metrics       200 Prometheus text (serve/metrics.h)
//   HEAD is answered wherever GET is.
// Errors, with body {"error": {"message": ..., "row": i, "field": "C7"}} (row and field when
// known): 400 malformed body, wrong type, unknown field (and malformed HTTP); 413 a body over
// max_body_bytes or more than max_rows rows; 415 another content type; 404 another path;
// 405 another method on a known path (with an Allow header); 500 an unexpected failure (the
// server keeps serving). Every answer is counted in the metrics.
//
// Compute: `threads` inference clones of the model (nn/model.h Model::inference_clone: own
// dense weights and scratch, shared read-only embedding rows), each reserved once for
// `batch_rows` rows. A request takes a free clone for its forward passes (waiting when all are
// busy), so at most `threads` requests compute at once, each single-threaded (OpenMP and BLAS
// threads are set to 1): parallelism comes from concurrent requests. Everything that does not
// depend on the request (the request schema, the info JSON, the clones) is built once here.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "io/model_io.h"
#include "serve/http.h"
#include "serve/metrics.h"

namespace deepcross {

struct ServeOptions {
  std::string host = "127.0.0.1";            // --host
  int port = 8080;                           // --port (0: any free port)
  int threads = 1;                           // --threads: requests scored at once
  size_t max_rows = 10000;                   // --max-rows
  size_t max_body_bytes = size_t{16} << 20;  // --max-body-bytes
  int batch_rows = 512;                      // rows per forward pass of a large request
  HttpOptions http;  // timeouts and connection limit (its max_body_bytes is overridden)
};

class ScoringServer {
 public:
  // Takes the loaded model and prepares everything requests share. DC_CHECKs its options
  // (threads, batch_rows >= 1).
  ScoringServer(TrainedModel model, const ServeOptions& options);
  ~ScoringServer();
  ScoringServer(const ScoringServer&) = delete;
  ScoringServer& operator=(const ScoringServer&) = delete;

  // Binds host:port; returns the port bound. Throws DataError("cannot listen on HOST:PORT",
  // reason), e.g. when the port is in use.
  int listen();
  // Serves until stop(), then returns once every in-flight request is answered.
  void run();
  // Stops run() (any thread, also a signal handler; idempotent).
  void stop();

  // The answer to one request, as run() sends it (thread-safe; counted in the metrics).
  HttpResponse handle(const HttpRequest& request);

  const ServeMetrics& metrics() const;
  const TrainedModel& model() const;

  struct Impl;  // opaque (server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepcross
