// Test support for the serve tests: a tiny blocking HTTP/1.1 client over a loopback socket,
// able to send arbitrary (also malformed) bytes and to read responses one at a time, so tests
// can pipeline, keep connections alive and watch the server close them.
//
//   TestConnection c(port);
//   ASSERT_TRUE(c.send(request("POST", "/v1/predict", body, "application/json")));
//   std::optional<Reply> r = c.read_reply();
//   EXPECT_EQ(r->status, 200);
//   Reply health = http_call(port, "GET", "/health");   // a fresh connection per call
#pragma once

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace deepcross::serve_test {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request's bytes. `extra` holds whole header lines, each ending "\r\n".
inline std::string request(std::string_view method, std::string_view target,
                           std::string_view body = {}, std::string_view content_type = {},
                           std::string_view extra = {}) {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  if (!body.empty() || method == "POST") {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += extra;
  r += "\r\n";
  r += body;
  return r;
}

class TestConnection {
 public:
  explicit TestConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) {
      const int one = 1;
      setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  }
  ~TestConnection() {
    if (fd_ >= 0) close(fd_);
  }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Waits until the peer's kernel has acknowledged everything sent (the send queue is
  // empty); false if that takes over timeout_ms.
  bool wait_until_acknowledged(int timeout_ms = 60000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    int queued = 0;
    while (ioctl(fd_, SIOCOUTQ, &queued) == 0 && queued > 0) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return queued == 0;
  }

  // The next response (after any interim 1xx when skip_interim); nullopt when the connection
  // closes or nothing complete arrives within timeout_ms. `head_only`: a HEAD response.
  std::optional<Reply> read_reply(bool head_only = false, int timeout_ms = 60000,
                                  bool skip_interim = true) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(deadline)) return std::nullopt;
      }
      Reply r;
      std::string_view head(buf_.data(), end);
      const size_t line_end = head.find("\r\n");
      const std::string_view status_line = head.substr(0, line_end);
      if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.1 ")) return std::nullopt;
      std::from_chars(status_line.data() + 9, status_line.data() + 12, r.status);
      std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
      while (!rest.empty()) {
        const size_t e = rest.find("\r\n");
        const std::string_view line = rest.substr(0, e);
        const size_t colon = line.find(':');
        std::string name(line.substr(0, colon));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers[name] = std::string(value);
        if (e == std::string_view::npos) break;
        rest.remove_prefix(e + 2);
      }
      buf_.erase(0, end + 4);
      if (r.status >= 100 && r.status < 200) {
        if (skip_interim) continue;
        return r;
      }
      size_t length = 0;
      const std::string cl = r.header("content-length");
      std::from_chars(cl.data(), cl.data() + cl.size(), length);
      if (head_only) length = 0;
      while (buf_.size() < length) {
        if (!fill(deadline)) return std::nullopt;
      }
      r.body = buf_.substr(0, length);
      buf_.erase(0, length);
      return r;
    }
  }

  // Whether the server closes the connection (EOF or reset) within timeout_ms, with no
  // further bytes before that.
  bool closed_by_peer(int timeout_ms = 60000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const size_t before = buf_.size();
    while (fill(deadline)) {
    }
    return buf_.size() == before && eof_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  bool fill(Clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char tmp[65536];
    const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

// One request on a fresh connection; status 0 when no response came.
inline Reply http_call(int port, std::string_view method, std::string_view target,
                       std::string_view body = {}, std::string_view content_type = {},
                       std::string_view extra = {}) {
  TestConnection c(port);
  if (!c.send(request(method, target, body, content_type, extra))) return {};
  return c.read_reply(method == "HEAD").value_or(Reply{});
}

}  // namespace deepcross::serve_test
