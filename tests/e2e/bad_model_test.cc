// The bad-model table: a real model file, damaged one way per row (missing, empty, truncated
// at many offsets, a flipped byte, another format version, text, gzip, a folder...), given to
// `info`, `eval` and `predict`; each must exit 1 with one error line naming the path and, for
// what the container reader finds, the byte offset. Then bad data for a good model (eval,
// predict), and rows with unseen categories, which must predict.
//
// Byte layout (src/io/model_file.h): magic [0, 8), u32 version at 8, u32 flags at 12, u64 file
// size at 16, u64 metadata length at 24, metadata JSON at 32, ..., u32 CRC-32 of [0, size-4) in
// the last 4 bytes. The reader checks the magic, then the version, the flags, the size, and only
// then the checksum, so a version patched without fixing the CRC still reports the version.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

constexpr const char* kModel = "model.dcn";  // the damaged copy, in the test's folder

void put_u32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(std::string& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_u64(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}
// Rewrites the trailing CRC-32 so that only the deliberate damage remains.
std::string with_crc(std::string b) {
  const uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size() - 4));
  put_u32(b, b.size() - 4, static_cast<uint32_t>(crc));
  return b;
}

using Damage = std::function<std::string(const std::string&)>;

struct ModelCase {
  std::string name;
  Damage damage;                    // good bytes → the file to write; null: write nothing
  std::vector<std::string> expect;  // substrings of the error line (the same for all commands)
};

Damage truncate_at(size_t n) {
  return [n](const std::string& b) { return b.substr(0, n); };
}

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> cases = {
      {"Missing", nullptr, {"cannot open model file", "(model.dcn)"}},
      {"Empty", truncate_at(0), {"model file is empty", "(model.dcn at byte 0)"}},
      {"CorruptByteInTheMiddle",
       [](const std::string& b) {
         std::string c = b;
         c[c.size() / 2] ^= 0x5a;
         return c;
       },
       {"checksum mismatch", "(model.dcn at byte"}},
      {"CorruptChecksum",
       [](const std::string& b) {
         std::string c = b;
         c[c.size() - 1] ^= 0x01;
         return c;
       },
       {"checksum mismatch", "(model.dcn at byte"}},
      {"OtherVersionWithItsChecksum",
       [](const std::string& b) {
         std::string c = b;
         put_u32(c, 8, 2);
         return with_crc(c);
       },
       {"model format version 2 is not supported by this deepcross (reads version 1)",
        "(model.dcn at byte 8)"}},
      {"OtherVersionChecksumUnchanged",
       [](const std::string& b) {
         std::string c = b;
         put_u32(c, 8, 2);
         return c;
       },
       {"model format version 2 is not supported", "(model.dcn at byte 8)"}},
      {"VersionZero",
       [](const std::string& b) {
         std::string c = b;
         put_u32(c, 8, 0);
         return with_crc(c);
       },
       {"version 0", "reads version 1", "(model.dcn at byte 8)"}},
      {"UnknownFlags",
       [](const std::string& b) {
         std::string c = b;
         put_u32(c, 12, 1);
         return with_crc(c);
       },
       {"flags", "(model.dcn at byte 12)"}},
      {"MetadataLengthBeyondTheFile",
       [](const std::string& b) {
         std::string c = b;
         put_u64(c, 24, uint64_t{1} << 50);
         return with_crc(c);
       },
       {"metadata", "(model.dcn at byte 24)"}},
      {"MetadataNotJson",
       [](const std::string& b) {
         std::string c = b;
         c[32] = '[';  // `{"data":...` becomes `["data":...`
         return with_crc(c);
       },
       {"not valid JSON", "(model.dcn at byte"}},
      {"HugeTensorCount",
       [](const std::string& b) {
         std::string c = b;
         put_u64(c, 32 + get_u64(c, 24), uint64_t{1} << 40);
         return with_crc(c);
       },
       {"tensor count", "(model.dcn at byte"}},
      {"MetadataWithoutTheCrossKey",
       [](const std::string& b) {
         std::string c = b;
         const size_t at = c.find("\"cross\"");
         if (at != std::string::npos) c.replace(at, 7, "\"crosz\"");
         return with_crc(c);
       },
       {"cross", "model.dcn"}},
      {"BytesAfterTheEnd",
       [](const std::string& b) { return b + "extra"; },
       {"unexpected bytes", "(model.dcn at byte"}},
      {"TextFile",
       [](const std::string&) { return std::string("0\t1\t2\nhello\n"); },
       {"not a deepcross model file", "(model.dcn at byte 0)"}},
      {"JsonFile",
       [](const std::string&) { return std::string("{\"cross\": \"matrix\"}\n"); },
       {"not a deepcross model file", "(model.dcn at byte 0)"}},
      {"GzipFile",
       [](const std::string&) { return std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8); },
       {"not a deepcross model file", "(model.dcn at byte 0)"}},
  };
  // Cut a real model at several offsets: inside the magic, the version, the header, the
  // metadata, the tensors, and one byte short.
  for (size_t n : {4, 8, 12, 23, 24, 31, 100, 1000}) {
    cases.push_back({"TruncatedAt" + std::to_string(n),
                     truncate_at(n),
                     {"truncated", "(model.dcn at byte " + std::to_string(n) + ")"}});
  }
  cases.push_back({"TruncatedAtHalf",
                   [](const std::string& b) { return b.substr(0, b.size() / 2); },
                   {"truncated", "(model.dcn at byte"}});
  cases.push_back({"TruncatedBeforeTheChecksum",
                   [](const std::string& b) { return b.substr(0, b.size() - 4); },
                   {"truncated", "(model.dcn at byte"}});
  cases.push_back({"TruncatedByOneByte",
                   [](const std::string& b) { return b.substr(0, b.size() - 1); },
                   {"truncated", "(model.dcn at byte"}});
  return cases;
}

// A small model trained once per process, and rows to feed it.
class WithModel {
 public:
  static const WithModel& get() {
    static const WithModel m;
    return m;
  }
  std::string bytes;
  std::string rows_path;

 private:
  WithModel() {
    train_small_model(dir_, dir_.file("good.dcn"));
    bytes = read_file(dir_.file("good.dcn"));
    rows_path = dir_.file("small_train.tsv");
  }
  TempDir dir_;
};

class BadModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(BadModel, InfoEvalAndPredictFailNamingThePathAndByte) {
  const ModelCase& c = GetParam();
  const WithModel& good = WithModel::get();
  ASSERT_GT(good.bytes.size(), 1000u);
  TempDir dir;
  if (c.damage) write_file(dir.file(kModel), c.damage(good.bytes));
  const std::vector<std::vector<std::string>> commands = {
      {"info", "--model", kModel},
      {"eval", "--model", kModel, "--data", good.rows_path, "--threads", "1"},
      {"predict", "--model", kModel, "--data", good.rows_path, "--threads", "1"}};
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0]);
    const CliRun r = run_deepcross(args, in_dir(dir.path()));
    for (const std::string& s : c.expect) EXPECT_TRUE(failed_with(r, 1, s));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadModel, ::testing::ValuesIn(model_cases()),
                         [](const ::testing::TestParamInfo<ModelCase>& p) { return p.param.name; });

TEST(BadModelPath, AFolderIsNotAModel) {
  TempDir dir;
  std::filesystem::create_directory(dir.file(kModel));
  const CliRun r = run_deepcross({"info", "--model", kModel}, in_dir(dir.path()));
  EXPECT_TRUE(failed_with(r, 1, "(model.dcn)"));
}

// ---- a good model with bad or unusual data ----

class UseWithModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const WithModel& good = WithModel::get();
    ASSERT_FALSE(good.bytes.empty());
    write_file(dir_.file(kModel), good.bytes);
  }
  CliRun run(std::vector<std::string> args) { return run_deepcross(args, in_dir(dir_.path())); }
  // The first `n` sample rows, each passed through `edit` with its 1-based line number.
  void write_rows(const std::string& name, size_t n,
                  const std::function<std::string(size_t, const std::string&)>& edit) {
    std::vector<std::string> rows = split_lines(sample_head(n));
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = edit(i + 1, rows[i]);
    write_file(dir_.file(name), join_lines(rows));
  }
  static std::string drop_label(const std::string& row) { return row.substr(row.find('\t') + 1); }
  TempDir dir_;
};

TEST_F(UseWithModel, EvalRefusesRowsWithoutTheLabel) {
  write_rows("rows.tsv", 20, [](size_t, const std::string& r) { return drop_label(r); });
  EXPECT_TRUE(failed_with(run({"eval", "--model", kModel, "--data", "rows.tsv"}), 1,
                          "expected 40 fields, found 39 (rows.tsv:1"));
}

TEST_F(UseWithModel, PredictRefusesAFileThatChangesWidth) {
  write_rows("a.tsv", 20,
             [](size_t line, const std::string& r) { return line <= 3 ? r : drop_label(r); });
  EXPECT_TRUE(failed_with(run({"predict", "--model", kModel, "--data", "a.tsv"}), 1,
                          "expected 40 fields, found 39 (a.tsv:4"));
  write_rows("b.tsv", 20,
             [](size_t line, const std::string& r) { return line <= 3 ? drop_label(r) : r; });
  EXPECT_TRUE(failed_with(run({"predict", "--model", kModel, "--data", "b.tsv"}), 1,
                          "expected 39 fields, found 40 (b.tsv:4"));
}

TEST_F(UseWithModel, BadNumbersAndLabelsNameLineAndColumn) {
  write_rows("nan.tsv", 20, [](size_t line, const std::string& r) {
    return line == 6 ? with_field(r, 4, "nan") : r;
  });
  EXPECT_TRUE(failed_with(run({"predict", "--model", kModel, "--data", "nan.tsv"}), 1,
                          "'nan' (not a finite number) (nan.tsv:6:column 5 (I4))"));
  EXPECT_TRUE(failed_with(run({"eval", "--model", kModel, "--data", "nan.tsv"}), 1,
                          "(nan.tsv:6:column 5 (I4))"));
  write_rows("label.tsv", 20, [](size_t line, const std::string& r) {
    return line == 2 ? with_field(r, 0, "-1") : r;
  });
  EXPECT_TRUE(failed_with(run({"eval", "--model", kModel, "--data", "label.tsv"}), 1,
                          "invalid label '-1' (expected 0 or 1) (label.tsv:2:column 1 (label))"));
}

TEST_F(UseWithModel, MissingOrEmptyDataFiles) {
  write_file(dir_.file("empty.tsv"), "");
  for (const char* sub : {"eval", "predict"}) {
    SCOPED_TRACE(sub);
    EXPECT_TRUE(failed_with(run({sub, "--model", kModel, "--data", "nope.tsv"}), 1, "(nope.tsv)"));
  }
  // No rows: nothing to evaluate is an error; nothing to predict is no predictions.
  EXPECT_TRUE(failed_with(run({"eval", "--model", kModel, "--data", "empty.tsv"}), 1, "(empty.tsv)"));
  const CliRun p = run({"predict", "--model", kModel, "--data", "empty.tsv"});
  EXPECT_TRUE(succeeded(p));
  EXPECT_EQ(p.out, "");
}

TEST_F(UseWithModel, PredictOutputIntoAMissingFolderNamesThePath) {
  write_rows("rows.tsv", 5, [](size_t, const std::string& r) { return r; });
  EXPECT_TRUE(failed_with(
      run({"predict", "--model", kModel, "--data", "rows.tsv", "--output", "no/such/p.txt"}), 1,
      "no/such/p.txt"));
}

TEST_F(UseWithModel, UnseenCategoriesPredict) {
  // Every categorical field of every row replaced by a value no training row had.
  write_rows("oov.tsv", 50, [](size_t line, const std::string& r) {
    std::string row = r;
    for (size_t f = 14; f < 40; ++f) row = with_field(row, f, "zz" + std::to_string(line * 40 + f));
    return row;
  });
  write_rows("oov_bare.tsv", 50, [](size_t line, const std::string& r) {
    std::string row = r;
    for (size_t f = 14; f < 40; ++f) row = with_field(row, f, "zz" + std::to_string(line * 40 + f));
    return drop_label(row);
  });
  const CliRun labelled = run({"predict", "--model", kModel, "--data", "oov.tsv"});
  ASSERT_TRUE(succeeded(labelled));
  const auto p = parse_predictions(labelled.out);
  ASSERT_TRUE(p.has_value()) << labelled.out;
  EXPECT_EQ(p->size(), 50u);
  const CliRun bare = run({"predict", "--model", kModel, "--data", "oov_bare.tsv"});
  ASSERT_TRUE(succeeded(bare));
  EXPECT_EQ(bare.out, labelled.out);
  const CliRun eval = run({"eval", "--model", kModel, "--data", "oov.tsv"});
  ASSERT_TRUE(succeeded(eval));
  EXPECT_EQ(parse_json_object(eval.out)["rows"], 50);
}

}  // namespace
}  // namespace deepcross::e2e
