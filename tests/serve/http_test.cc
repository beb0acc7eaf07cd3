// Tests of the HTTP/1.1 transport (serve/http.h) with an echo handler: framing (Content-Length,
// chunked), keep-alive and pipelining, 100-continue, HEAD, every refusal with its status, the
// limits and timeouts, a throwing handler, binding errors and a stop that answers in-flight
// requests first.
#include "serve/http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "deepcross/error.h"
#include "serve/http_client.h"

namespace deepcross {
namespace {

using serve_test::http_call;
using serve_test::Reply;
using serve_test::request;
using serve_test::TestConnection;

// Echoes "METHOD PATH|BODY"; "/throw" throws, "/wait" blocks until `release` is set.
struct EchoServer {
  explicit EchoServer(HttpOptions options = {})
      : http(
            [this](const HttpRequest& r) {
              if (r.path == "/throw") throw std::runtime_error("boom");
              if (r.path == "/wait") {
                entered.set_value();
                release_future.wait();
              }
              HttpResponse res;
              res.content_type = "text/plain";
              res.body = r.method + " " + r.path + "|" + r.body;
              if (r.path == "/close") res.close = true;
              if (const std::string* h = r.header("x-echo")) res.body += "|" + *h;
              return res;
            },
            [this](int status, std::string_view message) {
              ++rejected;
              HttpResponse res;
              res.status = status;
              res.body = nlohmann::json{{"error", {{"message", message}}}}.dump();
              return res;
            },
            options) {
    port = http.listen("127.0.0.1", 0);
    thread = std::thread([this] { http.run(); });
  }
  ~EchoServer() {
    http.stop();
    if (!released) release.set_value();
    thread.join();
  }

  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
  bool released = false;
  std::atomic<int> rejected{0};
  HttpServer http;
  int port = 0;
  std::thread thread;
};

// Sends `bytes` on a new connection and returns the one reply (status 0 when none).
Reply raw(int port, std::string_view bytes) {
  TestConnection c(port);
  if (!c.send(bytes)) return {};
  return c.read_reply().value_or(Reply{});
}

std::string error_message(const Reply& r) {
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "(not an error body: " + r.body + ")";
  return j["error"].value("message", "");
}

TEST(HttpServer, AnswersGetAndPostWithContentLength) {
  EchoServer s;
  Reply r = http_call(s.port, "GET", "/a/b?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /a/b|");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("content-length"), "9");
  r = http_call(s.port, "POST", "/p", "hello\r\n\r\nworld", "text/plain");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /p|hello\r\n\r\nworld");
}

TEST(HttpServer, HeaderNamesAreCaseInsensitiveAndValuesTrimmed) {
  EchoServer s;
  const Reply r = raw(s.port, "GET / HTTP/1.1\r\nX-ECHO: \t spaced value \t\r\n\r\n");
  EXPECT_EQ(r.body, "GET /||spaced value");
}

TEST(HttpServer, HeadHasLengthButNoBody) {
  EchoServer s;
  TestConnection c(s.port);
  ASSERT_TRUE(c.send(request("HEAD", "/x")));
  std::optional<Reply> r = c.read_reply(/*head_only=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "8");  // "HEAD /x|"
  // The next response starts right after the head: nothing else was sent.
  ASSERT_TRUE(c.send(request("GET", "/y")));
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /y|");
}

TEST(HttpServer, KeepsConnectionsAliveAndAnswersPipelinedRequestsInOrder) {
  EchoServer s;
  TestConnection c(s.port);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(request("POST", "/k", std::to_string(i), "text/plain")));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "POST /k|" + std::to_string(i));
    EXPECT_EQ(r->header("connection"), "");
  }
  // Two requests in one write, plus an empty line before the second (tolerated).
  ASSERT_TRUE(c.send(request("POST", "/one", "1", "text/plain") + "\r\n" + request("GET", "/two")));
  std::optional<Reply> a = c.read_reply();
  std::optional<Reply> b = c.read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "POST /one|1");
  EXPECT_EQ(b->body, "GET /two|");
}

TEST(HttpServer, ClosesWhenAskedAndForHttp10) {
  EchoServer s;
  {
    TestConnection c(s.port);
    ASSERT_TRUE(c.send(request("GET", "/", {}, {}, "Connection: close\r\n")));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    TestConnection c(s.port);
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "GET /old|");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    TestConnection c(s.port);  // HTTP/1.0 keep-alive stays open
    ASSERT_TRUE(c.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "keep-alive");
    ASSERT_TRUE(c.send("GET /b HTTP/1.0\r\n\r\n"));
    r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "GET /b|");
  }
  {
    TestConnection c(s.port);  // the handler asks to close
    ASSERT_TRUE(c.send(request("GET", "/close")));
    ASSERT_TRUE(c.read_reply());
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(HttpServer, DecodesChunkedBodies) {
  EchoServer s;
  const std::string head = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  Reply r = raw(s.port, head + "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /c|hello 0123456789");
  // Trailer fields are skipped; the connection stays usable.
  TestConnection c(s.port);
  ASSERT_TRUE(c.send(head + "3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n" + request("GET", "/n")));
  std::optional<Reply> a = c.read_reply();
  std::optional<Reply> b = c.read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "POST /c|abc");
  EXPECT_EQ(b->body, "GET /n|");
}

TEST(HttpServer, AnswersExpect100ContinueBeforeTheBody) {
  EchoServer s;
  TestConnection c(s.port);
  ASSERT_TRUE(c.send("POST /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::optional<Reply> interim = c.read_reply(false, 60000, /*skip_interim=*/false);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("data"));
  const std::optional<Reply> r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /e|data");
}

// Each malformed request: its status, the rejecter's JSON body, and a closed connection; the
// server answers the next connection normally.
TEST(HttpServer, RefusesMalformedRequestsAndKeepsServing) {
  HttpOptions o;
  o.max_body_bytes = 100;
  o.max_header_bytes = 1024;
  EchoServer s(o);
  struct Case {
    std::string bytes;
    int status;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, "request line"},
      {"GET  / HTTP/1.1\r\n\r\n", 400, "request line"},
      {"GET /\x7f HTTP/1.1\r\n\r\n", 400, "target"},
      {"G@T / HTTP/1.1\r\n\r\n", 400, "method"},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400, "request line"},
      {"GET / HTTQ/1.1\r\n\r\n", 400, "HTTP version"},
      {"GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0"},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "header"},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "header"},
      {"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400, "folding"},
      {"GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n", 400, "control character"},
      {"GET / HTTP/1.1\nHost: x\r\n\r\n", 400, "bare CR or LF"},
      {"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "conflicting"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Transfer-Encoding"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n", 400, "chunked"},
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, "over the limit of 100 bytes"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, "limit"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + std::string(100, 'a') +
           "\r\n1\r\nb\r\n0\r\n\r\n",
       413, "over the limit"},
      {"GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431, "head"},
  };
  int expected_rejections = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.bytes.substr(0, 80));
    TestConnection conn(s.port);
    ASSERT_TRUE(conn.send(c.bytes));
    const std::optional<Reply> r = conn.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_NE(error_message(*r).find(c.message_part), std::string::npos) << r->body;
    EXPECT_TRUE(conn.closed_by_peer());
    EXPECT_EQ(s.rejected.load(), ++expected_rejections);
    EXPECT_EQ(http_call(s.port, "GET", "/alive").body, "GET /alive|");
  }
  // A body of exactly the limit is fine.
  EXPECT_EQ(http_call(s.port, "POST", "/", std::string(100, 'x'), "text/plain").status, 200);
}

TEST(HttpServer, AHandlerExceptionBecomes500AndTheServerGoesOn) {
  EchoServer s;
  const Reply r = http_call(s.port, "GET", "/throw");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_message(r), "internal error");
  EXPECT_EQ(http_call(s.port, "GET", "/ok").status, 200);
}

TEST(HttpServer, TimesOutSlowRequestsAndIdleConnections) {
  HttpOptions o;
  o.read_timeout_ms = 100;
  o.idle_timeout_ms = 100;
  o.linger_ms = 10;
  EchoServer s(o);
  {
    TestConnection c(s.port);  // a head that never ends
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
  }
  {
    TestConnection c(s.port);  // a body that never comes
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
  }
  {
    TestConnection c(s.port);  // idle after one request: closed silently
    ASSERT_TRUE(c.send(request("GET", "/")));
    ASSERT_TRUE(c.read_reply());
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(HttpServer, ListenErrorsNameTheAddress) {
  EchoServer s;
  HttpServer other([](const HttpRequest&) { return HttpResponse(); },
                   [](int, std::string_view) { return HttpResponse(); }, {});
  try {
    other.listen("127.0.0.1", s.port);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(s.port));
    EXPECT_EQ(e.where(), "Address already in use");
  }
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  EXPECT_THROW(other.listen("192.0.2.1", 0), DataError);
  // A name resolves; the bound port is reported.
  EXPECT_GT(other.listen("localhost", 0), 0);
}

TEST(HttpServer, StopAnswersInFlightRequestsThenReturns) {
  EchoServer s;
  TestConnection idle(s.port);  // an idle keep-alive connection is closed by the stop
  ASSERT_TRUE(idle.send(request("GET", "/")));
  ASSERT_TRUE(idle.read_reply());

  TestConnection busy(s.port);
  ASSERT_TRUE(busy.send(request("POST", "/wait", "payload", "text/plain")));
  s.entered.get_future().wait();  // the handler is running
  s.http.stop();
  EXPECT_TRUE(idle.closed_by_peer());
  s.release.set_value();
  s.released = true;
  const std::optional<Reply> r = busy.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /wait|payload");
  EXPECT_EQ(r->header("connection"), "close");
  s.thread.join();  // run() returned
  s.thread = std::thread([] {});
  EXPECT_FALSE(TestConnection(s.port).connected());  // no longer listening
}

TEST(HttpServer, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

}  // namespace
}  // namespace deepcross
