// deepcross serve: load a model once and answer predictions over HTTP until SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "commands.h"
#include "deepcross/server.h"

namespace deepcross {
namespace {

std::atomic<Server*> g_server{nullptr};

// SIGINT/SIGTERM: stop accepting, answer what is in flight, then run() returns (once idle
// keep-alive connections have closed: at their next request or idle timeout, src/serve/server.h).
extern "C" void on_stop_signal(int) {
  Server* s = g_server.load();
  if (s != nullptr) s->stop();
}

// Installs the stop handlers for its lifetime and restores the previous ones after.
class StopSignals {
 public:
  explicit StopSignals(Server& server) {
    g_server.store(&server);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old_pipe_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    g_server.store(nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {
  }, old_term_{}, old_pipe_{};
};

}  // namespace

int run_serve(const Options& o) {
  ServerOptions opts;
  opts.host = o.get_string("host");
  opts.port = o.get_int("port");
  opts.threads = thread_count(o);
  opts.max_rows = static_cast<size_t>(o.get_int("max-rows"));
  opts.max_body_bytes = static_cast<size_t>(o.get_int("max-body-bytes"));
  const std::string& path = o.get_string("model");

  Server server(path, opts);
  const int port = server.listen();
  StopSignals signals(server);
  const std::string host =
      opts.host.find(':') != std::string::npos ? "[" + opts.host + "]" : opts.host;
  std::fprintf(stderr, "serving %s on http://%s:%d (%d threads)\n", path.c_str(), host.c_str(),
               port, opts.threads);
  std::fflush(stderr);
  server.run();
  std::fprintf(stderr, "stopped after %llu requests\n",
               static_cast<unsigned long long>(server.requests()));
  return 0;
}

}  // namespace deepcross
