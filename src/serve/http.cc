#include "serve/http.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "core/check.h"
#include "deepcross/error.h"

namespace deepcross {

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

std::string_view reason_phrase(int status) {
  static constexpr std::pair<int, std::string_view> kPhrases[] = {
      {100, "Continue"},
      {200, "OK"},
      {400, "Bad Request"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {413, "Content Too Large"},
      {415, "Unsupported Media Type"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [code, phrase] : kPhrases) {
    if (code == status) return phrase;
  }
  return "Unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = size_t{64} << 10;
constexpr size_t kMaxChunkLine = 4096;  // "SIZE;extensions\r\n" of one chunk

// A request the server refuses itself: answered through the rejecter, then the connection
// closes.
struct Refusal {
  int status;
  std::string message;
};

char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_char(c);
  return out;
}

// RFC 9110 tchar: the characters of a method or a header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (lower(trim(value.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// "METHOD SP TARGET SP HTTP/1.x" into `req`.
void parse_request_line(std::string_view line, HttpRequest& req) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    throw Refusal{400, "malformed request line"};
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) {
    throw Refusal{400, "malformed request method"};
  }
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
      })) {
    throw Refusal{400, "malformed request target"};
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    throw Refusal{400, "malformed HTTP version"};
  }
  if (version[5] != '1' || version[7] > '1') {
    throw Refusal{505, "unsupported HTTP version " + std::string(version)};
  }
  req.method = method;
  req.target = target;
  req.path = target.substr(0, target.find_first_of("?#"));
  req.minor_version = version[7] - '0';
}

// "name: value" into req.headers.
void parse_header_line(std::string_view line, HttpRequest& req) {
  if (line.front() == ' ' || line.front() == '\t') {
    throw Refusal{400, "obsolete header line folding"};
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), is_tchar)) {
    throw Refusal{400, "malformed header field '" + std::string(line.substr(0, 64)) + "'"};
  }
  const std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      throw Refusal{400, "control character in header " + std::string(line.substr(0, colon))};
    }
  }
  req.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
}

// The request head: the request line and the header lines, each ending "\r\n" (the blank
// line that ends the head excluded).
void parse_head(std::string_view head, HttpRequest& req) {
  bool first = true;
  while (!head.empty()) {
    const size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      throw Refusal{400, "bare CR or LF in the request head"};
    }
    if (line.find('\0') != std::string_view::npos) throw Refusal{400, "NUL in the request head"};
    if (first) {
      parse_request_line(line, req);
      first = false;
    } else {
      parse_header_line(line, req);
    }
  }
  if (first) throw Refusal{400, "empty request"};
}

// The declared body length: -1 for chunked, else the Content-Length (0 when absent).
int64_t body_framing(const HttpRequest& req, size_t max_body_bytes) {
  const std::string* cl = nullptr;
  const std::string* te = nullptr;
  for (const auto& [name, value] : req.headers) {
    if (name == "content-length") {
      if (cl && *cl != value) throw Refusal{400, "conflicting Content-Length headers"};
      cl = &value;
    } else if (name == "transfer-encoding") {
      if (te) throw Refusal{400, "repeated Transfer-Encoding header"};
      te = &value;
    }
  }
  if (te) {
    if (cl) throw Refusal{400, "both Content-Length and Transfer-Encoding"};
    if (lower(*te) != "chunked") {
      throw Refusal{501, "unsupported Transfer-Encoding '" + *te + "' (only chunked)"};
    }
    return -1;
  }
  if (!cl) return 0;
  if (cl->empty() ||
      !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw Refusal{400, "malformed Content-Length '" + *cl + "'"};
  }
  uint64_t n = 0;
  const auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
  if (ec != std::errc() || p != cl->data() + cl->size() || n > max_body_bytes) {
    throw Refusal{413, "request body of " + *cl + " bytes is over the limit of " +
                           std::to_string(max_body_bytes) + " bytes"};
  }
  return static_cast<int64_t>(n);
}

int ms_until(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

}  // namespace

struct HttpServer::State {
  HttpHandler handler;
  HttpRejecter reject;
  HttpOptions options;
  int listen_fd = -1;
  int wake_read = -1;
  int wake_write = -1;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable changed;  // a connection ended, or run() returned
  int active = 0;                   // open connections (mu)
  bool running = false;             // run() is between its start and its return (mu)
};

namespace {

// One accepted connection, served by its own thread: requests in order until the peer
// closes, a refusal, a timeout or the server's stop.
class Connection {
 public:
  Connection(int fd, HttpServer::State& s) : fd_(fd), s_(s) {}
  void serve();

 private:
  enum class Got { kData, kTimeout, kStop, kClosed };

  // Appends what arrives before `deadline` to buf_. With watch_stop, a stop ends the wait.
  Got fill(Clock::time_point deadline, bool watch_stop);
  // Ensures buf_ holds `bytes` bytes; refuses with 408 when they do not come in time.
  bool need(size_t bytes, Clock::time_point deadline);
  // Reads one request into `req`; false when the connection is done without one.
  bool read_request(HttpRequest& req, bool& keep_alive);
  void read_chunked_body(size_t start, Clock::time_point deadline, HttpRequest& req);
  bool send_all(std::string_view head, std::string_view body);
  // Sends `res`; false when the connection is to be closed now.
  bool respond(const HttpRequest* req, const HttpResponse& res, bool keep_alive);
  void refuse(const Refusal& r);
  void linger();

  int fd_;
  HttpServer::State& s_;
  std::string buf_;                // received bytes; the current request starts at offset 0
  std::unique_ptr<char[]> chunk_;  // what one read() fills (kReadChunk bytes)
};

Connection::Got Connection::fill(Clock::time_point deadline, bool watch_stop) {
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {s_.wake_read, POLLIN, 0}};
    const int n = poll(fds, watch_stop ? 2 : 1, ms_until(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Got::kClosed;
    }
    if (n == 0) return Got::kTimeout;
    // Bytes that arrived are read even when stopping: a request may be on its way.
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!chunk_) chunk_ = std::make_unique<char[]>(kReadChunk);
      const ssize_t got = read(fd_, chunk_.get(), kReadChunk);
      if (got > 0) {
        buf_.append(chunk_.get(), static_cast<size_t>(got));
        return Got::kData;
      }
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return Got::kClosed;
    }
    if (watch_stop && (fds[1].revents & POLLIN)) return Got::kStop;
  }
}

bool Connection::need(size_t bytes, Clock::time_point deadline) {
  while (buf_.size() < bytes) {
    const Got g = fill(deadline, false);
    if (g == Got::kTimeout) throw Refusal{408, "request not complete in time"};
    if (g != Got::kData) return false;
  }
  return true;
}

void Connection::read_chunked_body(size_t start, Clock::time_point deadline, HttpRequest& req) {
  size_t p = start;
  auto line_end = [&]() -> size_t {  // the end of the line starting at p, reading as needed
    while (true) {
      const size_t e = buf_.find("\r\n", p);
      if (e != std::string::npos) return e;
      if (buf_.size() - p > kMaxChunkLine) throw Refusal{400, "malformed chunked body"};
      if (!need(buf_.size() + 1, deadline)) throw Refusal{400, "connection closed mid-body"};
    }
  };
  while (true) {
    const size_t e = line_end();
    const std::string_view line(buf_.data() + p, e - p);
    const std::string_view size_text = trim(line.substr(0, line.find(';')));
    uint64_t size = 0;
    const auto [q, ec] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (size_text.empty() || ec != std::errc() || q != size_text.data() + size_text.size()) {
      throw Refusal{400, "malformed chunk size '" + std::string(line.substr(0, 32)) + "'"};
    }
    p = e + 2;
    if (size == 0) break;
    if (size > s_.options.max_body_bytes - req.body.size()) {
      throw Refusal{413, "request body is over the limit of " +
                             std::to_string(s_.options.max_body_bytes) + " bytes"};
    }
    if (!need(p + size + 2, deadline)) throw Refusal{400, "connection closed mid-body"};
    if (buf_.compare(p + size, 2, "\r\n") != 0) throw Refusal{400, "malformed chunked body"};
    req.body.append(buf_, p, size);
    p += size + 2;
  }
  size_t trailer_bytes = 0;
  while (true) {  // trailer fields, skipped, then the blank line
    const size_t e = line_end();
    trailer_bytes += e - p + 2;
    if (trailer_bytes > s_.options.max_header_bytes) throw Refusal{431, "trailer too large"};
    const bool blank = e == p;
    p = e + 2;
    if (blank) break;
  }
  buf_.erase(0, p);
}

bool Connection::read_request(HttpRequest& req, bool& keep_alive) {
  // The head: wait for the blank line that ends it. Empty lines before a request are skipped.
  const HttpOptions& o = s_.options;
  Clock::time_point started = Clock::now();
  size_t scanned = 0, head_end = std::string::npos;
  while (true) {
    while (buf_.starts_with("\r\n")) buf_.erase(0, 2);
    head_end = buf_.find("\r\n\r\n", scanned);
    if (head_end != std::string::npos) break;
    scanned = buf_.size() < 3 ? 0 : buf_.size() - 3;
    if (buf_.size() > o.max_header_bytes) {
      throw Refusal{431, "request head over " + std::to_string(o.max_header_bytes) + " bytes"};
    }
    // Idle (between requests): a stop ends the wait, but bytes already here are read first.
    const bool idle = buf_.empty() || buf_ == "\r";
    const Got g = idle ? fill(Clock::now() + std::chrono::milliseconds(o.idle_timeout_ms), true)
                       : fill(started + std::chrono::milliseconds(o.read_timeout_ms), false);
    if (g == Got::kTimeout && !idle) throw Refusal{408, "request head not complete in time"};
    if (g != Got::kData) return false;
    if (idle) started = Clock::now();
  }
  if (head_end + 4 > o.max_header_bytes) {
    throw Refusal{431, "request head over " + std::to_string(o.max_header_bytes) + " bytes"};
  }
  parse_head(std::string_view(buf_).substr(0, head_end + 2), req);

  const std::string* connection = req.header("connection");
  keep_alive = req.minor_version == 1 ? !(connection && has_token(*connection, "close"))
                                      : (connection && has_token(*connection, "keep-alive"));
  const int64_t length = body_framing(req, o.max_body_bytes);
  const size_t body_start = head_end + 4;
  const std::string* expect = req.header("expect");
  if (expect && lower(*expect) == "100-continue" && req.minor_version == 1 && length != 0 &&
      buf_.size() == body_start) {
    send_all("HTTP/1.1 100 Continue\r\n\r\n", {});
  }
  const Clock::time_point deadline = started + std::chrono::milliseconds(o.read_timeout_ms);
  if (length < 0) {
    read_chunked_body(body_start, deadline, req);
  } else {
    const size_t end = body_start + static_cast<size_t>(length);
    if (!need(end, deadline)) return false;
    req.body.assign(buf_, body_start, static_cast<size_t>(length));
    buf_.erase(0, end);
  }
  return true;
}

bool Connection::send_all(std::string_view head, std::string_view body) {
  iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                  {const_cast<char*>(body.data()), body.size()}};
  size_t first = 0;
  while (first < 2) {
    msghdr msg{};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = 2 - first;
    const ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // includes the SO_SNDTIMEO write timeout (EAGAIN)
    }
    size_t left = static_cast<size_t>(n);
    while (first < 2 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < 2) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

bool Connection::respond(const HttpRequest* req, const HttpResponse& res, bool keep_alive) {
  const bool close = res.close || !keep_alive || s_.stopping.load();
  std::string head = "HTTP/1.1 ";
  head += std::to_string(res.status);
  head += ' ';
  head += reason_phrase(res.status);
  head += "\r\nContent-Type: ";
  head += res.content_type;
  head += "\r\nContent-Length: ";
  head += std::to_string(res.body.size());
  if (!res.allow.empty()) head += "\r\nAllow: " + res.allow;
  if (close) {
    head += "\r\nConnection: close";
  } else if (req && req->minor_version == 0) {
    head += "\r\nConnection: keep-alive";
  }
  head += "\r\n\r\n";
  const bool head_only = req && req->method == "HEAD";
  return send_all(head, head_only ? std::string_view() : std::string_view(res.body)) && !close;
}

void Connection::refuse(const Refusal& r) {
  HttpResponse res;
  try {
    res = s_.reject(r.status, r.message);
  } catch (...) {
    res = HttpResponse();
    res.status = r.status;
    res.content_type = "text/plain";
    res.body = r.message;
  }
  respond(nullptr, res, false);
  linger();
}

// After refusing a request whose rest may still be arriving: stop sending, and read and
// drop what comes for a moment, so that closing does not reset the connection before the
// client has read the answer.
void Connection::linger() {
  shutdown(fd_, SHUT_WR);
  const Clock::time_point until = Clock::now() + std::chrono::milliseconds(s_.options.linger_ms);
  while (true) {
    buf_.clear();
    if (fill(until, false) != Got::kData) return;
  }
}

void Connection::serve() {
  try {
    while (true) {
      HttpRequest req;
      bool keep_alive = true;
      if (!read_request(req, keep_alive)) return;
      HttpResponse res;
      try {
        res = s_.handler(req);
      } catch (...) {
        throw Refusal{500, "internal error"};
      }
      if (!respond(&req, res, keep_alive)) return;
    }
  } catch (const Refusal& r) {
    refuse(r);
  } catch (...) {
    // Out of memory or a broken invariant in the connection itself: drop the connection.
  }
}

}  // namespace

HttpServer::HttpServer(HttpHandler handler, HttpRejecter reject, HttpOptions options)
    : state_(std::make_unique<State>()) {
  state_->handler = std::move(handler);
  state_->reject = std::move(reject);
  state_->options = options;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw DataError(std::string("cannot create the server's stop pipe: ") + std::strerror(errno));
  }
  state_->wake_read = fds[0];
  state_->wake_write = fds[1];
}

HttpServer::~HttpServer() {
  stop();
  {
    std::unique_lock lock(state_->mu);
    state_->changed.wait(lock, [&] { return !state_->running; });
  }
  if (state_->listen_fd >= 0) close(state_->listen_fd);
  close(state_->wake_read);
  close(state_->wake_write);
}

int HttpServer::listen(const std::string& host, int port) {
  const std::string shown =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) throw DataError("cannot listen on " + shown, gai_strerror(rc));
  std::string reason = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      reason = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) throw DataError("cannot listen on " + shown, reason);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int bound = addr.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (state_->listen_fd >= 0) close(state_->listen_fd);
  state_->listen_fd = fd;
  return bound;
}

void HttpServer::run() {
  State& s = *state_;
  DC_CHECK(s.listen_fd >= 0);
  {
    std::lock_guard lock(s.mu);
    s.running = true;
  }
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Worker> workers;
  auto reap = [&](bool all) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (all || it->done.load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (!s.stopping.load()) {
    reap(false);
    {
      std::unique_lock lock(s.mu);
      if (s.active >= s.options.max_connections) {
        s.changed.wait_for(lock, std::chrono::milliseconds(50));
        continue;
      }
    }
    pollfd fds[2] = {{s.listen_fd, POLLIN, 0}, {s.wake_read, POLLIN, 0}};
    if (poll(fds, 2, 1000) <= 0 || (fds[1].revents & POLLIN)) continue;
    const int fd = accept4(s.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const timeval send_timeout{s.options.write_timeout_ms / 1000,
                               (s.options.write_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    {
      std::lock_guard lock(s.mu);
      ++s.active;
    }
    Worker& w = workers.emplace_back();
    try {
      w.thread = std::thread([&s, &w, fd] {
        Connection(fd, s).serve();
        close(fd);
        {
          std::lock_guard lock(s.mu);
          --s.active;
        }
        w.done.store(true);
        s.changed.notify_all();
      });
    } catch (...) {  // no thread to be had: refuse this connection
      workers.pop_back();
      close(fd);
      std::lock_guard lock(s.mu);
      --s.active;
    }
  }
  close(s.listen_fd);  // new connections are refused from here on
  s.listen_fd = -1;
  reap(true);
  {
    std::lock_guard lock(s.mu);
    s.running = false;
  }
  s.changed.notify_all();
}

void HttpServer::stop() {
  state_->stopping.store(true);
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = write(state_->wake_write, &byte, 1);
}

}  // namespace deepcross
