// The public Server (include/deepcross/server.h) over ScoringServer (serve/server.h).
#include "deepcross/server.h"

#include "io/model_io.h"
#include "serve/server.h"

namespace deepcross {

struct Server::Impl {
  Impl(const std::string& path, const ServeOptions& o) : server(load_model(path), o) {}
  ScoringServer server;
};

namespace {

ServeOptions serve_options(const ServerOptions& o) {
  ServeOptions s;
  s.host = o.host;
  s.port = o.port;
  s.threads = o.threads;
  s.max_rows = o.max_rows;
  s.max_body_bytes = o.max_body_bytes;
  s.model_name = o.model_name;
  s.private_config_fields = o.private_config_fields;
  return s;
}

}  // namespace

Server::Server(const std::string& model_path, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(model_path, serve_options(options))) {}
Server::~Server() = default;
int Server::listen() { return impl_->server.listen(); }
void Server::run() { impl_->server.run(); }
void Server::stop() { impl_->server.stop(); }
void Server::reload(const std::string& model_path) {
  impl_->server.reload(load_model(model_path));
}
uint64_t Server::requests() const { return impl_->server.metrics().requests(); }

}  // namespace deepcross
