// deepcross serve: load a model once and answer predictions over HTTP until SIGINT/SIGTERM;
// SIGHUP loads the model file again and serves it from then on.
#include <semaphore.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "commands.h"
#include "cli/option_table.h"
#include "deepcross/error.h"
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

sem_t g_reload;

extern "C" void on_reload_signal(int) { sem_post(&g_reload); }  // async-signal-safe

// SIGHUP: a thread of its own loads the model file again and hands it to the server; requests
// in flight finish with the model they started with (ScoringServer::reload). A file that fails
// to load is reported and the old model keeps serving. For its lifetime; restores SIGHUP after.
class ReloadOnSighup {
 public:
  ReloadOnSighup(Server& server, std::string path) {
    sem_init(&g_reload, 0, 0);
    thread_ = std::thread([this, &server, path = std::move(path)] {
      for (;;) {
        while (sem_wait(&g_reload) != 0 && errno == EINTR) {
        }
        if (done_.load()) return;
        try {
          server.reload(path);
          std::fprintf(stderr, "reloaded %s\n", path.c_str());
        } catch (const Error& e) {
          std::fprintf(stderr, "deepcross: error: reloading failed, the previous model keeps "
                       "serving: %s\n", e.message().c_str());
        } catch (const std::exception& e) {
          std::fprintf(stderr, "deepcross: error: reloading failed, the previous model keeps "
                       "serving: %s\n", e.what());
        }
        std::fflush(stderr);
      }
    });
    struct sigaction sa {};
    sa.sa_handler = on_reload_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, &old_hup_);
  }
  ~ReloadOnSighup() {
    sigaction(SIGHUP, &old_hup_, nullptr);
    done_.store(true);
    sem_post(&g_reload);
    thread_.join();
    sem_destroy(&g_reload);
  }
  ReloadOnSighup(const ReloadOnSighup&) = delete;
  ReloadOnSighup& operator=(const ReloadOnSighup&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
  struct sigaction old_hup_ {};
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
  opts.model_name =
      o.is_set("name") ? o.get_string("name") : std::filesystem::path(path).stem().string();
  if (opts.model_name.empty() || opts.model_name.find('/') != std::string::npos) {
    throw UsageError("the model name '" + opts.model_name +
                         "' cannot be part of a /v2/models/NAME path (set --name)",
                     "--name");
  }

  opts.private_config_fields.clear();  // the tool's own list: every path-valued option
  for (const OptionSpec& spec : option_table()) {
    if (spec.type == OptionType::kPath) opts.private_config_fields.push_back(spec.name);
  }

  Server server(path, opts);
  const int port = server.listen();
  StopSignals signals(server);
  ReloadOnSighup reload(server, path);
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
