// ConnectionGate: the part of `deepcross serve` that waits for requests to arrive, so that
// slow clients cost a buffer and not a thread.
//
// cpp-httplib 0.11 serves each connection with one thread from start to end: it reads a
// request's head byte by byte, each read bounded only by the read timeout, so a client that
// sends one header byte every few seconds holds a thread for as long as it likes, and a few
// hundred such clients hold every thread (slowloris). Its read timeout, keep-alive limits and
// task queue (new_task_queue) cannot bound the time a whole request takes to arrive, and a
// bigger pool only moves the limit. What httplib does offer is the parsing and answering of one
// request from any httplib::Stream (Server::process_request, protected) and the hand-over of
// each accepted socket (Server::process_and_close_socket, virtual): serve/server.cc overrides
// the hand-over to admit() the socket here.
//
//   - One gate thread waits (epoll) on every connection that has no complete request yet,
//     reading what arrives into the connection's buffer. A request is complete when its head
//     has arrived and, for a Content-Length up to max_buffered_body, its body
//     (request_arrived()). Complete requests go to the worker threads.
//   - Deadlines: a keep-alive connection waits idle_timeout_ms for its next request's first
//     byte (then it is closed); from that byte, the request must arrive within
//     head_timeout_ms, or it is answered with `timeout_answer` (408) and closed.
//   - Workers answer the requests in a connection's buffer in order (pipelined requests each
//     get their answer), reading more from the socket only for a body beyond
//     max_buffered_body or chunked (bounded by the server's read timeout); the connection
//     then returns here, or is closed.
//   - At most max_waiting connections wait at once; one more is answered `busy_answer` (503)
//     and closed.
//   - drain(): idle connections close at once; requests on their way keep arriving (within
//     their deadline) and are answered; returns when every connection has ended.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace deepcross {

// A client connection and the bytes read from it but not yet used by a request.
struct GatedConnection {
  int fd = -1;
  std::string pending;
  int requests = 0;  // answered so far
};

struct GateOptions {
  int head_timeout_ms = 10000;            // a request, from its first byte to its last
  int idle_timeout_ms = 5000;             // keep-alive: waiting for the next request
  size_t max_head_bytes = 64 << 10;       // no end of head by then: handed on (and refused)
  size_t max_buffered_body = 256 << 10;   // bodies up to this are awaited here too
  int workers = 4;                        // threads answering complete requests
  size_t max_waiting = 4096;              // connections waiting at once
};

class ConnectionGate {
 public:
  // Answers the complete request at the front of c.pending (and reads the rest of a longer
  // body from c.fd), leaving what follows in c.pending; returns whether to keep the
  // connection open.
  using Serve = std::function<bool(GatedConnection& c)>;
  // The bytes of a whole HTTP answer (status line to body) sent before closing.
  using Answer = std::function<std::string()>;

  ConnectionGate(const GateOptions& options, Serve serve, Answer timeout_answer,
                 Answer busy_answer);
  ~ConnectionGate();  // drain()s
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Takes an accepted socket (any thread).
  void admit(int fd);
  // See above; idempotent.
  void drain();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether `bytes` start with a whole request head ("\r\n\r\n" or "\n\n") and, when it declares
// a Content-Length of at most `max_body`, that many body bytes. Also true for a head longer
// than `max_head` without its end, and for a Content-Length that is not a number (the HTTP
// layer refuses both at once).
bool request_arrived(std::string_view bytes, size_t max_head, size_t max_body);

}  // namespace deepcross
