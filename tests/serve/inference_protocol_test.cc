// The Open Inference Protocol routes of `deepcross serve` (serve/inference_protocol.h): every
// route, inference by fields (JSON and binary tensors) and by raw lines against `deepcross
// predict`, each error with its status and {"error": ...} body, and reload().
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/serve_fixture.h"

namespace deepcross::serve_test {
namespace {

using nlohmann::json;

ServeOptions named(std::string name) {
  ServeOptions o;
  o.model_name = std::move(name);
  o.max_rows = 100;
  return o;
}

HttpResponse call(ScoringServer& s, std::string method, std::string path, std::string body = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return s.handle(r);
}

// The per-field inputs of Criteo lines (label first): FP32 numbers (null when empty, or the
// bare NaN token on odd rows), BYTES strings ("" when empty), shape [N] or [N, 1].
json field_inputs(const std::vector<std::string>& lines, bool column_shape = false) {
  json inputs = json::array();
  for (size_t i = 1; i <= 39; ++i) {
    const bool numeric = i <= 13;
    json data = json::array();
    for (size_t r = 0; r < lines.size(); ++r) {
      const std::string v = split(lines[r], '\t')[i];
      json value = numeric ? (v.empty() ? json(nullptr) : json(std::stod(v))) : json(v);
      data.push_back(column_shape ? json::array({value}) : value);
    }
    json shape = column_shape ? json::array({lines.size(), 1}) : json::array({lines.size()});
    inputs.push_back({{"name", (numeric ? "I" : "C") + std::to_string(i)},
                      {"datatype", numeric ? "FP32" : "BYTES"},
                      {"shape", shape},
                      {"data", data}});
  }
  return inputs;
}

std::string infer_body(const json& inputs) {
  std::string body = json{{"id", "r1"}, {"inputs", inputs}}.dump();
  // Missing numbers as tritonclient writes them: the bare NaN token (for every other one).
  size_t at = 0;
  bool flip = false;
  while ((at = body.find("null", at)) != std::string::npos) {
    if ((flip = !flip)) body.replace(at, 4, "NaN");
    at += 3;
  }
  return body;
}

std::vector<double> output_data(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("outputs")) {
    ADD_FAILURE() << r.body;
    return {};
  }
  EXPECT_EQ(j["outputs"][0]["name"], "probability");
  EXPECT_EQ(j["outputs"][0]["datatype"], "FP32");
  return j["outputs"][0]["data"].get<std::vector<double>>();
}

void expect_equal_to_predict(const std::vector<double>& got, const std::string& model,
                             const std::vector<std::string>& lines) {
  const auto want = predict_with_binary(model, lines, 1);
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) EXPECT_NEAR(got[r], want[r][0], 1e-6) << "row " << r;
}

TEST(InferenceProtocol, HealthServerAndModelMetadataAndReadiness) {
  LiveServer s(models().binary_model, named("ctr"));
  ScoringServer& srv = *s.server;
  EXPECT_EQ(call(srv, "GET", "/v2/health/live").body, R"({"live":true})");
  EXPECT_EQ(call(srv, "GET", "/v2/health/ready").body, R"({"ready":true})");
  const json server = json::parse(call(srv, "GET", "/v2").body);
  EXPECT_EQ(server["name"], "deepcross");
  EXPECT_EQ(server["extensions"], json::array({"binary_tensor_data"}));
  for (const std::string path : {"/v2/models/ctr/ready", "/v2/models/ctr/versions/1/ready"}) {
    const HttpResponse r = call(srv, "GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, R"({"name":"ctr","ready":true})");
  }
  const HttpResponse meta = call(srv, "GET", "/v2/models/ctr");
  ASSERT_EQ(meta.status, 200);
  const json m = json::parse(meta.body);
  EXPECT_EQ(m["name"], "ctr");
  EXPECT_EQ(m["platform"], "deepcross");
  ASSERT_EQ(m["inputs"].size(), 39u);
  EXPECT_EQ(m["inputs"][0], (json{{"name", "I1"}, {"datatype", "FP32"}, {"shape", {-1}}}));
  EXPECT_EQ(m["inputs"][13], (json{{"name", "C14"}, {"datatype", "BYTES"}, {"shape", {-1}}}));
  EXPECT_EQ(m["outputs"],
            json::array({{{"name", "probability"}, {"datatype", "FP32"}, {"shape", {-1}}}}));

  // Over the network, HEAD included.
  const Reply live = http_call(s.port, "GET", "/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.header("content-type"), "application/json");
  EXPECT_EQ(http_call(s.port, "HEAD", "/v2/models/ctr").status, 200);
}

TEST(InferenceProtocol, ThreeClassesHaveAnNByClassesOutput) {
  LiveServer s(models().three_classes, named("three"));
  const json m = json::parse(call(*s.server, "GET", "/v2/models/three").body);
  EXPECT_EQ(m["outputs"][0]["shape"], json::array({-1, 3}));
  const std::vector<std::string> lines(models().lines.begin(), models().lines.begin() + 4);
  const HttpResponse r = call(*s.server, "POST", "/v2/models/three/infer",
                              infer_body(field_inputs(lines)));
  ASSERT_EQ(r.status, 200) << r.body;
  const json out = json::parse(r.body)["outputs"][0];
  EXPECT_EQ(out["shape"], json::array({4, 3}));
  const auto want = predict_with_binary(models().three_classes, lines, 3);
  ASSERT_EQ(out["data"].size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(out["data"][i].get<double>(), want[i / 3][i % 3], 1e-6);
}

TEST(InferenceProtocol, InferByFieldsEqualsPredict) {
  LiveServer s(models().binary_model, named("ctr"));
  const std::vector<std::string>& lines = models().lines;
  for (bool column : {false, true}) {
    const HttpResponse r =
        call(*s.server, "POST", "/v2/models/ctr/infer", infer_body(field_inputs(lines, column)));
    const json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j["model_name"], "ctr");
    EXPECT_EQ(j["id"], "r1");
    EXPECT_EQ(j["outputs"][0]["shape"], json::array({lines.size()}));
    expect_equal_to_predict(output_data(r), models().binary_model, lines);
  }
  // Over the network, without a Content-Type header.
  const Reply r = http_call(s.port, "POST", "/v2/models/ctr/versions/1/infer",
                            infer_body(field_inputs({lines[0]})));
  ASSERT_EQ(r.status, 200) << r.body;
  expect_equal_to_predict(json::parse(r.body)["outputs"][0]["data"].get<std::vector<double>>(),
                          models().binary_model, {lines[0]});
}

TEST(InferenceProtocol, AbsentFieldsAndUnseenValuesScoreAsPredictDoes) {
  LiveServer s(models().binary_model, named("ctr"));
  // Only I1 and C14 given: every other field is missing, as in an all-empty TSV line.
  const json inputs = json::array(
      {{{"name", "I1"}, {"datatype", "FP32"}, {"shape", {2}}, {"data", {3.0, nullptr}}},
       {{"name", "C14"}, {"datatype", "BYTES"}, {"shape", {2}}, {"data", {"never-seen", ""}}}});
  const std::vector<double> got =
      output_data(call(*s.server, "POST", "/v2/models/ctr/infer", json{{"inputs", inputs}}.dump()));
  expect_equal_to_predict(got, models().binary_model,
                          {"0\t3" + std::string(13, '\t') + "never-seen" + std::string(25, '\t'),
                           "0" + std::string(39, '\t')});
}

TEST(InferenceProtocol, InferByRawLinesEqualsPredict) {
  LiveServer s(models().binary_model, named("ctr"));
  const std::vector<std::string>& lines = models().lines;
  const json inputs = json::array(
      {{{"name", "lines"}, {"datatype", "BYTES"}, {"shape", {lines.size()}}, {"data", lines}}});
  const std::vector<double> got =
      output_data(call(*s.server, "POST", "/v2/models/ctr/infer", json{{"inputs", inputs}}.dump()));
  expect_equal_to_predict(got, models().binary_model, lines);
}

// The binary tensor extension: BYTES as 4-byte little-endian lengths and bytes, FP32 raw;
// the answer in binary when asked.
TEST(InferenceProtocol, BinaryTensorsInAndOut) {
  LiveServer s(models().binary_model, named("ctr"));
  const std::vector<std::string> lines(models().lines.begin(), models().lines.begin() + 5);
  json inputs = json::array();
  std::string binary;
  for (size_t i = 1; i <= 39; ++i) {
    const bool numeric = i <= 13;
    std::string bytes;
    for (const std::string& line : lines) {
      const std::string v = split(line, '\t')[i];
      if (numeric) {
        const float f = v.empty() ? std::numeric_limits<float>::quiet_NaN() : std::stof(v);
        bytes.append(reinterpret_cast<const char*>(&f), 4);
      } else {
        const uint32_t n = static_cast<uint32_t>(v.size());
        for (int k = 0; k < 4; ++k) bytes += static_cast<char>((n >> (8 * k)) & 0xFF);
        bytes += v;
      }
    }
    inputs.push_back({{"name", (numeric ? "I" : "C") + std::to_string(i)},
                      {"datatype", numeric ? "FP32" : "BYTES"},
                      {"shape", {lines.size()}},
                      {"parameters", {{"binary_data_size", bytes.size()}}}});
    binary += bytes;
  }
  const std::string head =
      json{{"inputs", inputs}, {"parameters", {{"binary_data_output", true}}}}.dump();
  const HttpResponse r = call(*s.server, "POST", "/v2/models/ctr/infer", head + binary,
                              {{"inference-header-content-length", std::to_string(head.size())}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/octet-stream");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Inference-Header-Content-Length");
  const size_t n = std::stoul(r.headers[0].second);
  const json j = json::parse(r.body.substr(0, n));
  EXPECT_EQ(j["outputs"][0]["parameters"]["binary_data_size"], 20);
  ASSERT_EQ(r.body.size(), n + 20);
  std::vector<double> got;
  for (size_t k = 0; k < 5; ++k) {
    float f;
    std::memcpy(&f, r.body.data() + n + 4 * k, 4);
    got.push_back(f);
  }
  expect_equal_to_predict(got, models().binary_model, lines);

  // A size that runs past the body, and bytes no input claims.
  const HttpResponse past = call(*s.server, "POST", "/v2/models/ctr/infer",
                                 head + binary.substr(0, binary.size() - 1),
                                 {{"inference-header-content-length", std::to_string(head.size())}});
  EXPECT_EQ(past.status, 400);
  EXPECT_NE(past.body.find("runs past the end"), std::string::npos) << past.body;
  const HttpResponse extra = call(*s.server, "POST", "/v2/models/ctr/infer", head + binary + "x",
                                  {{"inference-header-content-length", std::to_string(head.size())}});
  EXPECT_EQ(extra.status, 400);
  const HttpResponse bad_len = call(*s.server, "POST", "/v2/models/ctr/infer", head,
                                    {{"inference-header-content-length", "99999"}});
  EXPECT_EQ(bad_len.status, 400);
}

TEST(InferenceProtocol, EveryErrorHasItsStatusAndAnErrorString) {
  LiveServer s(models().binary_model, named("ctr"));
  const std::string infer = "/v2/models/ctr/infer";
  auto one = [](json input) { return json{{"inputs", json::array({input})}}.dump(); };
  const json i1 = {{"name", "I1"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {1.0}}};
  struct Case {
    std::string method, path, body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"GET", "/v2/models/other", "", 404, "unknown model 'other'"},
      {"POST", "/v2/models/other/infer", one(i1), 404, "unknown model 'other'"},
      {"GET", "/v2/models/ctr/versions/2", "", 404, "no version '2'"},
      {"GET", "/v2/models/ctr/elsewhere", "", 404, "unknown model 'ctr/elsewhere'"},
      {"GET", infer, "", 405, "allowed: POST"},
      {"POST", "/v2/health/live", "", 405, "allowed: GET, HEAD"},
      {"POST", infer, "{\"inputs\": [", 400, "malformed JSON"},
      {"POST", infer, std::string("{\"inputs\"\0: []}", 15), 400, "NUL byte"},
      {"POST", infer, std::string(100, '[') + std::string(100, ']'), 400, "nested deeper"},
      {"POST", infer, "[]", 400, "must be a JSON object"},
      {"POST", infer, "{}", 400, "\"inputs\" must be a non-empty array"},
      {"POST", infer, R"({"inputs": [], "id": 3})", 400, "\"id\" must be a string"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP16"}, {"shape", {1}}, {"data", {1}}}),
       400, "datatype FP16 is not supported"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {1, 2}}, {"data", {1, 2}}}),
       400, "must be [N] or [N, 1]"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {2}}, {"data", {1}}}),
       400, "1 elements for shape [2]"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {"x"}}}),
       400, "is not a number"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {1e300}}}),
       400, "not a finite float"},
      {"POST", infer, one({{"name", "C14"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {7}}}),
       400, "is not a string"},
      {"POST", infer, one({{"name", "C14"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {7}}}),
       400, "C14 is categorical"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {"7"}}}),
       400, "I1 is numeric"},
      {"POST", infer, one({{"name", "I99"}, {"datatype", "FP32"}, {"shape", {1}}, {"data", {7}}}),
       400, "unknown input 'I99'"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {1}}}), 400,
       "no \"data\""},
      {"POST", infer, json{{"inputs", {i1, i1}}}.dump(), 400, "I1 is given twice"},
      {"POST", infer,
       json{{"inputs",
             {i1, {{"name", "I2"}, {"datatype", "FP32"}, {"shape", {2}}, {"data", {1, 2}}}}}}
           .dump(),
       400, "has 2 rows"},
      {"POST", infer, json{{"inputs", {i1}}, {"outputs", {{{"name", "logit"}}}}}.dump(), 400,
       "unknown output"},
      {"POST", infer, one({{"name", "I1"}, {"datatype", "FP32"}, {"shape", {101}}, {"data", {}}}),
       413, "--max-rows"},
      {"POST", infer, one({{"name", "raw"}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {"1\t2"}}}),
       400, "expected 39 or 40 fields"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = call(*s.server, c.method, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << " -> " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    const json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.size() == 1 && j["error"].is_string()) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(c.message), std::string::npos)
        << c.body << " -> " << r.body;
    if (c.status == 405) {
      EXPECT_FALSE(r.allow.empty());
    }
  }
  // Unknown parameters are ignored; zero rows give an empty output.
  const HttpResponse empty = call(
      *s.server, "POST", infer,
      R"({"parameters": {"x": 1}, "inputs": [{"name": "I1", "datatype": "FP32", "shape": [0], "data": []}]})");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(json::parse(empty.body)["outputs"][0]["data"], json::array());
  // The server goes on, and counted the errors.
  EXPECT_EQ(call(*s.server, "GET", "/v2/health/live").status, 200);
  EXPECT_GE(s.server->metrics().requests(), cases.size() + 2);
}

TEST(InferenceProtocol, ReloadServesTheNewModelAndKeepsTheName) {
  LiveServer s(models().binary_model, named("ctr"));
  const std::vector<std::string> lines(models().lines.begin(), models().lines.begin() + 3);
  const std::string body = infer_body(field_inputs(lines));
  expect_equal_to_predict(output_data(call(*s.server, "POST", "/v2/models/ctr/infer", body)),
                          models().binary_model, lines);
  s.server->reload(load_model(models().three_classes));
  const HttpResponse r = call(*s.server, "POST", "/v2/models/ctr/infer", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["outputs"][0]["shape"], json::array({3, 3}));
  EXPECT_EQ(s.server->model().config.classes, 3);
  EXPECT_EQ(json::parse(call(*s.server, "GET", "/v2/models/ctr").body)["outputs"][0]["shape"],
            json::array({-1, 3}));
}

}  // namespace
}  // namespace deepcross::serve_test
