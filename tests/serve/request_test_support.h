// Test support for the request decoder tests (request_test.cc, request_decoder_test.cc):
// the Criteo schema, the sample file's rows as TSV lines and as a JSON body, the RequestError
// a call throws, and exact comparison of two Tables.
//
//   const RequestSchema schema = criteo_schema();
//   const auto lines = sample_lines(20);
//   expect_same_data(decode_request("application/json", sample_as_json(lines), schema, {}), t);
//   expect_error(error_of([&] { decode_request("text/xml", "x", schema, {}); }), 415, "xml", -1,
//   "");
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "serve/request.h"

namespace deepcross::request_test {

inline std::vector<FieldSpec> criteo_fields() {
  std::vector<FieldSpec> f;
  // (Appending, not "I" + std::to_string(i): GCC 12 warns falsely about the latter.)
  for (int i = 1; i <= 13; ++i) f.push_back({std::string("I").append(std::to_string(i)), false});
  for (int i = 14; i <= 39; ++i) f.push_back({std::string("C").append(std::to_string(i)), true});
  return f;
}

inline ReadOptions criteo_layout() {
  ReadOptions opts;
  opts.label_policy = LabelPolicy::kOptional;
  return opts;
}

inline RequestSchema criteo_schema() { return {criteo_fields(), "label", criteo_layout()}; }

// The RequestError thrown by `f` (a failure if none is).
inline RequestError error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e;
  }
  ADD_FAILURE() << "no RequestError thrown";
  return RequestError(0, "");
}

inline void expect_error(const RequestError& e, int status, std::string_view message_part, long row,
                         std::string_view field) {
  EXPECT_EQ(e.status, status) << e.message;
  EXPECT_NE(e.message.find(message_part), std::string::npos) << e.message;
  EXPECT_EQ(e.row, row) << e.message;
  EXPECT_EQ(e.field, field) << e.message;
}

// Categorical column `j`'s value per row.
inline std::vector<std::string> values(const Table& t, size_t j) {
  std::vector<std::string> out;
  for (uint32_t code : t.categorical[j].codes) out.push_back(t.categorical[j].dictionary[code]);
  return out;
}

// The data of two tables agree exactly (floats bitwise, NaN for NaN).
inline void expect_same_data(const Table& a, const Table& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.numeric.size(), b.numeric.size());
  for (size_t j = 0; j < a.numeric.size(); ++j) {
    EXPECT_EQ(a.numeric[j].name, b.numeric[j].name);
    ASSERT_EQ(a.numeric[j].values.size(), a.rows);
    ASSERT_EQ(b.numeric[j].values.size(), b.rows);
    for (size_t r = 0; r < a.rows; ++r) {
      const float x = a.numeric[j].values[r], y = b.numeric[j].values[r];
      EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << a.numeric[j].name << " row " << r;
    }
  }
  ASSERT_EQ(a.categorical.size(), b.categorical.size());
  for (size_t j = 0; j < a.categorical.size(); ++j) {
    EXPECT_EQ(a.categorical[j].name, b.categorical[j].name);
    EXPECT_EQ(a.categorical[j].dictionary, b.categorical[j].dictionary);
    EXPECT_EQ(a.categorical[j].codes, b.categorical[j].codes);
  }
  EXPECT_EQ(a.sources, b.sources);
  EXPECT_EQ(a.source_rows, b.source_rows);
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> sample_lines(size_t n) {
  std::istringstream in(read_file(std::string(DEEPCROSS_TESTDATA_DIR) + "/data/criteo_sample.tsv"));
  std::vector<std::string> lines;
  std::string line;
  while (lines.size() < n && std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::string without_label(const std::string& line) {
  return line.substr(line.find('\t') + 1);
}

// The sample's rows as JSON: numeric fields alternately as numbers (when JSON allows) and as
// strings, categorical fields as strings, empty fields absent or null, the label kept.
inline std::string sample_as_json(const std::vector<std::string>& lines) {
  const auto fields = criteo_fields();
  nlohmann::json rows = nlohmann::json::array();
  for (size_t r = 0; r < lines.size(); ++r) {
    std::vector<std::string> f;
    std::stringstream s(lines[r]);
    std::string x;
    while (std::getline(s, x, '\t')) f.push_back(x);
    f.resize(40);
    nlohmann::json row = {{"label", std::stoi(f[0])}};
    for (size_t j = 0; j < fields.size(); ++j) {
      const std::string& v = f[j + 1];
      if (v.empty()) {
        if (r % 3 == 0) row[fields[j].name] = nullptr;
        continue;
      }
      if (!fields[j].categorical && r % 2 == 0) {
        row[fields[j].name] = nlohmann::json::parse(v);
      } else {
        row[fields[j].name] = v;
      }
    }
    rows.push_back(row);
  }
  return nlohmann::json{{"rows", rows}}.dump();
}

}  // namespace deepcross::request_test
