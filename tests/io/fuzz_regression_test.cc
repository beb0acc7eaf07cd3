// Regression tests for the model-loading path, found while fuzzing it (fuzz/model_fuzz.cc):
// each input below once crashed or misbehaved, and must now be refused with a DataError
// naming the file (and a byte, for container problems), or load cleanly.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
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

// The tiny trained models of the fuzzing seed corpus (matrix stacked, mix parallel, vector).
std::string seed_model(const std::string& name) {
  return std::string(DEEPCROSS_TESTDATA_DIR) + "/fuzz/model/" + name;
}

// The DataError that trained_model_from_file throws for `f`; fails the test when none.
DataError load_error(const ModelFile& f) {
  try {
    (void)trained_model_from_file(f, "m.dcn");
  } catch (const DataError& e) {
    return e;
  }
  ADD_FAILURE() << "loaded without an error";
  return DataError("");
}

TEST(ModelFuzzRegression, SeedModelsLoad) {
  for (const char* name : {"matrix_stacked.dcn", "mix_parallel.dcn", "vector_two_layers.dcn"}) {
    const ModelFile f = read_model_file(seed_model(name));
    const TrainedModel tm = trained_model_from_file(f, name);
    EXPECT_GT(tm.model->parameter_count(), 0u) << name;
  }
}

// Found by reading the loader while writing model_fuzz (the model is allocated from the
// configuration before the tensors are compared with it): a 28 KB file whose configuration
// asks for MLP layers of 65536 made `deepcross info` allocate tens of gigabytes.
TEST(ModelFuzzRegression, ConfigurationTooLargeForTheFileIsRefusedBeforeAllocating) {
  const ModelFile seed = read_model_file(seed_model("vector_two_layers.dcn"));
  struct Case {
    const char* key;
    nlohmann::json value;
  };
  const Case cases[] = {{"mlp", {65536, 65536}},
                        {"classes", 65536},  // the largest a model may have (deepcross/limits.h)
                        {"cross", "matrix"},
                        {"cross_layers", 64},
                        {"embed_max", 1024}};
  for (const Case& c : cases) {
    ModelFile f = seed;
    f.metadata["model"][c.key] = c.value;
    if (std::string(c.key) == "cross_layers") f.metadata["model"]["cross"] = "matrix";
    const DataError e = load_error(f);
    EXPECT_NE(std::string(e.what()).find("the model configuration needs at least"),
              std::string::npos)
        << c.key << ": " << e.what();
    EXPECT_EQ(e.where(), "m.dcn") << c.key;
  }
}

// The bound never refuses a real model: every cross type x structure x classes, saved and
// loaded back.
TEST(ModelFuzzRegression, EveryModelKindStillLoads) {
  std::string dir = ::testing::TempDir() + "dc_fuzz_regression_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const ModelFile seed = read_model_file(seed_model("matrix_stacked.dcn"));
  for (const char* cross : {"vector", "matrix", "lowrank", "mix"}) {
    for (const char* structure : {"stacked", "parallel"}) {
      for (int classes : {1, 3}) {
        TrainedModel tm = trained_model_from_file(seed, "seed");
        ASSERT_TRUE(parse_cross_type(cross, &tm.config.cross));
        ASSERT_TRUE(parse_structure(structure, &tm.config.structure));
        tm.config.classes = classes;
        tm.config.low_rank = 3;
        tm.config.experts = 2;
        tm.config.mlp = {5, 3};
        tm.model = std::make_unique<Model<float>>(tm.config, 7);
        const std::string path = dir + "/m.dcn";
        save_model(path, tm);
        const TrainedModel back = load_model(path);
        EXPECT_EQ(back.model->parameter_count(), tm.model->parameter_count())
            << cross << " " << structure << " " << classes;
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace deepcross
