// HttpServer: the small HTTP/1.1 server under `deepcross serve` — sockets, request framing,
// keep-alive, limits, timeouts and a clean stop. It knows nothing of models: every complete
// request goes to one handler function, every request it refuses itself (malformed, too
// large, too slow) to one rejection function, and what they return is sent back.
//
//   HttpServer http(
//       [](const HttpRequest& req) { HttpResponse r; r.body = "{}"; return r; },
//       [](int status, std::string_view why) {
//         HttpResponse r;
//         r.status = status;
//         r.body = json_error(why);
//         return r;
//       },
//       HttpOptions{});
//   int port = http.listen("127.0.0.1", 0);   // 0: any free port; DataError if it cannot
//   std::thread t([&] { http.run(); });      // serves until stop()
//   ...
//   http.stop();                             // also safe inside a signal handler
//   t.join();                                // in-flight requests were answered first
//
// Protocol (RFC 9112, the subset clients use): request line `METHOD SP TARGET SP HTTP/1.x`;
// header fields `name: value` (names case-insensitive; no space before the colon; no
// obsolete line folding); a body framed by Content-Length or by `Transfer-Encoding: chunked`
// (chunk extensions and trailers skipped), never both; `Expect: 100-continue` answered with
// an interim 100 once the head is accepted; keep-alive by default for HTTP/1.1 and on
// request for HTTP/1.0 (`Connection: keep-alive`), pipelined requests answered in order;
// HEAD answered without a body. Every response carries Content-Type and Content-Length.
//
// Refusals (sent through the rejection function; the connection is then closed, after the
// unread rest of the request is drained for a moment so the client sees the answer):
//   400 malformed request line, header, Content-Length or chunk framing
//   408 a started request not complete within read_timeout_ms
//   413 a body over max_body_bytes (from Content-Length, or as chunks arrive)
//   431 a request head (line + headers) over max_header_bytes
//   501 a Transfer-Encoding other than chunked
//   505 an HTTP version other than 1.0 or 1.1
//
// Threads: one thread accepts; each open connection has its own thread (at most
// max_connections at once; beyond that, new connections wait in the listen backlog). The
// handler is therefore called concurrently and must be thread-safe; bounding the compute is
// its business. stop() closes the listening socket, closes idle connections at once, lets
// every request already received (or being received) be answered, and then run() returns.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deepcross {

struct HttpRequest {
  std::string method;     // "GET", "POST", ... as sent (methods are case-sensitive)
  std::string target;     // the request target as sent, e.g. "/v1/predict?x=1"
  std::string path;       // the target without its query: "/v1/predict"
  int minor_version = 1;  // HTTP/1.<minor_version>
  // Header fields in order, names lower-cased, values without surrounding spaces.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // decoded (chunked framing removed)

  // The first value of the header `lower_name` (lower case), or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;   // the Allow header of a 405 ("GET, HEAD"); empty = none
  bool close = false;  // close the connection after this response
};

struct HttpOptions {
  size_t max_body_bytes = size_t{16} << 20;  // --max-body-bytes
  size_t max_header_bytes = size_t{64} << 10;
  int max_connections = 256;     // open connections served at once
  int idle_timeout_ms = 30000;   // keep-alive connection waiting for its next request
  int read_timeout_ms = 30000;   // from a request's first byte to its last
  int write_timeout_ms = 30000;  // one response
  int linger_ms = 1000;          // draining an unread request before closing
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Builds the response for a request the server refuses itself (status, reason in words).
using HttpRejecter = std::function<HttpResponse(int status, std::string_view message)>;

// The standard reason phrase of a status code ("Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status);

class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpRejecter reject, HttpOptions options);
  ~HttpServer();  // stop() and wait for run() to return, if it is running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on host:port (a name or numeric IPv4/IPv6 address; port 0 picks a free
  // port) and returns the port bound. Throws DataError("cannot listen on HOST:PORT",
  // reason) when the address cannot be resolved or bound (e.g. the port is in use).
  int listen(const std::string& host, int port);
  // Accepts and serves connections until stop(); returns once every connection is closed.
  // Call once, after listen().
  void run();
  // Asks run() to finish (see above). Any thread, any time, repeatedly; async-signal-safe.
  void stop();

  struct State;  // opaque: sockets, options, the stop flag (http.cc)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace deepcross
