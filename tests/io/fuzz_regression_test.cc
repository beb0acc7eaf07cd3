// Regression tests for what fuzz/model_fuzz.cc found in the model-loading path: each input
// below once crashed or misbehaved, and must now be refused with a DataError naming the file
// and a byte (or load cleanly).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "deepcross/error.h"
#include "io/model_file.h"
#include "io/model_io.h"

namespace deepcross {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename T>
void put(Bytes& b, T v) {
  uint8_t raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  b.insert(b.end(), raw, raw + sizeof(T));
}

// A format-1 container with `metadata` as its JSON text, no tensors, and a correct size field
// and checksum (io/model_file.h, "Byte layout"): what a hostile writer can produce.
Bytes container(std::string_view metadata) {
  Bytes b = {'D', 'E', 'E', 'P', 'C', 'R', 'S', 0};
  put<uint32_t>(b, 1);  // version
  put<uint32_t>(b, 0);  // flags
  put<uint64_t>(b, 0);  // file size, patched below
  put<uint64_t>(b, metadata.size());
  b.insert(b.end(), metadata.begin(), metadata.end());
  put<uint64_t>(b, 0);  // tensor count
  const uint64_t size = b.size() + 4;
  std::memcpy(b.data() + 16, &size, 8);
  put<uint32_t>(b, static_cast<uint32_t>(crc32_z(0, b.data(), b.size())));
  return b;
}

// The DataError that parsing `bytes` throws; fails the test when it throws nothing.
DataError parse_error(const Bytes& bytes) {
  try {
    (void)parse_model_file(bytes, "m.dcn");
  } catch (const DataError& e) {
    return e;
  }
  ADD_FAILURE() << "parsed without an error";
  return DataError("");
}

TEST(ModelFuzzRegression, ContainerHelperBuildsAValidFile) {
  const ModelFile f = parse_model_file(container(R"({"a": [1, 2.5]})"), "m.dcn");
  EXPECT_EQ(f.metadata["a"][1], 2.5);
  EXPECT_TRUE(f.tensors.empty());
}

// Found by model_fuzz: nlohmann's parser throws out_of_range (406), not parse_error, for a
// number beyond double's range; it escaped parse_model_file as a non-DataError exception.
TEST(ModelFuzzRegression, NumberBeyondDoubleRangeInMetadataIsADataError) {
  const std::string meta = R"({"format": "deepcross-model", "x": 8.09907529722E891})";
  const DataError e = parse_error(container(meta));
  EXPECT_NE(std::string(e.what()).find("model metadata is not valid JSON"), std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("number overflow"), std::string::npos) << e.what();
  // The byte of the number itself: 32 bytes of header and length, then its place in the text.
  EXPECT_EQ(e.where(), "m.dcn at byte " + std::to_string(32 + meta.find("8.09")));
}

TEST(ModelFuzzRegression, NegativeNumberBeyondDoubleRangeIsADataError) {
  const DataError e = parse_error(container("[-1e400]"));
  EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  EXPECT_EQ(e.where(), "m.dcn at byte 33");
}

}  // namespace
}  // namespace deepcross
