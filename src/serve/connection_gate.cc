#include "serve/connection_gate.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace deepcross {

namespace {

using Clock = std::chrono::steady_clock;

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

void close_connection(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

// Best effort: an answer to a client we are about to close (it may not read it).
void send_and_close(int fd, const std::string& answer) {
  (void)!::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  close_connection(fd);
}

}  // namespace

bool request_arrived(std::string_view bytes, size_t max_head, size_t max_body) {
  // Empty lines before a request line are ignored (RFC 9112 2.2).
  size_t start = 0;
  while (start < bytes.size() && (bytes[start] == '\r' || bytes[start] == '\n')) ++start;
  const std::string_view rest = bytes.substr(start);
  size_t end = rest.find("\r\n\r\n");
  size_t head_end = end == std::string_view::npos ? end : end + 4;
  const size_t bare = rest.find("\n\n");
  if (bare != std::string_view::npos && (head_end == std::string_view::npos || bare + 2 < head_end)) {
    head_end = bare + 2;
  }
  if (head_end == std::string_view::npos) return rest.size() > max_head;
  const std::string_view head = rest.substr(0, head_end);
  // A client that sends "Expect: 100-continue" waits for the interim answer before its body.
  uint64_t length = 0;
  bool has_length = false;
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const size_t next = head.find('\n', pos + 1);
    std::string_view line = head.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    pos = next;
    if (starts_with_ignoring_case(line, "expect:")) return true;
    if (has_length || !starts_with_ignoring_case(line, "content-length:")) continue;
    line.remove_prefix(15);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), length);
    if (ec != std::errc() || p != line.data() + line.size()) return true;  // refused at once
    has_length = true;
  }
  if (!has_length || length > max_body) return true;  // a longer body is read by the worker
  return rest.size() - head_end >= length;
}

struct ConnectionGate::Impl {
  struct Waiting {
    GatedConnection conn;
    Clock::time_point deadline;
    bool arriving = false;  // a request has begun (else: idle between requests)
  };

  Impl(const GateOptions& o, Serve s, Answer t, Answer b)
      : options(o), serve(std::move(s)), timeout_answer(std::move(t)), busy_answer(std::move(b)) {
    epoll = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, wake_fd, &ev);
    gate = std::thread([this] { gate_loop(); });
    for (int i = 0; i < std::max(1, o.workers); ++i) workers.emplace_back([this] { work(); });
  }

  void wake() {
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  // A connection for the gate: new, or back from a worker.
  void enter(GatedConnection c) {
    {
      std::lock_guard lock(mu);
      incoming.push_back(std::move(c));
    }
    wake();
  }

  void to_workers(GatedConnection c) {
    {
      std::lock_guard lock(mu);
      ready.push_back(std::move(c));
    }
    ready_cv.notify_one();
  }

  // Places a connection from `incoming` (gate thread).
  void place(GatedConnection c) {
    if (request_arrived(c.pending, options.max_head_bytes, options.max_buffered_body) &&
        !c.pending.empty()) {
      return to_workers(std::move(c));
    }
    if (stopping.load() && c.pending.empty()) return close_connection(c.fd);
    if (waiting.size() >= options.max_waiting) return send_and_close(c.fd, busy_answer());
    Waiting w;
    w.arriving = !c.pending.empty();
    w.deadline = Clock::now() + std::chrono::milliseconds(w.arriving ? options.head_timeout_ms
                                                                     : options.idle_timeout_ms);
    const int fd = c.fd;
    w.conn = std::move(c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0) return close_connection(fd);
    waiting.emplace(fd, std::move(w));
  }

  void forget(int fd) {
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
    waiting.erase(fd);
  }

  // Reads what arrived on a waiting connection (gate thread).
  void on_readable(int fd) {
    auto it = waiting.find(fd);
    if (it == waiting.end()) return;
    Waiting& w = it->second;
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        if (!w.arriving) {
          w.arriving = true;
          w.deadline = Clock::now() + std::chrono::milliseconds(options.head_timeout_ms);
        }
        w.conn.pending.append(buf, static_cast<size_t>(n));
        // Stop at a whole request: what follows is read by its worker, or here later.
        if (static_cast<size_t>(n) < sizeof buf ||
            request_arrived(w.conn.pending, options.max_head_bytes, options.max_buffered_body)) {
          break;
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      // The client closed (or the connection failed): a request already complete is still
      // answered (its answer may be read after a half-close); anything else is dropped.
      if (!request_arrived(w.conn.pending, options.max_head_bytes, options.max_buffered_body) ||
          w.conn.pending.empty()) {
        forget(fd);
        close_connection(fd);
        return;
      }
      break;
    }
    if (request_arrived(w.conn.pending, options.max_head_bytes, options.max_buffered_body)) {
      GatedConnection c = std::move(w.conn);
      forget(fd);
      to_workers(std::move(c));
    }
  }

  void expire(Clock::time_point now) {
    std::vector<int> late;
    for (auto& [fd, w] : waiting) {
      if (w.deadline <= now || (stopping.load() && !w.arriving)) late.push_back(fd);
    }
    for (int fd : late) {
      const bool arriving = waiting[fd].arriving;
      forget(fd);
      if (arriving) {
        send_and_close(fd, timeout_answer());
      } else {
        close_connection(fd);
      }
    }
  }

  void gate_loop() {
    std::vector<epoll_event> events(256);
    while (true) {
      std::deque<GatedConnection> arrived;
      {
        std::lock_guard lock(mu);
        arrived.swap(incoming);
      }
      for (auto& c : arrived) place(std::move(c));
      const Clock::time_point now = Clock::now();
      expire(now);
      if (stopping.load()) {
        std::lock_guard lock(mu);
        if (waiting.empty() && incoming.empty() && ready.empty() && busy == 0) break;
      }
      int timeout_ms = 1000;
      for (const auto& [fd, w] : waiting) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(w.deadline - now).count() + 1;
        timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, timeout_ms));
      }
      const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<size_t>(i)].data.fd;
        if (fd == wake_fd) {
          uint64_t v;
          (void)!::read(wake_fd, &v, sizeof v);
          continue;
        }
        on_readable(fd);
      }
    }
    {
      std::lock_guard lock(mu);
      workers_done = true;
    }
    ready_cv.notify_all();
  }

  void work() {
    while (true) {
      GatedConnection c;
      {
        std::unique_lock lock(mu);
        ready_cv.wait(lock, [&] { return !ready.empty() || workers_done; });
        if (ready.empty()) return;
        c = std::move(ready.front());
        ready.pop_front();
        ++busy;
      }
      bool keep = true;
      // Pipelined requests already here are answered in order, by this thread.
      do {
        keep = serve(c);
      } while (keep && !c.pending.empty() &&
               request_arrived(c.pending, options.max_head_bytes, options.max_buffered_body));
      if (keep) {
        enter(std::move(c));
      } else {
        close_connection(c.fd);
      }
      {
        std::lock_guard lock(mu);
        --busy;
      }
      wake();  // the gate may be waiting for the last connection to end
    }
  }

  void drain() {
    if (drained.exchange(true)) return;
    stopping.store(true);
    wake();
    gate.join();
    for (auto& t : workers) t.join();
    ::close(epoll);
    ::close(wake_fd);
  }

  GateOptions options;
  Serve serve;
  Answer timeout_answer, busy_answer;
  int epoll = -1, wake_fd = -1;
  std::mutex mu;
  std::deque<GatedConnection> incoming;  // guarded by mu
  std::deque<GatedConnection> ready;     // guarded by mu
  int busy = 0;                          // guarded by mu: connections in a worker
  bool workers_done = false;             // guarded by mu
  std::condition_variable ready_cv;
  std::unordered_map<int, Waiting> waiting;  // gate thread only
  std::atomic<bool> stopping{false}, drained{false};
  std::thread gate;
  std::vector<std::thread> workers;
};

ConnectionGate::ConnectionGate(const GateOptions& options, Serve serve, Answer timeout_answer,
                               Answer busy_answer)
    : impl_(std::make_unique<Impl>(options, std::move(serve), std::move(timeout_answer),
                                   std::move(busy_answer))) {}

ConnectionGate::~ConnectionGate() { impl_->drain(); }

void ConnectionGate::admit(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  GatedConnection c;
  c.fd = fd;
  impl_->enter(std::move(c));
}

void ConnectionGate::drain() { impl_->drain(); }

}  // namespace deepcross
