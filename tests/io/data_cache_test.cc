// The data cache of `train --cache`: keys that change with whatever the encoded rows depend
// on, exact round trips, and entries that are refused (never trusted) when damaged or forged.
#include "io/data_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>
#include <numeric>
#include <string>
#include <vector>

#include "deepcross/error.h"
#include "io/model_file.h"
#include "io/model_io.h"
#include "io/temp_folder_test_support.h"

namespace deepcross {
namespace {

class DataCache : public TempFolderTest {
 protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    data_ = file("train.tsv");
    write(data_, rows(200, 0));
  }

  static std::string rows(int n, int shift) {
    std::string text;
    for (int r = 0; r < n; ++r) {
      text += std::to_string((r + shift) % 2);
      for (int i = 1; i <= 13; ++i) text += '\t' + (r % 4 ? std::to_string((r * i + shift) % 17) : "");
      for (int j = 0; j < 26; ++j) text += "\tc" + std::to_string((r + j + shift) % 5);
      text += '\n';
    }
    return text;
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  // What train's ingest would produce for `data_` (all rows in each part).
  IngestedData ingest() const {
    ReadOptions o;
    Table t = read_table({data_}, o);
    std::vector<uint32_t> all(t.rows);
    std::iota(all.begin(), all.end(), 0u);
    IngestedData d;
    d.preprocessor = Preprocessor::fit(t, all, PreprocessOptions{}, &d.warnings);
    d.train = d.preprocessor.encode(t);
    d.valid = d.preprocessor.encode(t, std::vector<uint32_t>(all.begin(), all.begin() + 50));
    d.test = d.preprocessor.encode(t, std::vector<uint32_t>(all.begin() + 50, all.end()));
    d.data = {{"rows", t.rows}, {"sha256", t.sha256}};
    d.warnings.push_back("a warning to repeat");
    return d;
  }
  DataCacheKey key(const PreprocessOptions& po = {}, const ReadOptions& layout = {}) const {
    auto k = data_cache_key(dir_.string() + "/cache", {{"data", data_}}, layout, po);
    EXPECT_TRUE(k.has_value());
    return *k;
  }

  std::string data_;
};

void expect_same(const EncodedData& a, const EncodedData& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.num_numeric, b.num_numeric);
  EXPECT_EQ(a.num_categorical, b.num_categorical);
  EXPECT_EQ(a.has_labels, b.has_labels);
  ASSERT_EQ(a.x_num.size(), b.x_num.size());
  EXPECT_EQ(0, std::memcmp(a.x_num.data(), b.x_num.data(), a.x_num.size() * sizeof(float)));
  EXPECT_EQ(a.x_cat, b.x_cat);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.oov_rows, b.oov_rows);
}

TEST_F(DataCache, RoundTripsAnIngestExactly) {
  const IngestedData d = ingest();
  const DataCacheKey k = key();
  std::string why;
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_EQ(why, "no entry");
  save_data_cache(k, d);
  EXPECT_EQ(std::filesystem::path(k.path).parent_path(), std::filesystem::path(dir_.string() + "/cache"));
  EXPECT_EQ(std::filesystem::path(k.path).filename().string().rfind("train.tsv.", 0), 0u);
  const auto back = load_data_cache(k, &why);
  ASSERT_TRUE(back.has_value()) << why;
  expect_same(back->train, d.train);
  expect_same(back->valid, d.valid);
  expect_same(back->test, d.test);
  EXPECT_EQ(back->data, d.data);
  EXPECT_EQ(back->warnings, d.warnings);
  EXPECT_EQ(back->preprocessor.numeric_names(), d.preprocessor.numeric_names());
  EXPECT_EQ(back->preprocessor.categorical_names(), d.preprocessor.categorical_names());
  for (size_t j = 0; j < d.preprocessor.vocabularies().size(); ++j) {
    EXPECT_EQ(back->preprocessor.vocabularies()[j].values(), d.preprocessor.vocabularies()[j].values());
  }
  for (size_t i = 0; i < d.preprocessor.transforms().size(); ++i) {
    EXPECT_EQ(back->preprocessor.transforms()[i].quantiles(), d.preprocessor.transforms()[i].quantiles());
    EXPECT_EQ(back->preprocessor.transforms()[i].mean(), d.preprocessor.transforms()[i].mean());
  }
}

TEST_F(DataCache, KeyChangesWithTheSourcesAndEveryOptionTheRowsDependOn) {
  const DataCacheKey base = key();
  EXPECT_EQ(key().path, base.path);  // deterministic
  PreprocessOptions po;
  po.min_count = 3;
  EXPECT_NE(key(po).path, base.path);
  po = {};
  po.seed = 7;
  EXPECT_NE(key(po).path, base.path);
  po = {};
  po.quantiles = 10;
  EXPECT_NE(key(po).path, base.path);
  po = {};
  po.quantile_sample = 10;
  EXPECT_NE(key(po).path, base.path);
  ReadOptions layout;
  layout.bad_lines = BadLines::kSkip;
  EXPECT_NE(key({}, layout).path, base.path);
  layout = {};
  layout.threads = 8;  // how it is read does not matter
  EXPECT_EQ(key({}, layout).path, base.path);
  // A validation file makes another ingest.
  write(dir_.string() + "/valid.tsv", rows(20, 1));
  auto with_valid =
      data_cache_key(dir_.string() + "/cache", {{"data", data_}, {"valid", dir_.string() + "/valid.tsv"}}, {}, {});
  ASSERT_TRUE(with_valid.has_value());
  EXPECT_NE(with_valid->path, base.path);
  // Rewriting the file (new content, new modification time) changes the key; so does a touch.
  write(data_, rows(200, 1));
  timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 123}};
  ASSERT_EQ(utimensat(AT_FDCWD, data_.c_str(), times, 0), 0);
  const DataCacheKey rewritten = key();
  EXPECT_NE(rewritten.path, base.path);
  times[1] = {1000000000, 124};
  ASSERT_EQ(utimensat(AT_FDCWD, data_.c_str(), times, 0), 0);
  EXPECT_NE(key().path, rewritten.path);
  // An edit in place that keeps the size, the inode and (set back) the modification time:
  // the status-change time still differs, and so does the key.
  {
    const DataCacheKey before = key();
    std::string same_size = rows(200, 1);
    same_size[same_size.size() / 2] = same_size[same_size.size() / 2] == '1' ? '2' : '1';
    struct stat st0;
    ASSERT_EQ(::stat(data_.c_str(), &st0), 0);
    // File systems stamp times from a clock that ticks every few milliseconds.
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    {
      std::ofstream out(data_, std::ios::binary | std::ios::in);  // no truncation: same inode
      out << same_size;
    }
    const timespec back[2] = {{0, UTIME_OMIT}, st0.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, data_.c_str(), back, 0), 0);
    struct stat st1;
    ASSERT_EQ(::stat(data_.c_str(), &st1), 0);
    ASSERT_EQ(st1.st_ino, st0.st_ino);
    ASSERT_EQ(st1.st_size, st0.st_size);
    ASSERT_EQ(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
    EXPECT_NE(key().path, before.path);
    EXPECT_NE(key().key.dump().find("ctime_ns"), std::string::npos);
  }
  // A source that cannot be examined: no key (the reader reports the file itself).
  EXPECT_FALSE(data_cache_key(dir_.string(), {{"data", dir_.string() + "/absent.tsv"}}, {}, {}).has_value());
}

TEST_F(DataCache, AnEntryOfAnotherKeyIsNotUsed) {
  const DataCacheKey k = key();
  save_data_cache(k, ingest());
  PreprocessOptions po;
  po.min_count = 4;
  DataCacheKey other = key(po);
  std::filesystem::copy_file(k.path, other.path);
  std::string why;
  EXPECT_FALSE(load_data_cache(other, &why).has_value());
  EXPECT_NE(why.find("key differs"), std::string::npos) << why;
}

TEST_F(DataCache, ADamagedEntryIsRefusedWithItsReason) {
  const DataCacheKey k = key();
  save_data_cache(k, ingest());
  std::string bytes;
  {
    std::ifstream in(k.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string why;
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  write(k.path, flipped);
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("checksum"), std::string::npos) << why;
  write(k.path, bytes.substr(0, bytes.size() / 3));
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_FALSE(why.empty());
  write(k.path, "not a cache");
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_FALSE(why.empty());
  // The reasons speak of the cache entry, never of a "model file".
  EXPECT_EQ(why.find("model file"), std::string::npos) << why;
  EXPECT_NE(why.find("data cache entry"), std::string::npos) << why;
}

// A well-formed, checksummed entry whose contents would make the model read out of bounds or
// train on impossible labels: refused, whatever its checksum says.
TEST_F(DataCache, AForgedEntryWithBadIdsOrLabelsIsRefused) {
  const DataCacheKey k = key();
  IngestedData d = ingest();
  d.train.x_cat[5] = d.preprocessor.vocab_sizes()[5] + 1000;
  save_data_cache(k, d);
  std::string why;
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("outside its vocabulary"), std::string::npos) << why;

  d = ingest();
  d.valid.x_cat[0] = -1;
  save_data_cache(k, d);
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("valid: an id outside its vocabulary"), std::string::npos) << why;

  d = ingest();
  d.test.labels[3] = 2.0f;  // classes = 1: labels are 0 or 1
  save_data_cache(k, d);
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("label outside the classes"), std::string::npos) << why;

  d = ingest();
  d.train.x_num[2] = std::numeric_limits<float>::infinity();
  save_data_cache(k, d);
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("non-finite"), std::string::npos) << why;

  // Shapes that disagree with the preprocessing: one categorical column fewer.
  d = ingest();
  d.train.num_categorical -= 1;
  d.train.x_cat.resize(d.train.rows * d.train.num_categorical);
  d.train.oov_rows.pop_back();
  save_data_cache(k, d);
  EXPECT_FALSE(load_data_cache(k, &why).has_value());
  EXPECT_NE(why.find("wrong type or shape"), std::string::npos) << why;
}

// The fuzzing seed (tests/testdata/fuzz/model/) is a valid entry for the key it carries.
TEST(DataCacheSeed, TheFuzzSeedIsAValidEntry) {
  const ModelFile f = read_model_file(std::string(DEEPCROSS_TESTDATA_DIR) +
                                      "/fuzz/model/data_cache_60_rows.dcache");
  std::string why;
  const auto d = data_cache_from_file(f, f.metadata.at("key"), &why);
  ASSERT_TRUE(d.has_value()) << why;
  EXPECT_EQ(d->train.rows + d->valid.rows + d->test.rows, 60u);
  EXPECT_FALSE(data_cache_from_file(f, nlohmann::json::object(), &why).has_value());
}

TEST_F(DataCache, AnUnwritableFolderIsADataErrorNamingIt) {
  write(dir_.string() + "/file", "x");
  auto k = data_cache_key(dir_.string() + "/file/sub", {{"data", data_}}, {}, {});
  ASSERT_TRUE(k.has_value());
  try {
    save_data_cache(*k, ingest());
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.where()).find("file/sub"), std::string::npos) << e.where();
  }
}

}  // namespace
}  // namespace deepcross
