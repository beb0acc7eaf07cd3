// Test support for the serve tests: models trained once with the binary (shared by every test
// file of serve_tests), request bodies made from their rows, `deepcross predict` for
// comparison, parsing of answers, and an in-process server on a free port.
//
//   const Models& m = models();                      // trained on first use
//   LiveServer s(m.binary_model);                    // ScoringServer::run on its own thread
//   Reply r = http_call(s.port, "POST", "/v1/predict", json_body({m.lines[0]}), kJson);
//   expect_near_rows(parse_answer(r, 1), predict_with_binary(m.binary_model, {m.lines[0]}, 1));
#pragma once

#include <gtest/gtest.h>

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "e2e/cli_util.h"
#include "io/model_io.h"
#include "serve/http_client.h"
#include "serve/server.h"

namespace deepcross::serve_test {

using e2e::CliRun;
using e2e::run_deepcross;
using e2e::split;
using e2e::split_lines;
using e2e::TempDir;

inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kTsv = "text/tab-separated-values";

// ---- the models, trained once ----

struct Models {
  TempDir dir;
  std::string binary_model;  // one output
  std::string three_classes;
  std::vector<std::string> lines;  // the synth rows (with labels), the first 60
};

inline const Models& models() {
  static const std::unique_ptr<Models> m = [] {
    auto s = std::make_unique<Models>();
    const std::string data = s->dir.file("d.tsv");
    CliRun r =
        run_deepcross({"synth", "--rows", "2000", "--cardinality-scale", "0.01", "--output", data});
    EXPECT_TRUE(e2e::succeeded(r));
    s->binary_model = s->dir.file("m.dcn");
    r = run_deepcross({"train", "--data", data, "--model", s->binary_model, "--epochs", "2",
                       "--batch-size", "256", "--threads", "1"});
    EXPECT_TRUE(e2e::succeeded(r));
    // The same rows with labels 0, 1, 2 (by row number) for a three-class model.
    std::vector<std::string> all = split_lines(e2e::read_file(data));
    std::string three;
    for (size_t i = 0; i < all.size(); ++i) {
      three += std::to_string((i * 7 + i / 3) % 3) + all[i].substr(all[i].find('\t')) + "\n";
    }
    e2e::write_file(s->dir.file("d3.tsv"), three);
    s->three_classes = s->dir.file("m3.dcn");
    r = run_deepcross({"train", "--data", s->dir.file("d3.tsv"), "--model", s->three_classes,
                       "--classes", "3", "--epochs", "2", "--batch-size", "256", "--threads", "1"});
    EXPECT_TRUE(e2e::succeeded(r));
    all.resize(60);
    s->lines = all;
    return s;
  }();
  return *m;
}

// ---- bodies ----

inline std::string tsv_body(const std::vector<std::string>& lines) {
  return e2e::join_lines(lines);
}

// Criteo TSV rows (with label) as {"rows": [...]}: numbers as written, categorical values as
// JSON strings; an empty field is absent, null or "" in turn (all mean missing); every third
// row gives I2 as a numeric string.
inline std::string json_body(const std::vector<std::string>& lines) {
  std::string body = "{\"rows\": [";
  for (size_t r = 0; r < lines.size(); ++r) {
    const std::vector<std::string> f = split(lines[r], '\t');
    body += r ? ", {" : "{";
    bool first = true;
    for (size_t i = 1; i < f.size(); ++i) {
      const bool numeric = i <= 13;
      std::string name(1, numeric ? 'I' : 'C');
      name += std::to_string(i);
      std::string value;
      if (f[i].empty()) {
        if ((r + i) % 3 == 0) continue;
        value = (r + i) % 3 == 1 ? "null" : "\"\"";
      } else if (numeric && !(i == 2 && r % 3 == 0)) {
        value = f[i];
      } else {
        value = nlohmann::json(f[i]).dump();
      }
      body += (first ? "\"" : ", \"") + name + "\": " + value;
      first = false;
    }
    body += "}";
  }
  return body + "]}";
}

// `deepcross predict` on `lines`: one vector of class probabilities per row.
inline std::vector<std::vector<double>> predict_with_binary(const std::string& model,
                                                            const std::vector<std::string>& lines,
                                                            size_t classes) {
  TempDir dir;
  e2e::write_file(dir.file("rows.tsv"), tsv_body(lines));
  const CliRun r = run_deepcross(
      {"predict", "--model", model, "--data", dir.file("rows.tsv"), "--threads", "1"});
  EXPECT_TRUE(e2e::succeeded(r));
  return e2e::parse_predictions(r.out, classes).value_or(std::vector<std::vector<double>>{});
}

// The predictions of a 200 answer, one vector per row; each value must be the shortest text
// of a float (so it reads back as exactly that float).
inline std::vector<std::vector<double>> parse_answer(const Reply& r, size_t classes) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  std::vector<std::vector<double>> out;
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("predictions") || j.size() != 1) {
    ADD_FAILURE() << "not a predictions body: " << r.body;
    return out;
  }
  for (const nlohmann::json& p : j["predictions"]) {
    if (classes == 1) {
      out.push_back({p.get<double>()});
    } else {
      EXPECT_EQ(p.size(), classes);
      out.push_back(p.get<std::vector<double>>());
    }
  }
  // Shortest float text: parse each number as float and print it back.
  std::string numbers = r.body;
  for (char& c : numbers) c = (c == '[' || c == ']' || c == ',' || c == '}') ? ' ' : c;
  std::istringstream in(numbers.substr(numbers.find(':') + 1));
  std::string token;
  while (in >> token) {
    float f = 0;
    const auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), f);
    EXPECT_TRUE(ec == std::errc() && p == token.data() + token.size()) << token;
    char back[32];
    const auto res = std::to_chars(back, back + sizeof back, f);
    EXPECT_EQ(std::string(back, res.ptr), token);
  }
  return out;
}

inline void expect_near_rows(const std::vector<std::vector<double>>& got,
                             const std::vector<std::vector<double>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << "row " << r;
    for (size_t c = 0; c < got[r].size(); ++c) {
      EXPECT_NEAR(got[r][c], want[r][c], 1e-6) << "row " << r << " class " << c;
    }
  }
}

// ---- an in-process server on a free port ----

struct LiveServer {
  explicit LiveServer(const std::string& model, ServeOptions o = {}) {
    o.port = 0;
    server = std::make_unique<ScoringServer>(load_model(model), o);
    port = server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~LiveServer() { stop_and_join(); }
  // Stops the server and waits for run() to return.
  void stop_and_join() {
    server->stop();
    if (thread.joinable()) thread.join();
  }
  std::unique_ptr<ScoringServer> server;
  int port = 0;
  std::thread thread;
};

inline nlohmann::json json_of(const Reply& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

}  // namespace deepcross::serve_test
