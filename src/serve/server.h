// ScoringServer: `deepcross serve` — a trained model answering HTTP requests
// (INTERFACE.md, "HTTP (serve)") over cpp-httplib (Debian's libcpp-httplib-dev, 0.11).
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
//   GET /v1/model      200 the `info` JSON (io/model_io.h model_info) without file-system
//                      paths (the path-valued options of the training run are left out)
//   GET /metrics       200 Prometheus text (serve/metrics.h)
//   /v2, /v2/...       the Open Inference Protocol (KServe v2), serve/inference_protocol.h,
//                      under the model name ServeOptions::model_name
//   HEAD is answered wherever GET is (headers only). A query string is ignored.
// Errors, with body {"error": {"message": ..., "row": i, "field": "C7"}} (row and field when
// known) and Content-Type application/json:
//   400 malformed body, wrong type, unknown field; a request the HTTP layer cannot parse or
//       that stalls (request line, HTTP version other than 1.0/1.1, a header line over
//       8 KiB, broken chunked framing or compressed data, a body beyond what the gate awaits
//       not complete within read_timeout_ms); a Content-Length that is not one decimal
//       number below 2^64 (negative, too long, repeated), at once
//   408 a request not arrived within head_timeout_ms of its first byte (serve/connection_gate.h)
//   411 a POST without Content-Length or Transfer-Encoding
//   503 more than max_waiting connections waiting for their requests
//   413 a body over max_body_bytes: by its Content-Length (the body is read and dropped, the
//       connection stays usable), or as a chunked or compressed body arrives (decoded bytes
//       count, so a small compressed body cannot inflate past the limit); more than max_rows
//       rows
//   414 a request target over 8 KiB
//   415 another content type; a Content-Encoding other than gzip, deflate, br, identity
//   404 another path; 405 another method on a known path, with an Allow header (any method
//       token, also those the HTTP layer does not know, e.g. BREW)
//   501 a Transfer-Encoding other than chunked
//   500 an unexpected failure (the server keeps serving)
// Every answer is counted in the metrics. An error answered before the request was read to
// its end (every 400, 414 and 501 from the HTTP layer, a 413 as the body arrives) says
// Connection: close: the client must not reuse the connection (httplib itself keeps reading
// it until the client closes it or the idle timeout passes).
//
// Transport (cpp-httplib): HTTP/1.1 and 1.0, bodies by Content-Length or chunked,
// Expect: 100-continue, gzip/deflate/br Content-Encoding decoded (any other: 415), pipelined
// requests answered in order, keep-alive (at most keep_alive_requests requests per connection, idle_timeout_s
// between them; answers say Keep-Alive: timeout=T, max=N, and the last one on a connection
// Connection: close), HTTP/1.0 closed after the answer unless it asks for Keep-Alive,
// TCP_NODELAY. A request without Content-Length or Transfer-Encoding has no body (RFC 9112;
// httplib alone would read one until the client closes). The listening socket has
// SO_REUSEADDR, not httplib's default SO_REUSEPORT (which lets a second server bind a port in
// use and share its connections).
//
// Threads: a connection waits for each request in the connection gate (serve/connection_gate.h:
// one epoll thread, deadlines, no thread per waiting connection, so slow clients cannot hold
// the workers); a complete request is answered by one of max(threads, max_connections) worker
// threads through httplib's request parsing (Server::process_request). The listening socket's
// backlog is SOMAXCONN (httplib's is 5). Compute: `threads` inference clones of the model
// (nn/model.h Model::inference_clone: own dense weights and scratch, shared read-only
// embedding rows), each reserved once for `batch_rows` rows. A request takes a free clone for
// its forward passes (waiting when all are busy), so at most `threads` requests compute at
// once, each single-threaded (OpenMP and BLAS threads are set to 1): parallelism comes from
// concurrent requests. Everything that does not depend on the request (the request decoder
// with its field index, the info JSON, the clones) is built once here.
//
// Reload: the model and everything its requests share (the decoder, the info JSON, the clones)
// form one snapshot held by shared pointer; each request takes the current one when it starts
// and keeps it to its answer, and reload() swaps in a new snapshot built beforehand. So a
// request in flight is never dropped or failed by a reload, and the old model is freed by the
// last request that used it.
//
// Stop: stop() closes the listening socket (new connections are refused). Requests being
// read or computed are answered, with Connection: close; idle keep-alive connections are
// closed at once; run() returns once every connection has ended.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/model_io.h"
#include "serve/metrics.h"

namespace deepcross {

struct ServeOptions {
  std::string host = "127.0.0.1";            // --host
  int port = 8080;                           // --port (0: any free port)
  int threads = 1;                           // --threads: requests scored at once
  size_t max_rows = 10000;                   // --max-rows
  size_t max_body_bytes = size_t{16} << 20;  // --max-body-bytes
  int batch_rows = 512;                      // rows per forward pass of a large request
  // Transport.
  int max_connections = 64;          // connections served at once (the pool: at least threads)
  int read_timeout_ms = 30000;       // one read of a request's bytes
  int write_timeout_ms = 30000;      // one write of an answer
  int idle_timeout_s = 5;            // keep-alive: waiting for the next request
  int head_timeout_ms = 10000;       // a request, from its first byte to its last (408 after)
  size_t max_waiting = 4096;         // connections waiting for a request at once (503 after)
  int keep_alive_requests = 100000;  // requests on one connection before it is closed
  std::string model_name = "model";  // --name: the model's name in the /v2 routes
  // Configuration fields the info routes leave out (the tool passes its path-valued options:
  // --data, --model, --history, ...: file-system paths of the training run).
  std::vector<std::string> private_config_fields = {"data",    "valid", "test",  "model", "history",
                                                    "curves", "report", "cache", "config"};
};

// A request as handle() sees it (the HTTP layer's request, or one built by hand).
struct HttpRequest {
  std::string method;                                        // "GET", "POST", ... (case-sensitive)
  std::string path;                                          // without the query: "/v1/predict"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;

  // The first value of the header `lower_name` (lower case), or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // the Allow header of a 405 ("GET, HEAD"); empty = none
  std::vector<std::pair<std::string, std::string>> headers;  // further header fields
};

class ScoringServer {
 public:
  // Takes the loaded model and prepares everything requests share. DC_CHECKs its options
  // (threads, batch_rows, max_connections, idle_timeout_s, keep_alive_requests >= 1, timeouts
  // > 0).
  ScoringServer(TrainedModel model, const ServeOptions& options);
  // Closes the listening socket. run() must have returned (join its thread first).
  ~ScoringServer();
  ScoringServer(const ScoringServer&) = delete;
  ScoringServer& operator=(const ScoringServer&) = delete;

  // Binds host:port (a name or a numeric IPv4/IPv6 address) and listens; returns the port
  // bound. Throws DataError("cannot listen on HOST:PORT", reason), e.g. reason "Address
  // already in use".
  int listen();
  // Serves until stop(), then returns once every connection has ended (see above). Call once,
  // after listen(). Throws DataError if accepting connections fails for another reason.
  void run();
  // Stops run() (any thread, also a signal handler, before or during run(); idempotent).
  void stop();

  // The answer to one request, as run() sends it (thread-safe; counted in the metrics).
  HttpResponse handle(const HttpRequest& request);

  // Serves `model` from now on (thread-safe; SIGHUP in `deepcross serve`): requests that
  // started before keep the model they started with and are answered by it; later ones get
  // the new one. Everything the new model's requests share is built before the switch.
  void reload(TrainedModel model);

  const ServeMetrics& metrics() const;
  // The model being served (until the next reload()).
  const TrainedModel& model() const;

  struct Impl;  // opaque (server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepcross
