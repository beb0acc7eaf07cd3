// train --cache: the first run parses and writes the cache, a second identical run loads it and
// trains to the same model; a damaged entry is reported and rebuilt, never trusted.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e/cli_util.h"
#include "io/model_file.h"

namespace deepcross::e2e {
namespace {

std::vector<std::string> train_args(const TempDir& dir, const std::string& model) {
  return {"train", "--data", sample_path(), "--model", model, "--epochs", "2", "--threads", "1",
          "--cache", dir.file("cache"), "--history", "none", "--curves", "none"};
}

std::vector<std::string> cache_files(const TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("cache"))) {
    out.push_back(e.path().string());
  }
  return out;
}

// Everything but the run's timings.
nlohmann::json metrics(const CliRun& r) {
  nlohmann::json j = parse_json_object(r.out);
  j.erase("seconds");
  j.erase("train_samples_per_s");
  j.erase("model");
  return j;
}

void expect_same_tensors(const std::string& a, const std::string& b) {
  const ModelFile fa = read_model_file(a), fb = read_model_file(b);
  ASSERT_EQ(fa.tensors.size(), fb.tensors.size());
  for (size_t i = 0; i < fa.tensors.size(); ++i) {
    EXPECT_EQ(fa.tensors[i].name, fb.tensors[i].name);
    EXPECT_TRUE(fa.tensors[i].bytes == fb.tensors[i].bytes) << fa.tensors[i].name;
  }
  EXPECT_EQ(fa.metadata.at("data"), fb.metadata.at("data"));
}

TEST(TrainCache, ASecondRunLoadsTheCacheAndTrainsTheSameModel) {
  TempDir dir;
  const CliRun first = run_deepcross(train_args(dir, dir.file("a.dcn")));
  ASSERT_TRUE(succeeded(first));
  EXPECT_NE(first.err.find("read, fitted and encoded (cached in "), std::string::npos) << first.err;
  ASSERT_EQ(cache_files(dir).size(), 1u);

  const CliRun second = run_deepcross(train_args(dir, dir.file("b.dcn")));
  ASSERT_TRUE(succeeded(second));
  EXPECT_NE(second.err.find("loaded from the data cache " + cache_files(dir)[0]), std::string::npos)
      << second.err;
  EXPECT_EQ(metrics(first), metrics(second));
  expect_same_tensors(dir.file("a.dcn"), dir.file("b.dcn"));

  // A run without --cache trains the same model too.
  std::vector<std::string> plain = train_args(dir, dir.file("c.dcn"));
  plain.erase(plain.begin() + 9, plain.begin() + 11);
  const CliRun third = run_deepcross(plain);
  ASSERT_TRUE(succeeded(third));
  EXPECT_EQ(third.err.find("data cache"), std::string::npos) << third.err;
  expect_same_tensors(dir.file("a.dcn"), dir.file("c.dcn"));
}

TEST(TrainCache, OtherPreprocessingMakesAnotherEntry) {
  TempDir dir;
  ASSERT_TRUE(succeeded(run_deepcross(train_args(dir, dir.file("a.dcn")))));
  std::vector<std::string> args = train_args(dir, dir.file("b.dcn"));
  args.insert(args.end(), {"--min-count", "5"});
  const CliRun r = run_deepcross(args);
  ASSERT_TRUE(succeeded(r));
  EXPECT_NE(r.err.find("cached in"), std::string::npos) << r.err;
  EXPECT_EQ(cache_files(dir).size(), 2u);
}

TEST(TrainCache, ADamagedEntryIsReportedRebuiltAndTheRunSucceeds) {
  TempDir dir;
  ASSERT_TRUE(succeeded(run_deepcross(train_args(dir, dir.file("a.dcn")))));
  const std::string entry = cache_files(dir).at(0);
  std::string bytes = read_file(entry);
  bytes[bytes.size() / 2] ^= 0x01;
  write_file(entry, bytes);
  const CliRun r = run_deepcross(train_args(dir, dir.file("b.dcn")));
  ASSERT_TRUE(succeeded(r));
  EXPECT_NE(r.err.find("deepcross: warning: ignoring the data cache entry " + entry), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cached in"), std::string::npos) << r.err;
  expect_same_tensors(dir.file("a.dcn"), dir.file("b.dcn"));
  // Rebuilt: the next run loads it.
  const CliRun again = run_deepcross(train_args(dir, dir.file("c.dcn")));
  ASSERT_TRUE(succeeded(again));
  EXPECT_NE(again.err.find("loaded from the data cache"), std::string::npos) << again.err;
}

TEST(TrainCache, ACacheThatCannotBeWrittenIsAWarningNotAFailure) {
  TempDir dir;
  write_file(dir.file("cache"), "a file where the folder should be");
  const CliRun r = run_deepcross(train_args(dir, dir.file("a.dcn")));
  ASSERT_TRUE(succeeded(r));
  EXPECT_NE(r.err.find("deepcross: warning: could not write the data cache"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace deepcross::e2e
