// Server: `deepcross serve` — a model file answering predictions over HTTP (INTERFACE.md,
// "HTTP (serve)"; the routes, errors and transport are described in src/serve/server.h).
//
//   deepcross::ServerOptions o;
//   o.port = 0;                                         // any free port
//   o.threads = 4;                                      // requests scored at once
//   deepcross::Server server("criteo.model", o);
//   int port = server.listen();                         // DataError if it cannot
//   std::thread t([&] { server.run(); });               // until stop()
//   // POST http://127.0.0.1:PORT/v1/predict  {"rows": [{"I1": 3, "C14": "68fd1e64"}]}
//   server.stop();                                      // any thread, or a signal handler
//   t.join();                                           // in-flight requests answered first
//
// The answers equal deepcross::Predictor's scores of the same rows (deepcross/predictor.h).
// Needs the deepcross::server library (cpp-httplib) besides deepcross::deepcross.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deepcross {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                           // 0: any free port
  int threads = 1;                           // requests scored at once
  size_t max_rows = 10000;                   // rows in one request
  size_t max_body_bytes = size_t{16} << 20;  // bytes of one request body
  std::string model_name = "model";          // the model's name in the /v2 (Open Inference
                                             // Protocol) routes: /v2/models/NAME/...
  // Configuration fields of the model the info routes leave out (e.g. file-system paths of
  // the training run: "data", "model", "history").
  std::vector<std::string> private_config_fields = {"data",    "valid", "test",  "model", "history",
                                                    "curves", "report", "cache", "config"};
};

class Server {
 public:
  // Loads the model and prepares everything requests share.
  Server(const std::string& model_path, const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and returns the port bound (DataError naming the address and the reason).
  int listen();
  // Serves until stop(); returns once every connection has ended.
  void run();
  // Stops run(): async-signal-safe, idempotent, from any thread.
  void stop();
  // Loads the model file again and serves it from then on; requests in flight finish with the
  // model they started with. Throws (and the old model keeps serving) when it cannot load.
  void reload(const std::string& model_path);
  // Requests answered so far.
  uint64_t requests() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepcross
