// Tests of `deepcross serve` (serve/server.h, tools/serve_command.cc): every endpoint, every
// error code with its body, predictions equal to `deepcross predict` (JSON and TSV bodies,
// unseen categories, three classes), concurrent clients, the metrics, and the binary's
// startup line, port-in-use error and clean stop on SIGTERM/SIGINT with a request in flight.
// A tiny model is trained once with the binary (synth 2000 rows, 2 epochs: serve_fixture.h).
// The HTTP layer's refusals and connection handling: transport_test.cc.
#include "serve/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "deepcross/error.h"
#include "e2e/cli_util.h"
#include "serve/http_client.h"
#include "serve/serve_fixture.h"

namespace deepcross {
namespace {

using namespace serve_test;  // NOLINT: the fixture (models, bodies, LiveServer, the client)

// ---- endpoints ----

TEST(ServeEndpoints, HealthModelInfoAndHead) {
  LiveServer s(models().binary_model);
  Reply r = http_call(s.port, "GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(json_of(r), nlohmann::json({{"status", "ok"}}));

  r = http_call(s.port, "GET", "/v1/model");
  EXPECT_EQ(r.status, 200);
  const CliRun info = run_deepcross({"info", "--model", models().binary_model});
  ASSERT_TRUE(e2e::succeeded(info));
  // The info JSON without the file-system paths of the training run (INTERFACE.md).
  nlohmann::json expected = nlohmann::json::parse(info.out);
  for (const char* path_option :
       {"data", "valid", "test", "model", "history", "curves", "report", "cache", "config"}) {
    expected["config"].erase(path_option);
  }
  EXPECT_EQ(json_of(r), expected);
  EXPECT_EQ(r.body.find('/'), std::string::npos) << r.body;
  EXPECT_EQ(json_of(r)["fields"].size(), 39u);

  r = http_call(s.port, "HEAD", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "15");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(http_call(s.port, "GET", "/health?verbose=1").status, 200);  // query ignored
}

TEST(ServePredict, JsonAndTsvEqualTheBinarysPredict) {
  const Models& m = models();
  ServeOptions o;
  o.batch_rows = 16;  // several forward passes per request
  LiveServer s(m.binary_model, o);
  const std::vector<std::vector<double>> want = predict_with_binary(m.binary_model, m.lines, 1);
  ASSERT_EQ(want.size(), m.lines.size());

  const Reply json = http_call(s.port, "POST", "/v1/predict", json_body(m.lines), kJson);
  const std::vector<std::vector<double>> from_json = parse_answer(json, 1);
  expect_near_rows(from_json, want);

  const Reply tsv = http_call(s.port, "POST", "/v1/predict", tsv_body(m.lines), kTsv);
  EXPECT_EQ(parse_answer(tsv, 1), from_json);  // the same Table: identical numbers
  // Without the label column, and with content-type parameters and odd case.
  std::vector<std::string> unlabeled;
  for (const std::string& l : m.lines) unlabeled.push_back(l.substr(l.find('\t') + 1));
  const Reply tsv39 = http_call(s.port, "POST", "/v1/predict", tsv_body(unlabeled),
                                "Text/Tab-Separated-Values; charset=utf-8");
  EXPECT_EQ(parse_answer(tsv39, 1), from_json);
  const Reply json_cs = http_call(s.port, "POST", "/v1/predict", json_body(m.lines),
                                  "application/json; charset=utf-8");
  EXPECT_EQ(parse_answer(json_cs, 1), from_json);
  // One row at a time gives the same numbers as the whole batch.
  for (size_t i = 0; i < 5; ++i) {
    const Reply one = http_call(s.port, "POST", "/v1/predict", json_body({m.lines[i]}), kJson);
    expect_near_rows(parse_answer(one, 1), {want[i]});
  }
}

TEST(ServePredict, UnseenCategoriesScoreThroughOov) {
  const Models& m = models();
  LiveServer s(m.binary_model);
  std::vector<std::string> unseen_a, unseen_b;
  for (size_t r = 0; r < 8; ++r) {
    std::vector<std::string> f = split(m.lines[r], '\t');
    std::vector<std::string> g = f;
    for (size_t i = 14; i < f.size(); i += 2) {
      f[i] = "never-seen-" + std::to_string(r * 100 + i);
      g[i] = "also-unseen-" + std::to_string(i);
    }
    unseen_a.push_back(e2e::join(f, '\t'));
    unseen_b.push_back(e2e::join(g, '\t'));
  }
  const auto a =
      parse_answer(http_call(s.port, "POST", "/v1/predict", json_body(unseen_a), kJson), 1);
  expect_near_rows(a, predict_with_binary(m.binary_model, unseen_a, 1));
  // Two different unseen values are the same OOV id: identical scores.
  const auto b =
      parse_answer(http_call(s.port, "POST", "/v1/predict", tsv_body(unseen_b), kTsv), 1);
  EXPECT_EQ(a, b);
  // A row with every field absent is all-missing, and scores too.
  const auto empty = parse_answer(
      http_call(s.port, "POST", "/v1/predict", R"({"rows": [{}, {"label": 1}]})", kJson), 1);
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0], empty[1]);
}

TEST(ServePredict, ThreeClassesGiveListsOfClassProbabilities) {
  const Models& m = models();
  LiveServer s(m.three_classes);
  std::vector<std::string> lines(m.lines.begin(), m.lines.begin() + 20);
  for (std::string& l : lines) l = "2" + l.substr(l.find('\t'));  // labels 0..2
  const auto got =
      parse_answer(http_call(s.port, "POST", "/v1/predict", json_body(lines), kJson), 3);
  expect_near_rows(got, predict_with_binary(m.three_classes, lines, 3));
  for (const auto& row : got) EXPECT_NEAR(row[0] + row[1] + row[2], 1.0, 1e-5);
  EXPECT_EQ(parse_answer(http_call(s.port, "POST", "/v1/predict", tsv_body(lines), kTsv), 3), got);
}

TEST(ServePredict, EmptyRequestsGiveNoPredictions) {
  LiveServer s(models().binary_model);
  Reply r = http_call(s.port, "POST", "/v1/predict", R"({"rows": []})", kJson);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"predictions":[]})");
  r = http_call(s.port, "POST", "/v1/predict", "", kTsv);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"predictions":[]})");
}

// ---- errors ----

struct ErrorCase {
  std::string method, path, content_type, body;
  int status;
  std::string message_part;
  long row;           // -1: no "row" key
  std::string field;  // "": no "field" key; "*": not checked
};

TEST(ServeErrors, EveryErrorHasItsStatusAndBodyAndTheServerGoesOn) {
  const Models& m = models();
  ServeOptions o;
  o.max_rows = 5;
  o.max_body_bytes = 4096;
  LiveServer s(m.binary_model, o);
  const std::string good = json_body({m.lines[0], m.lines[1]});
  const std::string good_answer = http_call(s.port, "POST", "/v1/predict", good, kJson).body;
  std::vector<std::string> six(m.lines.begin(), m.lines.begin() + 6);
  std::string bad_tsv = m.lines[0] + "\n" + e2e::with_field(m.lines[1], 3, "abc") + "\n";

  const std::vector<ErrorCase> cases = {
      {"POST", "/v1/predict", "application/json", R"({"rows": [)", 400, "", -1, ""},
      {"POST", "/v1/predict", "application/json", "[1]", 400, "", -1, ""},
      {"POST", "/v1/predict", "application/json", R"({"rows": [{"I1": 1}, {"C14": {}}]})", 400, "",
       1, "C14"},
      {"POST", "/v1/predict", "application/json", R"({"rows": [{"I3": "abc"}]})", 400, "abc", 0,
       "I3"},
      {"POST", "/v1/predict", "application/json", R"({"rows": [{"C99": "x"}]})", 400, "C99", 0,
       "C99"},
      {"POST", "/v1/predict", "text/tab-separated-values", bad_tsv, 400, "abc", 1, "I3"},
      {"POST", "/v1/predict", "text/tab-separated-values", "1\t2\n", 400, "fields", 0, "*"},
      {"POST", "/v1/predict", "application/json", json_body(six), 413, "", -1, ""},
      {"POST", "/v1/predict", "text/tab-separated-values", tsv_body(six), 413, "", -1, ""},
      {"POST", "/v1/predict", "application/json", std::string(5000, ' '), 413, "4096", -1, ""},
      {"POST", "/v1/predict", "text/plain", good, 415, "text/plain", -1, ""},
      {"POST", "/v1/predict", "", good, 415, "Content-Type", -1, ""},
      {"GET", "/v2/predict", "", "", 404, "/v2/predict", -1, ""},
      {"GET", "/", "", "", 404, "", -1, ""},
      {"GET", "/v1/predict", "", "", 405, "GET", -1, ""},
      {"POST", "/health", "application/json", "{}", 405, "POST", -1, ""},
      {"PUT", "/v1/model", "", "", 405, "PUT", -1, ""},
      {"DELETE", "/metrics", "", "", 405, "DELETE", -1, ""},
      {"BREW", "/health", "", "", 405, "BREW", -1, ""},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path + " " + c.content_type + " " + c.body.substr(0, 60));
    const Reply r = http_call(s.port, c.method, c.path, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.header("content-type"), "application/json");
    const nlohmann::json j = json_of(r);
    ASSERT_TRUE(j.is_object() && j.size() == 1 && j.contains("error")) << r.body;
    const nlohmann::json& e = j["error"];
    ASSERT_TRUE(e.contains("message") && e["message"].is_string()) << r.body;
    EXPECT_FALSE(e["message"].get<std::string>().empty());
    EXPECT_NE(e["message"].get<std::string>().find(c.message_part), std::string::npos) << r.body;
    if (c.row >= 0) {
      EXPECT_EQ(e.value("row", -1L), c.row) << r.body;
    } else {
      EXPECT_FALSE(e.contains("row")) << r.body;
    }
    if (c.field == "*") {
      // whether the reader names a column for a wrong width is its own business
    } else if (!c.field.empty()) {
      EXPECT_EQ(e.value("field", ""), c.field) << r.body;
    } else {
      EXPECT_FALSE(e.contains("field")) << r.body;
    }
    if (c.status == 405) {
      EXPECT_EQ(r.header("allow"), c.path == "/v1/predict" ? "POST" : "GET, HEAD");
    }
    // Still serving, and still right.
    EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);
    EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", good, kJson).body, good_answer);
  }
  // Five rows (the limit) are fine.
  std::vector<std::string> five(m.lines.begin(), m.lines.begin() + 5);
  EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", json_body(five), kJson).status, 200);
  const ServeMetrics& metrics = s.server->metrics();
  EXPECT_EQ(metrics.errors(400), 7u);
  EXPECT_EQ(metrics.errors(413), 3u);
  EXPECT_EQ(metrics.errors(415), 2u);
  EXPECT_EQ(metrics.errors(404), 2u);
  EXPECT_EQ(metrics.errors(405), 5u);
}

TEST(ServeErrors, AKeepAliveConnectionSurvivesRequestErrors) {
  LiveServer s(models().binary_model);
  TestConnection c(s.port);
  const std::vector<std::pair<std::string, int>> sequence = {
      {request("POST", "/v1/predict", "{", kJson), 400},
      {request("GET", "/nope"), 404},
      {request("POST", "/v1/predict", "x", "text/csv"), 415},
      {request("GET", "/v1/predict"), 405},
      {request("POST", "/v1/predict", json_body({models().lines[0]}), kJson), 200},
  };
  for (const auto& [bytes, status] : sequence) {
    ASSERT_TRUE(c.send(bytes));
    const std::optional<Reply> r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->header("connection"), "");  // kept open
  }
}

TEST(ServeErrors, HandleWithoutTheNetwork) {
  LiveServer s(models().binary_model);
  HttpRequest req;
  req.method = "GET";
  req.path = "/elsewhere";
  EXPECT_EQ(s.server->handle(req).status, 404);
  req.path = "/health";
  EXPECT_EQ(s.server->handle(req).body, R"({"status":"ok"})");
  req.method = "POST";
  req.path = "/v1/predict";
  req.headers = {{"content-type", "application/json"}};
  req.body = R"({"rows": [{"I1": 1e39}]})";
  const HttpResponse r = s.server->handle(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["field"], "I1");
  EXPECT_EQ(s.server->model().config.classes, 1);
}

// ---- metrics ----

// The value of the sample line `name` (with labels) in Prometheus text; -1 when absent.
double sample(const std::string& text, const std::string& name) {
  for (const std::string& line : split_lines(text)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      return std::stod(line.substr(name.size() + 1));
    }
  }
  return -1;
}

TEST(ServeMetricsText, CountsRequestsRowsErrorsAndLatency) {
  const Models& m = models();
  ServeOptions o;
  o.max_body_bytes = 1000;
  LiveServer s(m.binary_model, o);
  EXPECT_EQ(
      http_call(s.port, "POST", "/v1/predict", tsv_body({m.lines[0], m.lines[1]}), kTsv).status,
      200);
  EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", tsv_body({m.lines[2]}), kTsv).status, 200);
  EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);
  EXPECT_EQ(http_call(s.port, "GET", "/x").status, 404);
  EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", std::string(2000, 'x'), kTsv).status, 413);
  EXPECT_EQ(http_call(s.port, "POST", "/v1/predict", "{]", kJson).status, 400);

  const Reply r = http_call(s.port, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = r.body;
  EXPECT_EQ(sample(t, "deepcross_requests_total"), 6);  // the /metrics request comes after
  EXPECT_EQ(sample(t, "deepcross_rows_total"), 3);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"400\"}"), 1);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"404\"}"), 1);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"405\"}"), 0);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"413\"}"), 1);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"415\"}"), 0);
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"500\"}"), 0);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_count"), 6);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_bucket{le=\"+Inf\"}"), 6);
  EXPECT_GT(sample(t, "deepcross_request_seconds_sum"), 0);
  EXPECT_NE(t.find("# TYPE deepcross_request_seconds histogram"), std::string::npos);
  EXPECT_NE(t.find("# TYPE deepcross_requests_total counter"), std::string::npos);
  double previous = 0;
  for (double bound : ServeMetrics::kBucketBounds) {
    char le[32];
    const auto res = std::to_chars(le, le + sizeof le, bound, std::chars_format::fixed);
    const double v =
        sample(t, "deepcross_request_seconds_bucket{le=\"" + std::string(le, res.ptr) + "\"}");
    EXPECT_GE(v, previous) << bound;  // cumulative
    previous = v;
  }
  EXPECT_LE(previous, 6);
  EXPECT_EQ(s.server->metrics().requests(), 7u);  // now with the /metrics request
}

TEST(ServeMetricsText, RecordAndRenderDirectly) {
  ServeMetrics m;
  m.record(200, 0.00005, 3);
  m.record(200, 0.002, 1);
  m.record(503, 20.0, 0);
  m.record(42, -1.0, 0);  // odd status and time: counted as 500 in the first bucket
  EXPECT_EQ(m.requests(), 4u);
  EXPECT_EQ(m.rows(), 4u);
  EXPECT_EQ(m.errors(503), 1u);
  EXPECT_EQ(m.errors(500), 1u);
  EXPECT_EQ(m.errors(200), 0u);
  const std::string t = m.render();
  EXPECT_EQ(sample(t, "deepcross_errors_total{code=\"503\"}"), 1);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_bucket{le=\"0.0001\"}"), 2);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_bucket{le=\"0.0025\"}"), 3);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_bucket{le=\"10\"}"), 3);
  EXPECT_EQ(sample(t, "deepcross_request_seconds_bucket{le=\"+Inf\"}"), 4);
  EXPECT_NEAR(sample(t, "deepcross_request_seconds_sum"), 20.00205, 1e-9);
}

// ---- concurrency ----

TEST(ServeConcurrency, ConcurrentClientsGetTheSequentialAnswers) {
  const Models& m = models();
  ServeOptions o;
  o.threads = 3;
  LiveServer s(m.binary_model, o);
  constexpr int kRequests = 24;
  std::vector<std::string> bodies, expected;
  for (int i = 0; i < kRequests; ++i) {
    const size_t first = static_cast<size_t>(i) % 40, count = 1 + static_cast<size_t>(i) % 7;
    std::vector<std::string> rows(m.lines.begin() + first, m.lines.begin() + first + count);
    bodies.push_back(i % 2 ? json_body(rows) : tsv_body(rows));
    expected.push_back(
        http_call(s.port, "POST", "/v1/predict", bodies.back(), i % 2 ? kJson : kTsv).body);
    ASSERT_NE(expected.back().find("predictions"), std::string::npos);
  }
  constexpr int kClients = 6;
  std::vector<std::vector<std::string>> got(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      TestConnection conn(s.port);  // keep-alive: every request on one connection
      for (int k = 0; k < kRequests; ++k) {
        const int i = (k + c * 5) % kRequests;
        std::string answer = "(no answer)";
        if (conn.send(request("POST", "/v1/predict", bodies[i], i % 2 ? kJson : kTsv))) {
          if (auto r = conn.read_reply()) answer = r->body;
        }
        got[c].push_back(std::to_string(i) + ":" + answer);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) {
    ASSERT_EQ(got[c].size(), static_cast<size_t>(kRequests));
    for (int k = 0; k < kRequests; ++k) {
      const int i = (k + c * 5) % kRequests;
      EXPECT_EQ(got[c][k], std::to_string(i) + ":" + expected[i]) << "client " << c;
    }
  }
  EXPECT_EQ(s.server->metrics().requests(), static_cast<uint64_t>(kRequests * (kClients + 1)));
}

// ---- the binary ----

// `deepcross serve ...` in the background, stderr captured; the port read from its startup
// line.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<std::string> argv_s = {DEEPCROSS_BINARY, "serve"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv_s[0].c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(err[1]);
    err_fd_ = err[0];
    // The startup line: "serving MODEL on http://HOST:PORT (N threads)".
    while (pid_ > 0 && err_.find('\n') == std::string::npos && read_some(60000)) {
    }
    std::smatch match;
    const std::string first = err_.substr(0, err_.find('\n'));
    if (std::regex_match(
            first, match,
            std::regex(R"(serving .* on http://127\.0\.0\.1:(\d+) \(\d+ threads\))"))) {
      port_ = std::stoi(match[1]);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
  }

  int port() const { return port_; }
  const std::string& err() const { return err_; }

  // Sends `sig` and returns at once.
  void signal(int sig) { kill(pid_, sig); }

  // Sends `signal` and waits for the exit; returns the exit status (-1: killed by a signal or
  // still running after 60 s, then killed).
  int signal_and_wait(int signal) {
    kill(pid_, signal);
    while (read_some(60000)) {  // until stderr closes: the process ended
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  bool read_some(int timeout_ms) {
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    err_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  int port_ = 0;
  bool exited_ = false;
  std::string err_;
};

TEST(ServeBinary, StartupLineThenCleanStopOnSigtermAndSigint) {
  const std::string& model = models().binary_model;
  for (int sig : {SIGTERM, SIGINT}) {
    ServeProcess p({"--model", model, "--port", "0", "--threads", "2"});
    ASSERT_GT(p.port(), 0) << p.err();
    EXPECT_EQ(p.err(), "serving " + model + " on http://127.0.0.1:" + std::to_string(p.port()) +
                           " (2 threads)\n");
    EXPECT_EQ(http_call(p.port(), "GET", "/health").status, 200);
    EXPECT_EQ(p.signal_and_wait(sig), 0) << p.err();
    EXPECT_NE(p.err().find("stopped after 1 requests"), std::string::npos) << p.err();
  }
}

TEST(ServeBinary, FinishesTheRequestInFlightWhenStopped) {
  const Models& m = models();
  ServeProcess p({"--model", m.binary_model, "--port", "0", "--threads", "1"});
  ASSERT_GT(p.port(), 0) << p.err();
  TestConnection c(p.port());
  ASSERT_TRUE(c.send(request("GET", "/health")));  // accepted and idle in keep-alive
  ASSERT_TRUE(c.read_reply());
  std::vector<std::string> rows;
  for (int i = 0; i < 10; ++i) rows.insert(rows.end(), m.lines.begin(), m.lines.end());
  const std::string body = tsv_body(rows);  // 600 rows
  const std::string whole = request("POST", "/v1/predict", body, kTsv);
  // In flight for certain: all but the body's last bytes, acknowledged by the server's kernel;
  // then the signal, and the rest only once the server has stopped listening (its handler has
  // run). A whole request sent before the signal could be answered first on a busy machine.
  ASSERT_TRUE(c.send(whole.substr(0, whole.size() - 16)));
  ASSERT_TRUE(c.wait_until_acknowledged());
  p.signal(SIGTERM);
  for (int i = 0; i < 6000 && TestConnection(p.port()).connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(TestConnection(p.port()).connected()) << "still listening after SIGTERM";
  ASSERT_TRUE(c.send(whole.substr(whole.size() - 16)));
  const int status = p.signal_and_wait(SIGTERM);
  const std::optional<Reply> r = c.read_reply();
  ASSERT_TRUE(r) << p.err();
  EXPECT_EQ(parse_answer(*r, 1).size(), 600u);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(status, 0) << p.err();
}

TEST(ServeBinary, PortInUseIsAnErrorNamingTheAddress) {
  LiveServer s(models().binary_model);
  const std::string port = std::to_string(s.port);
  const CliRun r = run_deepcross({"serve", "--model", models().binary_model, "--port", port});
  EXPECT_TRUE(e2e::failed_with(r, 1, "cannot listen on 127.0.0.1:" + port + " ("));
  EXPECT_EQ(e2e::error_line(r),
            "deepcross: error: cannot listen on 127.0.0.1:" + port + " (Address already in use)");
  EXPECT_EQ(http_call(s.port, "GET", "/health").status, 200);  // the first one is unharmed
}

TEST(ServeBinary, MissingModelIsAnError) {
  TempDir dir;
  const CliRun r = run_deepcross({"serve", "--model", dir.file("absent.dcn"), "--port", "0"});
  EXPECT_TRUE(e2e::failed_with(r, 1, "absent.dcn"));
}

TEST(ServeServer, ListenErrorFromTheLibrary) {
  LiveServer s(models().binary_model);
  ServeOptions o;
  o.port = s.port;
  ScoringServer second(load_model(models().binary_model), o);
  EXPECT_THROW(second.listen(), DataError);
}

}  // namespace
}  // namespace deepcross
