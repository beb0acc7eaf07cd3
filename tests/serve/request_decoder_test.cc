// Tests of RequestDecoder (serve/request.h): built once from a schema, it decodes like the
// one-call functions, any number of times and from several threads at once, applies its
// limits and the request reading options; categorical dictionaries past the linear-scan size
// keep first-appearance codes. And the reader option it relies on (ReadOptions::
// compute_sha256, data/reader.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "data/reader.h"
#include "serve/request.h"
#include "serve/request_test_support.h"

namespace deepcross {
namespace {

using namespace request_test;  // NOLINT: the shared helpers

TEST(RequestDecoder, EqualsTheOneCallFunctionsAndIsReusable) {
  const auto lines = sample_lines(20);
  std::string tsv;
  for (const auto& l : lines) tsv += l + "\n";
  const std::string json_body = sample_as_json(lines);
  const RequestSchema schema = criteo_schema();
  const RequestDecoder decoder(schema, {});
  const Table want_json = decode_request("application/json", json_body, schema, {});
  const Table want_tsv = decode_request("text/tab-separated-values", tsv, schema, {});
  for (int round = 0; round < 3; ++round) {  // no state carried from one call to the next
    expect_same_data(decoder.decode("application/json", json_body), want_json);
    expect_same_data(decoder.decode_json(json_body), want_json);
    expect_same_data(decoder.decode("text/tab-separated-values", tsv), want_tsv);
    expect_same_data(decoder.decode_tsv(tsv), want_tsv);
    EXPECT_EQ(decoder.decode_json(R"({"rows": [{"I1": 1}]})").rows, 1u);
  }
  // A copy shares the index and decodes the same.
  const RequestDecoder copy = decoder;
  expect_same_data(copy.decode_json(json_body), want_json);
  EXPECT_EQ(copy.schema().fields.size(), 39u);
  EXPECT_EQ(copy.schema().label_name, "label");
}

TEST(RequestDecoder, ErrorsAreTheSameAsTheOneCallFunctions) {
  const RequestDecoder decoder(criteo_schema(), {});
  expect_error(error_of([&] { decoder.decode_json(R"({"rows": [{"I1": 1}, {"C99": 2}]})"); }), 400,
               "unknown field \"C99\" in row 1", 1, "C99");
  expect_error(error_of([&] { decoder.decode_json(R"({"rows": [{"C14": 1, "C14": 2}]})"); }), 400,
               "duplicate field", 0, "C14");
  expect_error(error_of([&] { decoder.decode("text/plain", "x"); }), 415, "text/plain", -1, "");
  // The index knows the label, and nothing more.
  EXPECT_EQ(decoder.decode_json(R"({"rows": [{"label": 1, "I13": 2, "C39": "z"}]})").rows, 1u);
  expect_error(error_of([&] { decoder.decode_json(R"({"rows": [{"labels": 1}]})"); }), 400,
               "unknown field", 0, "labels");
}

TEST(RequestDecoder, AppliesItsLimitsAndAlwaysStopsAtABadTsvLine) {
  RequestLimits limits;
  limits.max_rows = 2;
  limits.max_body_bytes = 4000;
  RequestSchema schema = criteo_schema();
  schema.layout.bad_lines = BadLines::kSkip;  // a request never skips: every row is answered
  schema.layout.threads = 4;
  const RequestDecoder decoder(schema, limits);
  EXPECT_EQ(decoder.schema().layout.bad_lines, BadLines::kError);
  EXPECT_EQ(decoder.schema().layout.threads, 1);
  EXPECT_FALSE(decoder.schema().layout.compute_sha256);
  EXPECT_EQ(decoder.limits().max_rows, 2u);
  expect_error(error_of([&] { decoder.decode_json(R"({"rows": [{}, {}, {}]})"); }), 413,
               "more than 2 rows", -1, "");
  expect_error(error_of([&] { decoder.decode_json(std::string(4001, ' ')); }), 413,
               "exceeds the limit of 4000 bytes", -1, "");
  const auto lines = sample_lines(2);
  const RequestError e = error_of([&] { decoder.decode_tsv(lines[0] + "\n1\t2\n"); });
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.row, 1);  // not skipped
}

// The reader option behind the empty Table::sha256 of requests (data/reader.h).
TEST(ReadOptionsSha256, ParseTableHashesUnlessTold) {
  const auto lines = sample_lines(5);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  ReadOptions opts;
  const Table hashed = parse_table(text, "mem", opts);
  EXPECT_EQ(hashed.sha256.size(), 64u);
  EXPECT_EQ(hashed.sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
  opts.compute_sha256 = false;
  const Table plain = parse_table(text, "mem", opts);
  EXPECT_TRUE(plain.sha256.empty());
  expect_same_data(hashed, plain);  // everything else is the same
  // read_table too (the same sample as a file).
  const std::string path = std::string(DEEPCROSS_TESTDATA_DIR) + "/data/criteo_sample.tsv";
  EXPECT_TRUE(read_table({path}, opts).sha256.empty());
  opts.compute_sha256 = true;
  EXPECT_EQ(read_table({path}, opts).sha256.size(), 64u);
}

TEST(RequestDecoder, ManyDistinctValuesKeepFirstAppearanceCodes) {
  // 40 rows whose C14 cycles through 25 values (past the linear scan's 16) in a shuffled order.
  std::string body = "{\"rows\": [";
  std::vector<std::string> want_dictionary;
  std::vector<uint32_t> want_codes;
  for (int r = 0; r < 40; ++r) {
    const std::string v = std::string("v").append(std::to_string((r * 7) % 25));
    const auto it = std::find(want_dictionary.begin(), want_dictionary.end(), v);
    want_codes.push_back(static_cast<uint32_t>(it - want_dictionary.begin()));
    if (it == want_dictionary.end()) want_dictionary.push_back(v);
    body += (r ? ", " : "") + std::string("{\"C14\": \"") + v + "\"}";
  }
  body += "]}";
  const RequestDecoder decoder(criteo_schema(), {});
  const Table t = decoder.decode_json(body);
  ASSERT_EQ(t.categorical.size(), 26u);
  EXPECT_EQ(t.categorical[0].dictionary, want_dictionary);
  EXPECT_EQ(t.categorical[0].codes, want_codes);
  EXPECT_EQ(t.categorical[1].dictionary, std::vector<std::string>{""});  // C15 absent: missing
}

TEST(RequestDecoder, OneDecoderServesSeveralThreadsAtOnce) {
  const auto lines = sample_lines(30);
  const RequestDecoder decoder(criteo_schema(), {});
  std::vector<std::string> bodies;
  for (size_t i = 0; i < 6; ++i) {
    bodies.push_back(sample_as_json({lines.begin() + i * 5, lines.begin() + i * 5 + 5}));
  }
  std::vector<Table> want;
  for (const std::string& b : bodies) want.push_back(decoder.decode_json(b));
  std::vector<std::vector<Table>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (const std::string& b : bodies) got[t].push_back(decoder.decode_json(b));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& tables : got) {
    ASSERT_EQ(tables.size(), 20 * bodies.size());
    for (size_t i = 0; i < tables.size(); ++i) expect_same_data(tables[i], want[i % bodies.size()]);
  }
}

}  // namespace
}  // namespace deepcross
