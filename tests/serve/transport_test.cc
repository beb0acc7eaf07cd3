// Tests of how `deepcross serve` uses its HTTP layer (cpp-httplib, serve/server.h): what the
// layer refuses comes back as our JSON error bodies with the right status (413 by
// Content-Length, as chunked or compressed bodies arrive; 400 for malformed requests; 405/404
// for methods httplib does not know; 501 for other transfer codings), bodies without framing
// are empty, the keep-alive and timeout options take effect, and stop() answers what is in
// flight and closes connections at any moment. httplib's own HTTP parsing is not retested.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "deepcross/error.h"
#include "serve/http_client.h"
#include "serve/serve_fixture.h"
#include "serve/server.h"

namespace deepcross {
namespace {

using namespace serve_test;  // NOLINT: the fixture (models, bodies, LiveServer, the client)

// `text` compressed in the gzip format.
std::string gzip(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// `body` in chunks of `size` bytes (chunked transfer coding), ending with the last chunk.
std::string chunked(std::string_view body, size_t size) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += size) {
    const std::string_view part = body.substr(i, size);
    char hex[20];
    std::snprintf(hex, sizeof hex, "%zx", part.size());
    out += std::string(hex) + "\r\n" + std::string(part) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// The request head of a POST to /v1/predict, with `headers` (whole lines).
std::string predict_head(std::string_view headers, std::string_view type = kJson) {
  return "POST /v1/predict HTTP/1.1\r\nHost: t\r\nContent-Type: " + std::string(type) + "\r\n" +
         std::string(headers) + "\r\n";
}

// The error message of a JSON error answer (checks its form).
std::string error_message(const Reply& r) {
  EXPECT_EQ(r.header("content-type"), "application/json") << r.body;
  const nlohmann::json j = json_of(r);
  if (!j.is_object() || j.size() != 1 || !j.contains("error") || !j["error"].is_object() ||
      !j["error"].contains("message")) {
    ADD_FAILURE() << "not an error body: " << r.body;
    return {};
  }
  return j["error"]["message"].get<std::string>();
}

// One reply to `bytes` sent on a fresh connection (status 0 when none came in 20 s).
Reply raw(int port, std::string_view bytes, bool head_only = false) {
  TestConnection c(port);
  if (!c.send(bytes)) return {};
  return c.read_reply(head_only, 20000).value_or(Reply{});
}

// ---- bodies and their limits ----

TEST(ServeTransport, ChunkedCompressedAndContinuedBodiesArePredictedLikePlainOnes) {
  const Models& m = models();
  LiveServer s(m.binary_model);
  const std::vector<std::string> rows(m.lines.begin(), m.lines.begin() + 12);
  const std::string body = json_body(rows);
  const Reply plain = http_call(s.port, "POST", "/v1/predict", body, kJson);
  ASSERT_EQ(parse_answer(plain, 1).size(), 12u);

  Reply r = raw(s.port, predict_head("Transfer-Encoding: chunked\r\n") + chunked(body, 100));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, plain.body);
  const std::string packed = gzip(body);
  r = raw(s.port, predict_head("Content-Encoding: gzip\r\nContent-Length: " +
                               std::to_string(packed.size()) + "\r\n") +
                      packed);
  EXPECT_EQ(r.body, plain.body);
  r = raw(s.port, predict_head("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n") +
                      chunked(packed, 64));
  EXPECT_EQ(r.body, plain.body);
  const std::string tsv = tsv_body(rows);
  r = raw(s.port, predict_head("Transfer-Encoding: chunked\r\n", kTsv) + chunked(tsv, 333));
  EXPECT_EQ(r.body, plain.body);

  // Expect: 100-continue: the interim answer comes before the body is sent.
  TestConnection c(s.port);
  ASSERT_TRUE(c.send(predict_head(
      "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n")));
  const std::optional<Reply> interim = c.read_reply(false, 20000, /*skip_interim=*/false);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send(body));
  const std::optional<Reply> answer = c.read_reply();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body, plain.body);
}

TEST(ServeTransport, BodiesOverTheLimitAre413WhicheverWayTheyCome) {
  const Models& m = models();
  ServeOptions o;
  o.max_body_bytes = 4096;
  LiveServer s(m.binary_model, o);
  const std::string good = json_body({m.lines[0]});
  const std::string good_answer = http_call(s.port, "POST", "/v1/predict", good, kJson).body;
  ASSERT_NE(good_answer.find("predictions"), std::string::npos);
  const std::string big(5000, ' ');

  {  // By Content-Length: refused before the body is stored; the connection goes on.
    TestConnection c(s.port);
    ASSERT_TRUE(c.send(request("POST", "/v1/predict", big, kJson)));
    std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(error_message(*r),
              "request body of 5000 bytes exceeds the limit of 4096 bytes (--max-body-bytes)");
    EXPECT_EQ(r->header("connection"), "");
    ASSERT_TRUE(c.send(request("POST", "/v1/predict", good, kJson)));
    r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, good_answer);
  }
  // As chunks arrive, and as a compressed body inflates (the decoded bytes count): refused
  // at the limit, and the connection closes (the rest of the body was not read).
  const std::string packed = gzip(std::string(100000, ' '));
  ASSERT_LT(packed.size(), 4096u);
  const std::vector<std::string> over = {
      predict_head("Transfer-Encoding: chunked\r\n") + chunked(big, 1000),
      predict_head("Content-Encoding: gzip\r\nContent-Length: " + std::to_string(packed.size()) +
                   "\r\n") +
          packed,
  };
  for (const std::string& bytes : over) {
    SCOPED_TRACE(bytes.substr(0, 90));
    TestConnection c(s.port);
    ASSERT_TRUE(c.send(bytes));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(error_message(*r), "request body exceeds the limit of 4096 bytes (--max-body-bytes)");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_EQ(r->header("keep-alive"), "");
  }
  // A body of exactly the limit gets through (and is then malformed JSON: 400).
  const Reply at_limit = raw(
      s.port, predict_head("Transfer-Encoding: chunked\r\n") + chunked(big.substr(0, 4096), 999));
  EXPECT_EQ(at_limit.status, 400);
  EXPECT_NE(error_message(at_limit).find("malformed JSON"), std::string::npos);
  EXPECT_EQ(s.server->metrics().errors(413), 3u);
  EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", good, kJson).body, good_answer);
}

TEST(ServeTransport, RequestsWithoutFramingHaveNoBody) {
  LiveServer s(models().binary_model);
  // No Content-Length, no Transfer-Encoding: answered at once, not when the client closes.
  Reply r = raw(s.port, "DELETE /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  // A POST must say how long its body is: 411, at once.
  for (const char* type : {"application/json", "text/tab-separated-values"}) {
    r = raw(s.port, std::string("POST /v1/predict HTTP/1.1\r\nContent-Type: ") + type + "\r\n\r\n");
    EXPECT_EQ(r.status, 411);
    EXPECT_NE(error_message(r).find("needs a Content-Length"), std::string::npos);
    EXPECT_EQ(r.header("connection"), "close");
  }
  // Another transfer coding cannot be read: 501, and the connection closes.
  TestConnection c(s.port);
  ASSERT_TRUE(c.send(predict_head("Transfer-Encoding: gzip\r\n") + "xyz"));
  const std::optional<Reply> refused = c.read_reply();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 501);
  EXPECT_EQ(error_message(*refused), "unsupported Transfer-Encoding 'gzip' (only chunked)");
  EXPECT_EQ(refused->header("connection"), "close");
  EXPECT_EQ(s.server->metrics().errors(501), 1u);
}

// ---- what httplib refuses, as our error bodies ----

TEST(ServeTransport, MethodsHttplibDoesNotKnowAre405Or404) {
  LiveServer s(models().binary_model);
  struct Case {
    std::string bytes;
    int status;
    std::string allow, message;
  };
  const std::vector<Case> cases = {
      {"BREW /health HTTP/1.1\r\n\r\n", 405, "GET, HEAD",
       "method BREW is not allowed on /health (allowed: GET, HEAD)"},
      {"TRACE /v1/predict HTTP/1.1\r\n\r\n", 405, "POST",
       "method TRACE is not allowed on /v1/predict (allowed: POST)"},
      {"CONNECT /metrics?x=1 HTTP/1.1\r\n\r\n", 405, "GET, HEAD",
       "method CONNECT is not allowed on /metrics (allowed: GET, HEAD)"},
      {"OPTIONS /v1/model HTTP/1.1\r\n\r\n", 405, "GET, HEAD",
       "method OPTIONS is not allowed on /v1/model (allowed: GET, HEAD)"},
      {"BREW /pot HTTP/1.1\r\n\r\n", 404, "", "no such path '/pot'"},
      {"GET /a%0Ab HTTP/1.1\r\n\r\n", 404, "", "no such path '/a\nb'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.bytes);
    const Reply r = raw(s.port, c.bytes);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(error_message(r), c.message);
    EXPECT_EQ(r.header("allow"), c.allow);
  }
  EXPECT_EQ(s.server->metrics().errors(405), 4u);
  EXPECT_EQ(s.server->metrics().errors(404), 2u);
}

TEST(ServeTransport, MalformedRequestsAre400AndTheServerGoesOn) {
  LiveServer s(models().binary_model);
  const std::vector<std::string> cases = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET /health\r\n\r\n",
      "G@T /health HTTP/1.1\r\n\r\n",
      "GET /health HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n",  // over 8 KiB
  };
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(bytes.substr(0, 40));
    const Reply r = raw(s.port, bytes);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_message(r),
              "malformed or incomplete HTTP request (request line, version or header fields)");
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);
  }
  const Reply long_target = raw(s.port, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(long_target.status, 414);
  EXPECT_EQ(error_message(long_target), "request target too long");
  EXPECT_EQ(s.server->metrics().errors(400), cases.size());
  EXPECT_EQ(s.server->metrics().errors(414), 1u);
}

// ---- connections ----

TEST(ServeTransport, KeepAliveFollowsTheOptions) {
  ServeOptions o;
  o.keep_alive_requests = 3;
  o.idle_timeout_s = 30;
  LiveServer s(models().binary_model, o);
  {
    TestConnection c(s.port);
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(c.send(request("GET", "/health")));
      const std::optional<Reply> r = c.read_reply();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      if (i < 3) {
        EXPECT_EQ(r->header("keep-alive"), "timeout=30, max=3");
        EXPECT_EQ(r->header("connection"), "");
      } else {
        EXPECT_EQ(r->header("connection"), "close");  // the third and last one
      }
    }
    EXPECT_TRUE(c.closed_by_peer());
  }
  {  // An idle connection is closed after idle_timeout_s.
    ServeOptions quick;
    quick.idle_timeout_s = 1;
    LiveServer q(models().binary_model, quick);
    TestConnection c(q.port);
    ASSERT_TRUE(c.send(request("GET", "/health")));
    ASSERT_TRUE(c.read_reply());
    EXPECT_TRUE(c.closed_by_peer(20000));
  }
  {  // HTTP/1.0: closed after the answer unless asked to keep it.
    TestConnection c(s.port);
    ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\n\r\n"));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_EQ(r->header("keep-alive"), "");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    TestConnection c(s.port);
    ASSERT_TRUE(c.send("GET /health HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    ASSERT_TRUE(c.read_reply());
    ASSERT_TRUE(c.send("GET /v1/model HTTP/1.0\r\n\r\n"));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  {  // Connection: close from the client.
    TestConnection c(s.port);
    ASSERT_TRUE(c.send(request("GET", "/health", {}, {}, "Connection: close\r\n")));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(ServeTransport, AStalledRequestIs408AfterTheHeadTimeout) {
  ServeOptions o;
  o.head_timeout_ms = 300;
  o.idle_timeout_s = 1;
  LiveServer s(models().binary_model, o);
  TestConnection head(s.port);
  ASSERT_TRUE(head.send("GET /health HTTP/1.1\r\nHost: t\r\n"));  // never finished
  std::optional<Reply> r = head.read_reply(false, 20000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_EQ(error_message(*r), "the request did not arrive within 300 ms");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(head.closed_by_peer(20000));
  TestConnection body(s.port);
  ASSERT_TRUE(body.send(predict_head("Content-Length: 100\r\n") + "{\"rows\""));
  r = body.read_reply(false, 20000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(body.closed_by_peer(20000));
  EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);
  EXPECT_EQ(s.server->metrics().errors(408), 2u);
}

// A body longer than the gate waits for (256 KiB), stalled: the worker's read timeout
// bounds it, and the answer is 400.
TEST(ServeTransport, AStalledLongBodyIs400AfterTheReadTimeout) {
  ServeOptions o;
  o.read_timeout_ms = 300;
  LiveServer s(models().binary_model, o);
  TestConnection body(s.port);
  ASSERT_TRUE(body.send(predict_head("Content-Length: 1000000\r\n") + "{\"rows\""));
  const std::optional<Reply> r = body.read_reply(false, 20000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_message(*r),
            "malformed or incomplete request body (framing, Content-Encoding or read timeout)");
  EXPECT_EQ(r->header("connection"), "close");
}

TEST(ServeTransport, StopAnswersWhatIsInFlightAndClosesIdleConnections) {
  const Models& m = models();
  ServeOptions o;
  o.idle_timeout_s = 1;
  LiveServer s(m.binary_model, o);
  TestConnection idle(s.port);
  ASSERT_TRUE(idle.send(request("GET", "/health")));
  ASSERT_TRUE(idle.read_reply());
  std::vector<std::string> rows;
  for (int i = 0; i < 10; ++i) rows.insert(rows.end(), m.lines.begin(), m.lines.end());
  TestConnection busy(s.port);
  // In flight for certain: all but the body's last bytes before stop(), the rest after. (A
  // whole request sent before stop() was sometimes answered first: 2 runs in 30.)
  const std::string whole = request("POST", "/v1/predict", tsv_body(rows), kTsv);
  ASSERT_TRUE(busy.send(whole.substr(0, whole.size() - 16)));
  ASSERT_TRUE(busy.wait_until_acknowledged());
  s.server->stop();
  ASSERT_TRUE(busy.send(whole.substr(whole.size() - 16)));
  const std::optional<Reply> r = busy.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(parse_answer(*r, 1).size(), rows.size());
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(busy.closed_by_peer());
  EXPECT_TRUE(idle.closed_by_peer());  // at its idle timeout
  s.stop_and_join();                   // run() returned
  EXPECT_FALSE(TestConnection(s.port).connected());
}

TEST(ServeTransport, StopWorksBeforeRunAndTwice) {
  ServeOptions o;
  o.port = 0;
  {
    ScoringServer server(load_model(models().binary_model), o);
    const int port = server.listen();
    EXPECT_GT(port, 0);
    server.stop();
    server.stop();
    server.run();  // returns at once
    EXPECT_FALSE(TestConnection(port).connected());
  }
  {
    ScoringServer server(load_model(models().binary_model), o);
    server.stop();  // not even listening
    server.run();
  }
  {  // A signal's stop arriving while run() starts.
    ScoringServer server(load_model(models().binary_model), o);
    server.listen();
    std::thread t([&] { server.run(); });
    server.stop();
    server.stop();
    t.join();
  }
}

TEST(ServeTransport, ListenNamesTheAddressAndReason) {
  LiveServer s(models().binary_model);
  ServeOptions o;
  o.port = s.port;
  ScoringServer second(load_model(models().binary_model), o);
  try {
    second.listen();
    FAIL() << "a second server on a port in use";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(s.port));
    EXPECT_EQ(e.where(), "Address already in use");
  }
  o.host = "192.0.2.1";  // TEST-NET-1: no address of this machine
  o.port = 0;
  ScoringServer elsewhere(load_model(models().binary_model), o);
  try {
    elsewhere.listen();
    FAIL() << "bound an address of another machine";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on 192.0.2.1:0");
    EXPECT_FALSE(e.where().empty());
  }
  o.host = "localhost";  // a name resolves
  ScoringServer local(load_model(models().binary_model), o);
  const int port = local.listen();
  EXPECT_GT(port, 0);
  EXPECT_GT(local.listen(), 0);  // listening again replaces the socket
  local.stop();
  local.run();
}

// ---- hostile clients (issue 18) ----

// Slow clients (slowloris: a request head a few bytes at a time) wait in the connection gate,
// not in a thread: with more of them than the server has threads, a well-behaved client is
// still answered at once, and the slow ones get 408 at the head timeout.
TEST(ServeHostile, SlowClientsDoNotStarveOthers) {
  ServeOptions o;
  o.threads = 1;
  o.max_connections = 4;  // 4 workers; 40 slow clients
  o.head_timeout_ms = 3000;
  LiveServer s(models().binary_model, o);
  const std::string body = json_body({models().lines[0]});
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<TestConnection>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<TestConnection>(s.port));
    ASSERT_TRUE(slow.back()->send("GET /health HTTP/1.1\r\nHo"));
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < slow.size(); ++k) {
      ASSERT_TRUE(slow[k]->send("s"))  // a byte now and then
          << "round " << round << ", connection " << k << ", after "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s";
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Reply r = http_call(s.port, "POST", "/v1/predict", body, kJson);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.status, 200);
    EXPECT_LT(ms, 1000) << "a well-behaved client waited behind slow ones";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& c : slow) {
    const std::optional<Reply> r = c->read_reply(false, 20000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
  }
}

// Pipelined requests (several sent before any answer) are each answered, in order.
TEST(ServeHostile, PipelinedRequestsAreAnsweredInOrder) {
  LiveServer s(models().binary_model);
  const std::string body = json_body({models().lines[0]});
  const std::string predict = predict_head("Content-Length: " + std::to_string(body.size()) + "\r\n") + body;
  TestConnection c(s.port);
  ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n" + predict +
                     "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n" + predict +
                     "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::vector<int> expected = {200, 200, 404, 200, 200};
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::optional<Reply> r = c.read_reply(false, 20000);
    ASSERT_TRUE(r) << "no answer to request " << i;
    EXPECT_EQ(r->status, expected[i]) << i;
    if (i == 1) EXPECT_NE(r->body.find("predictions"), std::string::npos);
  }
  EXPECT_TRUE(c.closed_by_peer(20000));
}

// Framing the server cannot trust is refused at once, with the status that says why.
TEST(ServeHostile, BadFramingIsRefusedAtOnce) {
  ServeOptions o;
  o.read_timeout_ms = 30000;  // an answer that waited for a timeout would take this long
  LiveServer s(models().binary_model, o);
  struct Case {
    std::string head;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"Content-Length: -1\r\n", 400, "malformed Content-Length '-1'"},
      {"Content-Length: 99999999999999999999999\r\n", 400, "malformed Content-Length"},
      {"Content-Length: 12abc\r\n", 400, "malformed Content-Length"},
      {"Content-Length: 5\r\nContent-Length: 6\r\n", 400, "malformed Content-Length"},
      {"Content-Length: 11\r\nContent-Encoding: compress\r\n", 415,
       "unsupported Content-Encoding 'compress'"},
      {"Content-Length: 11\r\nContent-Encoding: zstd\r\n", 415, "unsupported Content-Encoding"},
      {"", 411, "needs a Content-Length"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.head);
    const auto t0 = std::chrono::steady_clock::now();
    TestConnection conn(s.port);
    ASSERT_TRUE(conn.send(predict_head(c.head) + "{\"rows\":[]}"));
    const std::optional<Reply> r = conn.read_reply(false, 20000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status);
    EXPECT_NE(error_message(*r).find(c.message), std::string::npos) << r->body;
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5);
  }
}

// More connections waiting for their requests than max_waiting: the next one is told 503.
TEST(ServeHostile, TooManyWaitingConnectionsAre503) {
  ServeOptions o;
  o.max_waiting = 5;
  LiveServer s(models().binary_model, o);
  std::vector<std::unique_ptr<TestConnection>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<TestConnection>(s.port));
    ASSERT_TRUE(idle.back()->send("G"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  TestConnection extra(s.port);
  const std::optional<Reply> r = extra.read_reply(false, 20000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  idle.clear();  // they leave; the server serves again
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);
}

}  // namespace
}  // namespace deepcross
