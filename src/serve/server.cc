#include "serve/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <omp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "core/blas.h"
#include "core/check.h"
#include "deepcross/error.h"
#include "infer/scoring.h"
#include "serve/connection_gate.h"
#include "serve/inference_protocol.h"
#include "serve/request.h"

namespace deepcross {

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheus = "text/plain; version=0.0.4; charset=utf-8";

// The request schema of a model: its fields in order (numeric, then categorical, as the
// preprocessor stores them), the label name, and its training layout for TSV bodies.
RequestSchema schema_of(const TrainedModel& tm) {
  RequestSchema s;
  for (const std::string& name : tm.preprocessor.numeric_names()) s.fields.push_back({name, false});
  for (const std::string& name : tm.preprocessor.categorical_names()) {
    s.fields.push_back({name, true});
  }
  s.layout = tm.layout;
  s.layout.label_policy = LabelPolicy::kOptional;
  s.label_name = tm.layout.format == Format::kCriteo ? "label" : tm.layout.label;
  return s;
}

RequestLimits limits_of(const ServeOptions& o) {
  RequestLimits limits;
  limits.max_rows = o.max_rows;
  limits.max_body_bytes = o.max_body_bytes;
  return limits;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(const RequestError& e) {
  return json_response(e.status, error_body(e).dump());
}

HttpResponse error_response(int status, std::string message) {
  return error_response(RequestError(status, std::move(message)));
}

std::string body_limit_message(const std::string& content_length, size_t limit) {
  return "request body " + (content_length.empty() ? "" : "of " + content_length + " bytes ") +
         "exceeds the limit of " + std::to_string(limit) + " bytes (--max-body-bytes)";
}

// {"predictions":[p,...]} or, for k > 1 classes, {"predictions":[[p1,...,pk],...]}.
std::string predictions_json(const std::vector<float>& probs, size_t rows, int k) {
  std::string out;
  out.reserve(24 + rows * (k == 1 ? 14 : 2 + 14 * static_cast<size_t>(k)));
  out += "{\"predictions\":[";
  char num[32];
  for (size_t r = 0; r < rows; ++r) {
    if (r) out += ',';
    if (k > 1) out += '[';
    for (int c = 0; c < k; ++c) {
      if (c) out += ',';
      const float p = probs[r * static_cast<size_t>(k) + static_cast<size_t>(c)];
      if (std::isfinite(p)) {
        const auto res = std::to_chars(num, num + sizeof num, p);
        out.append(num, res.ptr);
      } else {
        out += "null";  // not reached for a sane model; JSON has no NaN
      }
    }
    if (k > 1) out += ']';
  }
  out += "]}";
  return out;
}

// The known paths and the methods each accepts.
struct Route {
  std::string_view path;
  std::string_view allow;
};
constexpr Route kRoutes[] = {
    {"/v1/predict", "POST"},
    {"/health", "GET, HEAD"},
    {"/v1/model", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
};

// The methods httplib dispatches to handlers; it answers any other one with a bare 400.
constexpr std::string_view kDispatched[] = {"GET",    "HEAD",    "POST", "PUT",
                                            "DELETE", "OPTIONS", "PATCH"};

// RFC 9110 tchar: the characters of a method.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// OpenMP's thread count is per thread: set it once in each connection thread.
void single_threaded_compute() {
  thread_local const bool done = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)done;
}

// "HOST:PORT", IPv6 addresses in brackets.
std::string address_text(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

// Why host:port cannot be bound (httplib's bind reports only failure): the same resolution,
// socket and bind, done again to read errno.
std::string bind_failure_reason(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) return gai_strerror(rc);
  std::string reason = "no address to bind";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 5) == 0;
    if (!ok) reason = std::strerror(errno);
    close(fd);
    if (ok) {
      reason = "the address could not be bound";  // free again: a race with another process
      break;
    }
  }
  freeaddrinfo(found);
  return reason;
}

// A connection's socket as httplib reads and writes a request: first the bytes the gate
// (serve/connection_gate.h) already read, then the socket, each read bounded by the read
// timeout and all of them by the request's deadline; what follows the request stays in the
// connection's buffer (pipelined requests).
class BufferedSocketStream final : public httplib::Stream {
 public:
  BufferedSocketStream(GatedConnection& c, int read_timeout_ms, int write_timeout_ms)
      : c_(c),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms),
        deadline_(Clock::now() + std::chrono::milliseconds(read_timeout_ms)) {}
  ~BufferedSocketStream() override { c_.pending.erase(0, pos_); }

  bool is_readable() const override { return pos_ < c_.pending.size() || wait(POLLIN, timeout()); }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_); }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ >= c_.pending.size()) {
      c_.pending.clear();
      pos_ = 0;
      if (!wait(POLLIN, timeout())) return -1;
      char buf[16384];
      ssize_t n;
      do {
        n = ::recv(c_.fd, buf, sizeof buf, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      c_.pending.assign(buf, static_cast<size_t>(n));
    }
    const size_t k = std::min(size, c_.pending.size() - pos_);
    std::memcpy(ptr, c_.pending.data() + pos_, k);
    pos_ += k;
    return static_cast<ssize_t>(k);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait(POLLOUT, write_timeout_ms_)) return -1;
    ssize_t n;
    do {
      n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address(::getsockname, ip, port);
  }
  socket_t socket() const override { return c_.fd; }

 private:
  int timeout() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, read_timeout_ms_));
  }
  bool wait(short events, int timeout_ms) const {
    pollfd p{c_.fd, events, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
  }
  void address(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ip.clear();
    port = 0;
    if (get(c_.fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }

  GatedConnection& c_;
  size_t pos_ = 0;
  int read_timeout_ms_, write_timeout_ms_;
  Clock::time_point deadline_;
};

// Set by the post-routing handler when an answer says Connection: close (per thread: one
// request at a time on each).
thread_local bool t_answer_closes = false;

// A whole HTTP/1.1 answer with a JSON body that closes the connection (the gate's 408, 503).
std::string raw_answer(int status, std::string_view reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// The info JSON as a server shows it: without the file-system paths of the training run (the
// path-valued options: --data, --model, --history, ...).
nlohmann::json public_info(TrainedModel& tm, const std::vector<std::string>& private_fields) {
  nlohmann::json info = model_info(tm);
  if (info.contains("config") && info["config"].is_object()) {
    for (const std::string& name : private_fields) info["config"].erase(name);
  }
  return info;
}

// httplib's server with a stop that works at any moment: httplib's own stop() does nothing
// before run() has started listening, and asserts when called twice while running. Accepted
// connections go to a ConnectionGate (on_connection) instead of a thread each.
class HttplibServer : public httplib::Server {
 public:
  std::function<void(int)> on_connection;

  // Answers one request from `strm` (httplib's parsing, routing and answer).
  bool process(httplib::Stream& strm, bool close_connection, bool& connection_closed) {
    return process_request(strm, close_connection, connection_closed, nullptr);
  }

  // Closes the listening socket: the accept loop of listen_after_bind() ends, or never starts.
  // Async-signal-safe (a lock-free exchange, shutdown, close) and idempotent.
  void close_listener() {
    const socket_t s = svr_sock_.exchange(INVALID_SOCKET);
    if (s != INVALID_SOCKET) {
      ::shutdown(s, SHUT_RDWR);
      ::close(s);
    }
  }
  bool bound() const { return svr_sock_ != INVALID_SOCKET; }
  // httplib listens with a backlog of 5: a burst of connections (hundreds of clients at once,
  // slow or not) would wait for SYN retransmits of 1 s and more. Linux lets a listening socket
  // take a new backlog.
  void widen_backlog() {
    const socket_t s = svr_sock_.load();
    if (s != INVALID_SOCKET) ::listen(s, SOMAXCONN);
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    on_connection(sock);
    return true;
  }
};

}  // namespace

// One loaded model and everything its requests share; replaced whole by reload(), kept alive
// by the requests that still use it.
struct LoadedModel {
  LoadedModel(TrainedModel model, const ServeOptions& o)
      : tm(std::move(model)),
        decoder(schema_of(tm), limits_of(o)),
        info(public_info(tm, o.private_config_fields).dump()),
        clones(*tm.model, o.threads, o.batch_rows) {}

  TrainedModel tm;
  RequestDecoder decoder;
  std::string info;
  InferencePool clones;  // one clone per request computing at once
};

struct ScoringServer::Impl {
  Impl(TrainedModel model, const ServeOptions& o)
      : options(o), loaded(std::make_shared<LoadedModel>(std::move(model), o)) {
    configure_transport();
  }
  ~Impl() { http.close_listener(); }

  // A request reduced to what the answer depends on.
  struct View {
    std::string_view method, path;
    const std::string* content_type;  // nullptr: no Content-Type header
    std::string_view body;
    const std::string* inference_header_length = nullptr;  // the /v2 binary extension
  };

  HttpResponse handle(const View& req);
  HttpResponse route(const View& req, size_t& rows);
  HttpResponse predict(const View& req, size_t& rows);
  // Probabilities (rows x outputs) of a decoded table, by `m`.
  std::vector<float> score(LoadedModel& m, const Table& table);
  // The model requests start with now.
  std::shared_ptr<LoadedModel> current() {
    std::lock_guard lock(loaded_mu);
    return loaded;
  }
  // An answer the transport made (no handler ran), counted in the metrics.
  HttpResponse reject(int status, std::string message) {
    HttpResponse r = error_response(status, std::move(message));
    metrics.record(status, 0, 0);
    return r;
  }

  void configure_transport();
  bool serve_connection(GatedConnection& c);
  std::string gate_answer(int status, std::string_view reason, std::string message) {
    return raw_answer(status, reason, reject(status, std::move(message)).body);
  }
  void serve(const httplib::Request& req, std::string_view body, httplib::Response& res);
  void serve_with_body(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader);
  httplib::Server::HandlerResponse transport_error(const httplib::Request& req,
                                                   httplib::Response& res);

  ServeOptions options;
  std::mutex loaded_mu;
  std::shared_ptr<LoadedModel> loaded;  // under loaded_mu
  ServeMetrics metrics;
  HttplibServer http;
  std::unique_ptr<ConnectionGate> gate;
  std::atomic<bool> stopping{false};
};

bool ScoringServer::Impl::serve_connection(GatedConnection& c) {
  const bool last = stopping.load() || c.requests + 1 >= options.keep_alive_requests;
  bool closed = false;
  t_answer_closes = false;
  bool ok;
  {
    BufferedSocketStream strm(c, options.read_timeout_ms, options.write_timeout_ms);
    ok = http.process(strm, last, closed);
  }
  ++c.requests;
  return ok && !closed && !last && !t_answer_closes;
}

HttpResponse ScoringServer::Impl::handle(const View& req) {
  const Clock::time_point start = Clock::now();
  size_t rows = 0;
  HttpResponse res;
  try {
    res = route(req, rows);
  } catch (const RequestError& e) {
    res = error_response(e);
  } catch (const DataError& e) {
    res = error_response(kStatusBadRequest, e.message());
  } catch (const std::bad_alloc&) {
    res = error_response(500, "out of memory");
  } catch (const std::exception& e) {
    res = error_response(500, std::string("internal error: ") + e.what());
  } catch (...) {
    res = error_response(500, "internal error");
  }
  if (res.status >= 400) rows = 0;
  metrics.record(res.status, std::chrono::duration<double>(Clock::now() - start).count(), rows);
  return res;
}

HttpResponse ScoringServer::Impl::route(const View& req, size_t& rows) {
  if (is_inference_protocol_path(req.path)) {
    const std::shared_ptr<LoadedModel> m = current();
    const InferenceModel model{options.model_name, &m->decoder, m->tm.model->outputs(),
                               [&](const Table& t) { return score(*m, t); }};
    return inference_protocol_answer({req.method, req.path, req.body, req.inference_header_length},
                                     model, rows);
  }
  const Route* route = nullptr;
  for (const Route& r : kRoutes) {
    if (req.path == r.path) route = &r;
  }
  if (route == nullptr) return error_response(404, "no such path '" + std::string(req.path) + "'");
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (route->allow == "POST" ? req.method != "POST" : !get) {
    HttpResponse r = error_response(405, "method " + std::string(req.method) +
                                             " is not allowed on " + std::string(req.path) +
                                             " (allowed: " + std::string(route->allow) + ")");
    r.allow = route->allow;
    return r;
  }
  if (req.path == "/v1/predict") return predict(req, rows);
  if (req.path == "/health") return json_response(200, R"({"status":"ok"})");
  if (req.path == "/v1/model") return json_response(200, current()->info);
  HttpResponse r;
  r.content_type = kPrometheus;
  r.body = metrics.render();
  return r;
}

HttpResponse ScoringServer::Impl::predict(const View& req, size_t& rows) {
  if (req.content_type == nullptr) {
    throw RequestError(kStatusUnsupportedMediaType,
                       "missing Content-Type (expected application/json or "
                       "text/tab-separated-values)");
  }
  const std::shared_ptr<LoadedModel> m = current();
  const Table table = m->decoder.decode(*req.content_type, req.body);
  rows = table.rows;
  if (table.rows == 0) return json_response(200, R"({"predictions":[]})");
  return json_response(200, predictions_json(score(*m, table), table.rows, m->tm.model->outputs()));
}

std::vector<float> ScoringServer::Impl::score(LoadedModel& m, const Table& table) {
  const EncodedData data = m.tm.preprocessor.encode(table, {}, 1);
  single_threaded_compute();
  return m.clones.score(data);  // single-threaded here
}

// ---- the HTTP layer ----

void ScoringServer::Impl::configure_transport() {
  const ServeOptions& o = options;
  http.set_socket_options([](socket_t sock) {
    const int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(o.max_body_bytes);
  http.set_read_timeout(o.read_timeout_ms / 1000, (o.read_timeout_ms % 1000) * 1000);
  http.set_write_timeout(o.write_timeout_ms / 1000, (o.write_timeout_ms % 1000) * 1000);
  http.set_keep_alive_timeout(o.idle_timeout_s);
  http.set_keep_alive_max_count(static_cast<size_t>(o.keep_alive_requests));
  // httplib's pool only hands accepted sockets to the gate (HttplibServer::on_connection).
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.on_connection = [this](int fd) { gate->admit(fd); };

  // Every path of every method comes here; route() sorts them out (404, 405).
  const std::string any = "[\\s\\S]*";
  auto without_body = [this](const httplib::Request& req, httplib::Response& res) {
    serve(req, {}, res);
  };
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    serve_with_body(req, res, reader);
  };
  http.Get(any, without_body);  // and HEAD
  http.Options(any, without_body);
  http.Post(any, with_body);
  http.Put(any, with_body);
  http.Patch(any, with_body);
  http.Delete(any, with_body);

  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        return transport_error(req, res);
      }));
  http.set_exception_handler(
      [this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string message = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::bad_alloc&) {
          message = "out of memory";
        } catch (const std::exception& e) {
          message += std::string(": ") + e.what();
        } catch (...) {
        }
        const HttpResponse r = reject(500, message);
        res.status = r.status;
        res.set_content(r.body, r.content_type);
      });
  // The last answer on a connection says so: after stop(), the connection closes (httplib's
  // keep-alive loop ends once the listening socket is closed), and so does HTTP/1.0 without
  // keep-alive. httplib sends Keep-Alive: timeout, max on every answer otherwise.
  http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const bool old_close =
        req.version == "HTTP/1.0" && req.get_header_value("Connection") != "Keep-Alive";
    if (stopping.load(std::memory_order_relaxed) || old_close ||
        res.get_header_value("Connection") == "close") {
      res.headers.erase("Keep-Alive");
      res.headers.erase("Connection");
      res.set_header("Connection", "close");
      t_answer_closes = true;
    }
  });
}

void ScoringServer::Impl::serve(const httplib::Request& req, std::string_view body,
                                httplib::Response& res) {
  const auto ct = req.headers.find("Content-Type");
  const auto ihl = req.headers.find("Inference-Header-Content-Length");
  const View view{req.method, req.path, ct == req.headers.end() ? nullptr : &ct->second, body,
                  ihl == req.headers.end() ? nullptr : &ihl->second};
  HttpResponse r = handle(view);
  res.status = r.status;
  res.body = std::move(r.body);
  res.set_header("Content-Type", r.content_type);
  if (!r.allow.empty()) res.set_header("Allow", r.allow);
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
}

void ScoringServer::Impl::serve_with_body(const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& reader) {
  const size_t limit = options.max_body_bytes;
  const std::string length = req.get_header_value("Content-Length");
  const bool has_encoding = req.has_header("Transfer-Encoding");
  auto refuse = [&](int status, std::string message) {
    const HttpResponse r = reject(status, std::move(message));
    res.status = r.status;
    res.set_content(r.body, r.content_type);
    res.set_header("Connection", "close");  // the body, whatever it is, was not read
  };
  // Content-Length: digits only, within 64 bits (RFC 9110 8.6), answered at once; httplib
  // would take "-1" or 99999999999999999999 for a huge length and wait for it.
  uint64_t declared = 0;
  if (req.has_header("Content-Length")) {
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
    if (length.empty() || ec != std::errc() || end != length.data() + length.size() ||
        req.get_header_value_count("Content-Length") > 1) {
      return refuse(400, "malformed Content-Length '" + length +
                             "' (expected one decimal number of bytes, below 2^64)");
    }
  }
  if (length.empty() && !has_encoding) {
    // No body (RFC 9112 6.3); httplib would read one until the client closes. A POST must
    // say how long its body is.
    if (req.method == "POST") {
      return refuse(411, "a POST needs a Content-Length (or Transfer-Encoding: chunked)");
    }
    return serve(req, {}, res);
  }
  if (req.has_header("Content-Encoding")) {
    std::string coding = req.get_header_value("Content-Encoding");
    std::transform(coding.begin(), coding.end(), coding.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (coding != "identity" && coding != "gzip" && coding != "deflate" && coding != "br") {
      return refuse(415, "unsupported Content-Encoding '" + req.get_header_value("Content-Encoding") +
                             "' (gzip, deflate, br or identity)");
    }
  }
  if (has_encoding && !equal_ignoring_case(req.get_header_value("Transfer-Encoding"), "chunked")) {
    const HttpResponse r =
        reject(501, "unsupported Transfer-Encoding '" + req.get_header_value("Transfer-Encoding") +
                        "' (only chunked)");
    res.status = r.status;
    res.set_content(r.body, r.content_type);
    res.set_header("Connection", "close");  // the body, whatever it is, was not read
    return;
  }
  std::string body;
  if (!length.empty() && declared <= limit) body.reserve(static_cast<size_t>(declared));
  // The decoded bytes (after chunked framing and Content-Encoding), refused beyond the limit.
  bool over = false;
  const bool complete = reader([&](const char* data, size_t n) {
    if (n > limit - body.size()) {
      over = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (complete) return serve(req, body, res);
  HttpResponse r;
  if (over || res.status == 413) {
    r = reject(413, body_limit_message(over ? "" : length, limit));
  } else if (res.status == 415) {
    r = reject(415,
               "unsupported Content-Encoding '" + req.get_header_value("Content-Encoding") + "'");
  } else {
    r = reject(400,
               "malformed or incomplete request body (framing, Content-Encoding or read timeout)");
  }
  res.status = r.status;
  res.set_content(r.body, r.content_type);
  // What is left of the body was not read: the connection cannot be reused.
  if (r.status != 413 || over) res.set_header("Connection", "close");
}

httplib::Server::HandlerResponse ScoringServer::Impl::transport_error(const httplib::Request& req,
                                                                      httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // our answer
  const int refused = res.status;
  HttpResponse r;
  const bool dispatched = std::find(std::begin(kDispatched), std::end(kDispatched), req.method) !=
                          std::end(kDispatched);
  const bool well_formed = is_token(req.method) && req.target.starts_with('/') &&
                           (req.version == "HTTP/1.1" || req.version == "HTTP/1.0");
  if (res.status == 404 || (res.status == 400 && !dispatched && well_formed)) {
    // A path no handler pattern matched, or a method httplib does not dispatch (it parses
    // the request line of one it does not know only partly: the path from the target).
    const std::string path =
        req.path.empty() ? req.target.substr(0, req.target.find('?')) : req.path;
    r = handle(View{req.method, path, nullptr, {}});
  } else if (res.status == 400) {
    r = reject(400,
               "malformed or incomplete HTTP request (request line, version or header fields)");
  } else if (res.status == 414) {
    r = reject(414, "request target too long");
  } else if (res.status == 416) {
    r = reject(416, "invalid Range header");
  } else {
    r = reject(res.status, "request refused by the HTTP layer");
  }
  res.status = r.status;
  res.set_content(r.body, r.content_type);
  if (!r.allow.empty()) res.set_header("Allow", r.allow);
  // A request refused while its head was read: what follows on the connection is unknown.
  if (refused != 404) res.set_header("Connection", "close");
  return httplib::Server::HandlerResponse::Handled;
}

ScoringServer::ScoringServer(TrainedModel model, const ServeOptions& options) {
  DC_CHECK(options.threads >= 1 && options.batch_rows >= 1 && options.max_connections >= 1 &&
           options.read_timeout_ms > 0 && options.write_timeout_ms > 0 &&
           options.idle_timeout_s >= 1 && options.keep_alive_requests >= 1 &&
           model.model != nullptr);
  set_blas_threads(1);
  warm_up_gemm();  // the first request does not pay for oneDNN's kernel generation
  impl_ = std::make_unique<Impl>(std::move(model), options);
}

ScoringServer::~ScoringServer() = default;

int ScoringServer::listen() {
  Impl& s = *impl_;
  const std::string& host = s.options.host;
  const int port = s.options.port;
  s.http.close_listener();  // a second call replaces the first socket
  const int bound =
      port == 0 ? s.http.bind_to_any_port(host) : (s.http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    throw DataError("cannot listen on " + address_text(host, port),
                    bind_failure_reason(host, port));
  }
  s.http.widen_backlog();
  return bound;
}

void ScoringServer::run() {
  Impl& s = *impl_;
  DC_CHECK(s.http.bound() || s.stopping.load());
  GateOptions g;
  g.head_timeout_ms = s.options.head_timeout_ms;
  g.idle_timeout_ms = s.options.idle_timeout_s * 1000;
  g.workers = std::max(s.options.threads, s.options.max_connections);
  g.max_waiting = s.options.max_waiting;
  s.gate = std::make_unique<ConnectionGate>(
      g, [&s](GatedConnection& c) { return s.serve_connection(c); },
      [&s] {
        return s.gate_answer(408, "Request Timeout",
                             "the request did not arrive within " +
                                 std::to_string(s.options.head_timeout_ms) + " ms");
      },
      [&s] {
        return s.gate_answer(503, "Service Unavailable",
                             "too many connections waiting for their requests");
      });
  const bool listened = s.http.listen_after_bind();
  // Every connection: idle ones closed now, requests on their way answered.
  s.gate->drain();
  if (!listened && !s.stopping.load()) {
    throw DataError(
        "stopped accepting connections on " + address_text(s.options.host, s.options.port),
        "accept failed");
  }
}

void ScoringServer::stop() {
  impl_->stopping.store(true);
  impl_->http.close_listener();
}

HttpResponse ScoringServer::handle(const HttpRequest& request) {
  const Impl::View view{request.method, request.path, request.header("content-type"), request.body,
                        request.header("inference-header-content-length")};
  return impl_->handle(view);
}

void ScoringServer::reload(TrainedModel model) {
  DC_CHECK(model.model != nullptr);
  auto fresh = std::make_shared<LoadedModel>(std::move(model), impl_->options);
  std::shared_ptr<LoadedModel> old;
  {
    std::lock_guard lock(impl_->loaded_mu);
    old = std::exchange(impl_->loaded, std::move(fresh));
  }
  // `old` is freed here, or by the last request still using it.
}

const ServeMetrics& ScoringServer::metrics() const { return impl_->metrics; }

const TrainedModel& ScoringServer::model() const { return impl_->current()->tm; }

}  // namespace deepcross
