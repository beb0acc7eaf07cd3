// Tests of the request decoder (serve/request.h): JSON and TSV bodies to Tables, every error
// class with its status, message, row and field, and hostile bodies. The reusable decoder
// object and the reader's hashing option: request_decoder_test.cc.
#include "serve/request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "serve/request_test_support.h"

namespace deepcross {
namespace {

using namespace request_test;  // NOLINT: the shared helpers

// Two small fields, in an order that mixes kinds.
const std::vector<FieldSpec> kSmall = {{"C2", true}, {"I1", false}, {"C1", true}};

Table json(std::string_view body, const RequestLimits& limits = {}) {
  return decode_json_request(body, kSmall, "label", limits);
}

RequestError json_error(std::string_view body, const RequestLimits& limits = {}) {
  return error_of([&] { json(body, limits); });
}

// --- JSON: values -----------------------------------------------------------------------

TEST(JsonRequest, ColumnsFollowTheFieldOrderAndInternInRowOrder) {
  const Table t = json(R"({"rows": [{"C1": "b", "I1": 2}, {"C2": "x"}, {"C1": "a", "C2": null},
                                     {"C1": "b", "I1": -3.5, "label": 1}]})");
  EXPECT_EQ(t.rows, 4u);
  EXPECT_FALSE(t.has_label);
  EXPECT_TRUE(t.labels.empty());
  ASSERT_EQ(t.numeric.size(), 1u);
  ASSERT_EQ(t.categorical.size(), 2u);
  EXPECT_EQ(t.categorical[0].name, "C2");
  EXPECT_EQ(t.categorical[1].name, "C1");
  EXPECT_EQ(t.numeric[0].name, "I1");
  EXPECT_EQ(t.categorical[0].dictionary, (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 1, 0, 0}));
  EXPECT_EQ(t.categorical[1].dictionary, (std::vector<std::string>{"b", "", "a"}));
  EXPECT_EQ(t.categorical[1].codes, (std::vector<uint32_t>{0, 1, 2, 0}));
  const auto& v = t.numeric[0].values;
  EXPECT_EQ(v[0], 2.0f);
  EXPECT_TRUE(std::isnan(v[1]));
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], -3.5f);
  EXPECT_EQ(t.sources, std::vector<std::string>{"request"});
  EXPECT_EQ(t.source_rows, std::vector<size_t>{4});
  EXPECT_TRUE(t.sha256.empty());  // request bodies are not fingerprinted
}

TEST(JsonRequest, ZeroRowsGiveAnEmptyTableWithTheColumns) {
  const Table t = json(R"( {"rows": []} )");
  EXPECT_EQ(t.rows, 0u);
  ASSERT_EQ(t.categorical.size(), 2u);
  EXPECT_TRUE(t.categorical[0].dictionary.empty());
  EXPECT_TRUE(t.numeric[0].values.empty());
}

TEST(JsonRequest, NumericValues) {
  const Table t = json(
      R"({"rows": [{"I1": "12"}, {"I1": ""}, {"I1": null}, {"I1": 0.1}, {"I1": "0.1"},
                   {"I1": 16777217}, {"I1": 18446744073709551615}, {"I1": -9223372036854775808},
                   {"I1": 123456789012345678901234567890}, {"I1": 1e-50}, {"I1": "-0"},
                   {"I1": -0}, {"I1": 3.4e38}, {"I1": "+4"}, {"I1": ".5"}]})");
  const auto& v = t.numeric[0].values;
  ASSERT_EQ(v.size(), 15u);
  EXPECT_EQ(v[0], 12.0f);
  EXPECT_TRUE(std::isnan(v[1]));  // "" is missing, as an empty file field
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 0.1f);  // rounded once to float, as the readers do
  EXPECT_EQ(v[4], 0.1f);
  EXPECT_EQ(v[5], 16777216.0f);
  EXPECT_EQ(v[6], 18446744073709551616.0f);
  EXPECT_EQ(v[7], -9223372036854775808.0f);
  EXPECT_EQ(v[8], 1.2345679e29f);
  EXPECT_EQ(v[9], 0.0f);
  EXPECT_EQ(v[10], 0.0f);
  EXPECT_TRUE(std::signbit(v[10]));   // the string keeps its sign, like a file field
  EXPECT_FALSE(std::signbit(v[11]));  // a JSON integer -0 is the integer 0
  EXPECT_EQ(v[12], 3.4e38f);
  EXPECT_EQ(v[13], 4.0f);
  EXPECT_EQ(v[14], 0.5f);
}

TEST(JsonRequest, CategoricalValues) {
  const Table t = json(
      R"({"rows": [{"C1": 12}, {"C1": -7}, {"C1": 1.5}, {"C1": 1e3}, {"C1": 1.0}, {"C1": -0},
                   {"C1": 18446744073709551615}, {"C1": 123456789012345678901234567890},
                   {"C1": "a\u0000b"}, {"C1": "\t\n\u00e9"}, {"C1": ""}, {"C1": "12"}]})");
  EXPECT_EQ(values(t, 1),
            (std::vector<std::string>{"12", "-7", "1.5", "1e3", "1.0", "0", "18446744073709551615",
                                      "123456789012345678901234567890", std::string("a\0b", 3),
                                      "\t\n\xC3\xA9", "", "12"}));
  EXPECT_EQ(t.categorical[1].codes.back(), 0u);  // 12 and "12" are the same value
}

TEST(JsonRequest, LabelIsAcceptedAndIgnored) {
  const Table t = json(R"({"rows": [{"label": 1}, {"label": "x"}, {"label": null},
                                     {"label": false}, {"label": 2.5}]})");
  EXPECT_EQ(t.rows, 5u);
  EXPECT_FALSE(t.has_label);
  // Without a label name, "label" is an unknown field.
  RequestError e =
      error_of([] { decode_json_request(R"({"rows": [{"label": 1}]})", kSmall, "", {}); });
  expect_error(e, 400, "unknown field \"label\" in row 0", 0, "label");
}

TEST(JsonRequest, ByteOrderMarkAndWhitespaceAreAccepted) {
  EXPECT_EQ(json("\xEF\xBB\xBF {\n\"rows\" :\t[ {} ] }\r\n").rows, 1u);
}

// --- JSON: errors -----------------------------------------------------------------------

TEST(JsonRequestError, TopLevelMustBeAnObjectWithRowsOnly) {
  expect_error(json_error("[]"), 400, "must be a JSON object {\"rows\": [...]}, found an array", -1,
               "");
  expect_error(json_error("3"), 400, "found a number", -1, "");
  expect_error(json_error("\"rows\""), 400, "found a string", -1, "");
  expect_error(json_error("null"), 400, "found null", -1, "");
  expect_error(json_error("true"), 400, "found a boolean", -1, "");
  expect_error(json_error("{}"), 400, "the body has no \"rows\" key", -1, "");
  expect_error(json_error(R"({"rows": {}})"), 400, "\"rows\" must be an array", -1, "");
  expect_error(json_error(R"({"rows": 3})"), 400, "\"rows\" must be an array", -1, "");
  expect_error(json_error(R"({"rows": null})"), 400, "\"rows\" must be an array", -1, "");
  expect_error(json_error(R"({"rows": [], "model": 1})"), 400,
               "unknown top-level key \"model\" (the only key is \"rows\")", -1, "");
  expect_error(json_error(R"({"x": {"deep": [1]}, "rows": []})"), 400,
               "unknown top-level key \"x\"", -1, "");
  expect_error(json_error(R"({"rows": [], "rows": []})"), 400, "duplicate top-level key", -1, "");
}

TEST(JsonRequestError, RowsMustBeObjects) {
  expect_error(json_error(R"({"rows": [{}, 3]})"), 400, "row 1 is not an object (found a number)",
               1, "");
  expect_error(json_error(R"({"rows": [[]]})"), 400, "row 0 is not an object (found an array)", 0,
               "");
  expect_error(json_error(R"({"rows": [{}, {}, "x"]})"), 400, "row 2 is not an object", 2, "");
}

TEST(JsonRequestError, UnknownAndDuplicateFields) {
  expect_error(json_error(R"({"rows": [{}, {"I1": 1, "I7": 2}]})"), 400,
               "unknown field \"I7\" in row 1", 1, "I7");
  expect_error(json_error(R"({"rows": [{"C1": "a", "C1": "a"}]})"), 400,
               "duplicate field \"C1\" in row 0", 0, "C1");
  expect_error(json_error(R"({"rows": [{"label": 1, "label": 0}]})"), 400,
               "duplicate field \"label\"", 0, "label");
  // An absurdly long unknown key is cut short in the message and the field.
  const std::string key(100000, 'k');
  RequestError e = json_error(R"({"rows": [{")" + key + R"(": 1}]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_LT(e.message.size(), 400u);
  EXPECT_EQ(e.field, std::string(200, 'k') + "...");
}

TEST(JsonRequestError, WrongTypes) {
  expect_error(json_error(R"({"rows": [{"I1": true}]})"), 400,
               "field \"I1\" in row 0 must be a number, a numeric string or null (numeric field), "
               "found a boolean",
               0, "I1");
  expect_error(json_error(R"({"rows": [{}, {"I1": {}}]})"), 400, "found an object", 1, "I1");
  expect_error(json_error(R"({"rows": [{"I1": [1]}]})"), 400, "found an array", 0, "I1");
  expect_error(json_error(R"({"rows": [{"C1": false}]})"), 400,
               "field \"C1\" in row 0 must be a string, a number or null (categorical field), "
               "found a boolean",
               0, "C1");
  expect_error(json_error(R"({"rows": [{"C2": ["a"]}]})"), 400, "found an array", 0, "C2");
  expect_error(json_error(R"({"rows": [{"C2": {"a": 1}}]})"), 400, "found an object", 0, "C2");
  expect_error(json_error(R"({"rows": [{"label": [1]}]})"), 400,
               "the label \"label\" in row 0 must be a number, a string or null", 0, "label");
}

TEST(JsonRequestError, BadNumericValues) {
  expect_error(json_error(R"({"rows": [{"I1": " 12"}]})"), 400,
               "invalid numeric value ' 12' for field \"I1\" in row 0", 0, "I1");
  expect_error(json_error(R"({"rows": [{}, {"I1": "12 "}]})"), 400, "invalid numeric value", 1,
               "I1");
  expect_error(json_error(R"({"rows": [{"I1": "0x10"}]})"), 400, "invalid numeric value", 0, "I1");
  expect_error(json_error(R"({"rows": [{"I1": "nan"}]})"), 400, "", 0, "I1");
  expect_error(json_error(R"({"rows": [{"I1": "-inf"}]})"), 400, "", 0, "I1");
  expect_error(json_error(R"({"rows": [{"I1": "a\u0000"}]})"), 400, "invalid numeric value", 0,
               "I1");
  expect_error(json_error(R"({"rows": [{"I1": 1e39}]})"), 400,
               "numeric value '1e39' is beyond float range for field \"I1\" in row 0", 0, "I1");
  expect_error(json_error(R"({"rows": [{"I1": "-1e39"}]})"), 400, "beyond float range", 0, "I1");
  // Beyond double range, the JSON parser itself refuses the number.
  expect_error(json_error(R"({"rows": [{"I1": 1e400}]})"), 400,
               "malformed JSON at byte offset 21: number overflow parsing '1e400'", -1, "");
  expect_error(json_error(R"({"rows": [{"C1": -1e400}]})"), 400, "number overflow", -1, "");
}

TEST(JsonRequestError, MalformedJsonGivesTheByteOffset) {
  expect_error(json_error(""), 400, "malformed JSON at byte offset 0: ", -1, "");
  expect_error(json_error("{"), 400, "malformed JSON at byte offset 1: ", -1, "");
  expect_error(json_error("{x"), 400, "malformed JSON at byte offset 1: ", -1, "");
  expect_error(json_error(R"({"rows": []} x)"), 400, "malformed JSON at byte offset 13: ", -1, "");
  expect_error(json_error(R"({"rows": [{"I1": 01}]})"), 400, "malformed JSON at byte offset", -1,
               "");
  expect_error(json_error(R"({"rows": [{"I1": 1,}]})"), 400, "malformed JSON at byte offset 19", -1,
               "");
  expect_error(json_error("{\"rows\": [{\"C1\": \"a\tb\"}]}"), 400, "malformed JSON", -1, "");
  expect_error(json_error(R"({"rows": [{"C1": "a"} /* c */]})"), 400, "malformed JSON", -1, "");
}

TEST(JsonRequestError, InvalidUtf8AndNulBytes) {
  // The offset is that of the byte where the sequence goes wrong.
  const std::pair<const char*, int> cases[] = {{"\xff", 20},
                                               {"\xC0\xAF", 20},
                                               {"\xED\xA0\x80", 21},
                                               {"\xF4\x90\x80\x80", 21},
                                               {"\xE2\x82", 22}};
  for (const auto& [bad, offset] : cases) {
    const std::string body = std::string(R"({"rows": [{"C1": "ab)") + bad + R"("}]})";
    RequestError e = json_error(body);
    expect_error(e, 400, "malformed JSON at byte offset " + std::to_string(offset) + ": ", -1, "");
    EXPECT_NE(e.message.find("ill-formed UTF-8 byte"), std::string::npos);
    EXPECT_NO_THROW(error_body(e).dump());
  }
  RequestError e = json_error(std::string("{\"rows\": [{\"C1\": \"a\0b\"}]}", 25));
  expect_error(e, 400, "malformed JSON at byte offset 19", -1, "");
  // A raw NUL byte is malformed anywhere, even after a complete value.
  expect_error(json_error(std::string("{\"rows\": []}\0", 13)), 400,
               "malformed JSON at byte offset 12: a NUL byte", -1, "");
  expect_error(json_error(std::string("{\"rows\": []}\0{\"x\": [", 20)), 400,
               "malformed JSON at byte offset 12: a NUL byte", -1, "");
  expect_error(json_error(std::string("\0", 1)), 400, "malformed JSON at byte offset 0", -1, "");
  // An escaped NUL is an ordinary byte of a categorical value.
  EXPECT_EQ(values(json(R"({"rows": [{"C1": "\u0000"}]})"), 1)[0], std::string(1, '\0'));
  // Unpaired surrogate escapes are refused by the parser.
  expect_error(json_error(R"({"rows": [{"C1": "\ud800"}]})"), 400, "malformed JSON", -1, "");
}

TEST(JsonRequestError, NestingIsRefusedAsItOpens) {
  RequestLimits shallow;
  shallow.max_depth = 2;
  expect_error(json_error(R"({"rows": [{}]})", shallow), 400, "JSON nested deeper than 2 levels",
               -1, "");
  shallow.max_depth = 3;
  EXPECT_EQ(json(R"({"rows": [{}]})", shallow).rows, 1u);
  // A megabyte of brackets, anywhere, is refused at once (no recursion, no deep stack).
  const std::string open(1 << 20, '[');
  expect_error(json_error(open), 400, "found an array", -1, "");
  expect_error(json_error(std::string(1 << 20, '{')), 400, "malformed JSON at byte offset 1", -1,
               "");
  expect_error(json_error(R"({"rows": )" + open), 400, "row 0 is not an object", 0, "");
  expect_error(json_error(R"({"rows": [{"I1": )" + open), 400, "found an array", 0, "I1");
  expect_error(json_error(R"({"x": )" + open), 400, "unknown top-level key", -1, "");
  RequestLimits deep;
  deep.max_depth = 1 << 30;
  expect_error(json_error(R"({"rows": [{"C1": )" + open, deep), 400, "found an array", 0, "C1");
}

TEST(JsonRequestError, TenMegabytesOfDigits) {
  const std::string digits(10 << 20, '7');
  // As a JSON number: beyond double range, refused by the parser; the echo is cut short.
  RequestError e = json_error(R"({"rows": [{"I1": )" + digits + "}]}");
  expect_error(e, 400, "number overflow", -1, "");
  EXPECT_LT(e.message.size(), 400u);
  expect_error(json_error(digits), 400, "number overflow", -1, "");
  expect_error(json_error("0." + digits), 400, "found a number", -1, "");
  // As a numeric string: beyond float range.
  e = json_error(R"({"rows": [{"I1": ")" + digits + "\"}]}");
  expect_error(e, 400, "beyond float range", 0, "I1");
  EXPECT_LT(e.message.size(), 400u);
  // As a categorical string: a (long) value like any other.
  EXPECT_EQ(values(json(R"({"rows": [{"C1": ")" + digits + "\"}]}"), 1)[0], digits);
}

TEST(JsonRequestError, Limits) {
  RequestLimits limits;
  limits.max_rows = 2;
  EXPECT_EQ(json(R"({"rows": [{}, {}]})", limits).rows, 2u);
  // Refused as the third row opens, before the rest of the body is read.
  expect_error(json_error(R"({"rows": [{}, {}, {"nonsense": [)", limits), 413,
               "more than 2 rows in one request (--max-rows)", -1, "");
  limits = {};
  limits.max_body_bytes = 12;
  EXPECT_EQ(json(R"({"rows": []})", limits).rows, 0u);  // exactly 12 bytes
  expect_error(json_error(R"({"rows": [] })", limits), 413,
               "request body of 13 bytes exceeds the limit of 12 bytes (--max-body-bytes)", -1, "");
  expect_error(json_error("garbage garbage", limits), 413, "exceeds the limit", -1, "");
}

// --- TSV ---------------------------------------------------------------------------------

TEST(TsvRequest, CriteoWithAndWithoutLabel) {
  const auto lines = sample_lines(3);
  const std::string with = lines[0] + "\n" + lines[1] + "\r\n" + lines[2];
  const Table a = decode_tsv_request(with, criteo_layout(), {});
  EXPECT_EQ(a.rows, 3u);
  EXPECT_TRUE(a.has_label);
  EXPECT_EQ(a.labels.size(), 3u);
  const std::string without = without_label(lines[0]) + "\n" + without_label(lines[1]) + "\n" +
                              without_label(lines[2]) + "\n\n";
  const Table b = decode_tsv_request(without, criteo_layout(), {});
  EXPECT_FALSE(b.has_label);
  expect_same_data(a, b);
  EXPECT_EQ(b.sources, std::vector<std::string>{"request"});
  EXPECT_TRUE(a.sha256.empty());
  EXPECT_TRUE(b.sha256.empty());
}

TEST(TsvRequest, NoDataLinesGiveAnEmptyTable) {
  for (const char* body : {"", "\n", "\r\n\n"}) {
    const Table t = decode_tsv_request(body, criteo_layout(), {});
    EXPECT_EQ(t.rows, 0u);
    ASSERT_EQ(t.numeric.size(), 13u);
    ASSERT_EQ(t.categorical.size(), 26u);
    EXPECT_EQ(t.numeric[0].name, "I1");
    EXPECT_EQ(t.categorical[25].name, "C39");
  }
  ReadOptions tsv;
  tsv.format = Format::kTsv;
  tsv.label = "y";
  tsv.label_policy = LabelPolicy::kOptional;
  tsv.numeric = {"n"};
  tsv.categorical = {"c"};
  const Table t = decode_tsv_request("n\tc\n", tsv, {});
  EXPECT_EQ(t.rows, 0u);
  EXPECT_EQ(t.numeric[0].name, "n");
  EXPECT_EQ(t.categorical[0].name, "c");
}

TEST(TsvRequestError, ReaderErrorsNameRowAndField) {
  const auto lines = sample_lines(3);
  std::string bad = without_label(lines[1]);
  bad.replace(0, bad.find('\t'), "five");
  RequestError e = error_of([&] {
    decode_tsv_request(without_label(lines[0]) + "\n" + bad + "\n", criteo_layout(), {});
  });
  expect_error(e, 400, "invalid numeric value 'five' (request:2:column 1 (I1))", 1, "I1");
  e = error_of(
      [&] { decode_tsv_request(lines[0] + "\n" + lines[1].substr(0, 40), criteo_layout(), {}); });
  // A short line names its first missing column.
  expect_error(e, 400, "expected 40 fields, found", 1, "C16");
  e = error_of([&] { decode_tsv_request("1\t2\n", criteo_layout(), {}); });
  expect_error(e, 400, "(request:1)", 0, "");
  e = error_of([&] { decode_tsv_request(lines[0] + "\n\n" + lines[1], criteo_layout(), {}); });
  expect_error(e, 400, "empty line (request:2)", 1, "");
  // Bytes in the message that are not UTF-8 are replaced in the error body.
  bad.replace(0, 4, "\xff\xfe");
  e = error_of([&] { decode_tsv_request(bad, criteo_layout(), {}); });
  expect_error(e, 400, "invalid numeric value", 0, "I1");
  EXPECT_NE(error_body(e).dump().find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(TsvRequestError, HeaderLayouts) {
  ReadOptions tsv;
  tsv.format = Format::kTsv;
  tsv.label = "y";
  tsv.label_policy = LabelPolicy::kOptional;
  tsv.numeric = {"n"};
  tsv.categorical = {"c"};
  const Table t = decode_tsv_request("c\tn\nx\t1\ny\t\n", tsv, {});
  EXPECT_EQ(t.rows, 2u);
  RequestError e = error_of([&] { decode_tsv_request("c\tn\nx\t1\ny\tz\n", tsv, {}); });
  expect_error(e, 400, "(request:3:column 2 (n))", 1, "n");
  // A column the model does not use is skipped; one it needs must be there (INTERFACE.md).
  e = error_of([&] { decode_tsv_request("c\tm\nx\t1\n", tsv, {}); });
  expect_error(e, 400, "the model's numeric column 'n' is not in the header (request:1)", -1, "");
  EXPECT_EQ(decode_tsv_request("c\tn\tm\nx\t1\t2\n", tsv, {}).rows, 1u);
  // A header alone is checked too: a row sent without its header is not taken for one.
  EXPECT_EQ(decode_tsv_request("c\tn\n", tsv, {}).rows, 0u);
  e = error_of([&] { decode_tsv_request("x\t1\n", tsv, {}); });
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(e.message.find("is not in the header"), std::string::npos) << e.message;
}

// The text type follows the model's training layout: a CSV model reads text/csv (with its
// header line), and a tab-separated body is 415 naming what it reads.
TEST(TsvRequestError, ACsvModelReadsTextCsv) {
  RequestSchema schema;
  schema.fields = {{"n", false}, {"c", true}};
  schema.label_name = "y";
  schema.layout.format = Format::kCsv;
  schema.layout.label = "y";
  schema.layout.label_policy = LabelPolicy::kOptional;
  schema.layout.numeric = {"n"};
  schema.layout.categorical = {"c"};
  schema.layout.ignore = {"id"};
  const RequestDecoder decoder(schema, {});
  EXPECT_EQ(decoder.decode("text/csv", "c,n\nx,1\ny,2\n").rows, 2u);
  EXPECT_EQ(decoder.decode("text/csv; charset=utf-8", "id,y,c,n\n1,0,x,1\n").rows, 1u);
  RequestError e = error_of([&] { decoder.decode("text/tab-separated-values", "x\t1\n"); });
  EXPECT_EQ(e.status, 415);
  EXPECT_NE(e.message.find("this model reads its rows as text/csv (a header line"),
            std::string::npos)
      << e.message;
  e = error_of([&] { decoder.decode("text/csv", "x,1\n"); });  // a row without the header
  EXPECT_EQ(e.status, 400);
}

TEST(TsvRequestError, Limits) {
  const auto lines = sample_lines(3);
  const std::string body = lines[0] + "\n\n" + lines[1] + "\n" + lines[2] + "\n";
  RequestLimits limits;
  limits.max_rows = 2;
  expect_error(error_of([&] { decode_tsv_request(body, criteo_layout(), limits); }), 413,
               "3 data lines exceed the limit of 2 rows", -1, "");
  limits.max_rows = 3;
  // Within the row limit, the blank line in the middle is the reader's error.
  expect_error(error_of([&] { decode_tsv_request(body, criteo_layout(), limits); }), 400,
               "empty line", 1, "");
  limits = {};
  limits.max_body_bytes = body.size() - 1;
  expect_error(error_of([&] { decode_tsv_request(body, criteo_layout(), limits); }), 413,
               "exceeds the limit", -1, "");
}

// --- JSON and TSV agree ------------------------------------------------------------------

TEST(JsonAndTsv, TheSameRowsGiveTheSameTable) {
  const auto lines = sample_lines(200);
  ASSERT_EQ(lines.size(), 200u);
  std::string tsv;
  for (const auto& l : lines) tsv += l + "\n";
  const RequestSchema schema = criteo_schema();
  const Table from_json = decode_request("application/json", sample_as_json(lines), schema, {});
  const Table from_tsv = decode_request("text/tab-separated-values", tsv, schema, {});
  EXPECT_EQ(from_json.rows, 200u);
  expect_same_data(from_json, from_tsv);
}

TEST(JsonAndTsv, HandWrittenValuesAgree) {
  std::vector<std::string> tsv_fields(39);
  tsv_fields[0] = "-2";
  tsv_fields[1] = "3.5";
  tsv_fields[2] = "1e3";
  tsv_fields[3] = "-0";
  tsv_fields[13] = "68fd1e64";
  tsv_fields[14] = "12";
  tsv_fields[15] = "1.5";
  std::string tsv;
  for (size_t j = 0; j < tsv_fields.size(); ++j) tsv += (j ? "\t" : "") + tsv_fields[j];
  const std::string body =
      R"({"rows": [{"I1": -2, "I2": 3.5, "I3": "1e3", "I4": "-0", "C14": "68fd1e64",
                    "C15": 12, "C16": 1.5, "C17": null, "label": 0}]})";
  const RequestSchema schema = criteo_schema();
  expect_same_data(decode_request("application/json", body, schema, {}),
                   decode_request("text/tab-separated-values", tsv + "\n", schema, {}));
}

// --- Content types and error bodies ------------------------------------------------------

TEST(DecodeRequest, DispatchesOnTheContentType) {
  const RequestSchema schema = criteo_schema();
  const std::string body = R"({"rows": [{"I1": 1}]})";
  for (const char* type : {"application/json", "application/json; charset=utf-8",
                           " Application/JSON ;Charset=\"UTF-8\"", "application/json;q=1;x"}) {
    EXPECT_EQ(decode_request(type, body, schema, {}).rows, 1u) << type;
  }
  const std::string tsv = without_label(sample_lines(1)[0]);
  for (const char* type : {"text/tab-separated-values", "TEXT/Tab-Separated-Values; charset=x"}) {
    EXPECT_EQ(decode_request(type, tsv, schema, {}).rows, 1u) << type;
  }
  for (const char* type : {"", "text/csv", "application/jsonx", "application/x-json",
                           "text/plain; application/json", "application/json; charset=latin1"}) {
    RequestError e = error_of([&] { decode_request(type, body, schema, {}); });
    EXPECT_EQ(e.status, 415) << type;
    EXPECT_EQ(e.row, -1);
  }
  expect_error(error_of([&] { decode_request("text/xml", body, schema, {}); }), 415,
               "unsupported content type 'text/xml' (expected application/json or "
               "text/tab-separated-values)",
               -1, "");
  expect_error(
      error_of([&] { decode_request("application/json;charset=latin1", body, schema, {}); }), 415,
      "unsupported charset 'latin1'", -1, "");
}

TEST(ErrorBody, HasRowAndFieldOnlyWhenKnown) {
  EXPECT_EQ(error_body(RequestError(400, "bad", 3, "C7")).dump(),
            R"({"error":{"field":"C7","message":"bad","row":3}})");
  EXPECT_EQ(error_body(RequestError(400, "bad", 0)).dump(),
            R"({"error":{"message":"bad","row":0}})");
  EXPECT_EQ(error_body(RequestError(413, "big")).dump(), R"({"error":{"message":"big"}})");
  const nlohmann::json j = error_body(RequestError(400, "a\xff\xC3", 1, "\xE2\x82x"));
  EXPECT_EQ(j["error"]["message"], "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["error"]["field"], "\xEF\xBF\xBD\xEF\xBF\xBDx");
  EXPECT_NO_THROW(j.dump());
  const RequestError e(400, "msg");
  EXPECT_STREQ(static_cast<const std::exception&>(e).what(), "msg");
}

// --- Hostile bodies ----------------------------------------------------------------------

// Decodes `body` both ways; only RequestError may come out, and error bodies must dump.
void decode_both(std::string_view body, const RequestSchema& schema, const RequestLimits& l) {
  for (const char* type : {"application/json", "text/tab-separated-values"}) {
    try {
      decode_request(type, body, schema, l);
    } catch (const RequestError& e) {
      EXPECT_TRUE(e.status == 400 || e.status == 413) << e.message;
      EXPECT_NO_THROW(error_body(e).dump());
    }
  }
}

TEST(HostileBodies, SeedCorpusDecodesOrFailsCleanly) {
  const std::filesystem::path dir = std::string(DEEPCROSS_TESTDATA_DIR) + "/fuzz/request";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    decode_both(read_file(entry.path()), criteo_schema(), {});
    ++files;
  }
  EXPECT_GE(files, 12u);
  // Spot checks of what the corpus holds.
  const RequestSchema schema = criteo_schema();
  EXPECT_EQ(
      decode_request("application/json", read_file(dir / "valid_criteo.json"), schema, {}).rows,
      2u);
  EXPECT_EQ(decode_request("text/tab-separated-values", read_file(dir / "valid_criteo_39.tsv"),
                           schema, {})
                .rows,
            2u);
}

TEST(HostileBodies, RandomMutationsOfValidBodies) {
  const std::string json_seed =
      R"({"rows": [{"I1": 3, "I2": "4.5", "C14": "68fd1e64", "C15": 12, "label": 1}, {}]})";
  const std::string tsv_seed = sample_lines(2)[0] + "\n" + without_label(sample_lines(2)[1]);
  const RequestSchema schema = criteo_schema();
  RequestLimits limits;
  limits.max_rows = 5;
  Rng rng(7);
  const char kAlphabet[] = "{}[]\",:\\u0123456789eE.-+ \t\n\rabcnultrsf\0\xff\xC3";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string body = iter % 2 ? json_seed : tsv_seed;
    const int edits = 1 + static_cast<int>(rng.below(6));
    for (int k = 0; k < edits; ++k) {
      const size_t pos = body.empty() ? 0 : rng.below(body.size());
      const char c = kAlphabet[rng.below(sizeof kAlphabet - 1)];
      switch (rng.below(3)) {
        case 0:
          if (!body.empty()) body[pos] = c;
          break;
        case 1:
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          if (!body.empty()) body.erase(pos, 1 + rng.below(8));
      }
    }
    decode_both(body, schema, limits);
  }
}

}  // namespace
}  // namespace deepcross
