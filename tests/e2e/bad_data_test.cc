// The bad-input table for training data: each row is a file (derived from the shipped sample
// or written out), a `train` command line, the exit code and what the one-line error must say,
// WHERE included (file:LINE:column N (NAME)). Plus the inputs that must be accepted: opaque
// categorical bytes, every spelling of a finite decimal, and --bad-lines skip.
#include <gtest/gtest.h>
#include <zlib.h>

#include <functional>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

// The first 300 rows of the shipped sample, with `edit` applied to the (1-based) line `line`.
std::string sample_with(size_t line, const std::function<std::string(const std::string&)>& edit) {
  std::vector<std::string> rows = split_lines(sample_head(300));
  rows[line - 1] = edit(rows[line - 1]);
  return join_lines(rows);
}

std::function<std::string()> field_set(size_t line, size_t field, std::string value) {
  return [=] {
    return sample_with(line, [&](const std::string& l) { return with_field(l, field, value); });
  };
}

std::function<std::string()> width_set(size_t line, size_t width) {
  return
      [=] { return sample_with(line, [&](const std::string& l) { return with_width(l, width); }); };
}

std::function<std::string()> text(std::string t) {
  return [t] { return t; };
}

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile g = gzopen(path.c_str(), "wb");
  ASSERT_NE(g, nullptr) << path;
  ASSERT_EQ(gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(g), Z_OK);
}

struct DataCase {
  std::string name;
  std::string file;                      // the file written in the test's folder ("" = none)
  std::function<std::string()> content;  // its bytes (gzip-compressed when file ends in .gz)
  std::vector<std::string> args;         // the train flags after the fixed ones below
  int exit_code;
  std::vector<std::string> expect;  // substrings of the error line
};

// Fast training flags, in case a case is wrongly accepted and trains.
const std::vector<std::string> kFast = {"--epochs",     "1",  "--threads", "1",
                                        "--batch-size", "64", "--mlp",     "16"};

std::vector<DataCase> data_cases() {
  const std::vector<std::string> csv = {"--format", "csv", "--label",       "click",
                                        "--ignore", "id",  "--categorical", "a"};
  std::vector<DataCase> cases = {
      {"MissingDataFile", "", nullptr, {"--data", "nope.tsv"}, 1, {"cannot open", "(nope.tsv)"}},
      {"EmptyFile",
       "rows.tsv",
       text(""),
       {"--data", "rows.tsv"},
       1,
       {"no data rows", "(rows.tsv)"}},
      {"HeaderOnlyCsv",
       "rows.csv",
       text("id,click,a\n"),
       {"--data", "rows.csv"},
       1,
       {"no data rows", "(rows.csv)"}},
      {"Row39Fields",
       "rows.tsv",
       width_set(9, 39),
       {"--data", "rows.tsv"},
       1,
       {"expected 40 fields, found 39", "(rows.tsv:9"}},
      {"Row41Fields",
       "rows.tsv",
       width_set(9, 41),
       {"--data", "rows.tsv"},
       1,
       {"expected 40 fields, found 41", "(rows.tsv:9"}},
      {"UnlabelledTrainingFile",
       "rows.tsv",
       [] {
         std::string t;
         for (const std::string& l : split_lines(sample_head(50)))
           t += l.substr(l.find('\t') + 1) + "\n";
         return t;
       },
       {"--data", "rows.tsv"},
       1,
       {"expected 40 fields, found 39", "(rows.tsv:1"}},
      {"TwoFieldRow",
       "rows.tsv",
       text("0\t1\n"),
       {"--data", "rows.tsv"},
       1,
       {"found 2", "(rows.tsv:1"}},
      {"GzipNumericAbc",
       "rows.tsv.gz",
       field_set(7, 2, "abc"),
       {"--data", "rows.tsv.gz"},
       1,
       {"'abc'", "(rows.tsv.gz:7:column 3 (I2))"}},
      {"ValidFileBadLabel",
       "valid.tsv",
       field_set(5, 0, "2"),
       {"--data", DEEPCROSS_SOURCE_DIR "/data/criteo_kaggle_head_10k.tsv.gz", "--valid",
        "valid.tsv"},
       1,
       {"invalid label '2'", "(valid.tsv:5:column 1 (label))"}},
      {"TestFileNumericNan",
       "test.tsv",
       field_set(6, 13, "nan"),
       {"--data", DEEPCROSS_SOURCE_DIR "/data/criteo_kaggle_head_10k.tsv.gz", "--test", "test.tsv"},
       1,
       {"'nan'", "(test.tsv:6:column 14 (I13))"}},
      {"InvalidUtf8CsvHeader",
       "rows.csv",
       text("id,click,\xff\xfe"
            "a,b\n1,0,x,y\n2,1,z,w\n"),
       {"--data", "rows.csv", "--format", "csv", "--label", "click", "--ignore", "id",
        "--categorical", "b"},
       1,
       {"not valid UTF-8", "(rows.csv:1:column 3"}},
      {"CsvRowTooWide",
       "rows.csv",
       text("id,click,a\n1,0,x\n2,1,y,extra\n3,0,z\n"),
       {"--data", "rows.csv"},
       1,
       {"expected 3 fields, found 4", "(rows.csv:3"}},
      {"CsvLabelNotInHeader",
       "rows.csv",
       text("id,click,a\n1,0,x\n2,1,y\n"),
       {"--data", "rows.csv", "--format", "csv", "--label", "clicked", "--ignore", "id,click",
        "--categorical", "a"},
       1,
       {"'clicked'", "not in the header", "(rows.csv:1)"}},
  };
  // The CSV cases above that only give --data take the usual roles.
  for (DataCase& c : cases) {
    if (c.file == "rows.csv" && c.args.size() == 2)
      c.args.insert(c.args.end(), csv.begin(), csv.end());
  }
  // A value in a numeric field that is not a finite float: line 7, column 3 (I2).
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"Nan", "nan"},
                                                        {"NanCapitalised", "NaN"},
                                                        {"Inf", "inf"},
                                                        {"MinusInf", "-inf"},
                                                        {"BeyondFloat", "1e999"},
                                                        {"Text", "abc"},
                                                        {"Hex", "0x10"},
                                                        {"LeadingSpace", " 5"}}) {
    cases.push_back({"Numeric" + name,
                     "rows.tsv",
                     field_set(7, 2, value),
                     {"--data", "rows.tsv"},
                     1,
                     {"'" + value + "'", "(rows.tsv:7:column 3 (I2))"}});
  }
  // A bad binary label: line 5, column 1.
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Two", "2"}, {"MinusOne", "-1"}, {"Text", "x"}}) {
    cases.push_back({"Label" + name,
                     "rows.tsv",
                     field_set(5, 0, value),
                     {"--data", "rows.tsv"},
                     1,
                     {"invalid label '" + value + "'", "(rows.tsv:5:column 1 (label))"}});
  }
  cases.push_back({"LabelMissing",
                   "rows.tsv",
                   field_set(5, 0, ""),
                   {"--data", "rows.tsv"},
                   1,
                   {"label", "(rows.tsv:5:column 1 (label))"}});
  return cases;
}

class BadTrainingData : public ::testing::TestWithParam<DataCase> {};

TEST_P(BadTrainingData, FailsWithOneLineNamingWhere) {
  const DataCase& c = GetParam();
  TempDir dir;
  if (!c.file.empty()) {
    if (c.file.ends_with(".gz")) {
      write_gzip(dir.file(c.file), c.content());
    } else {
      write_file(dir.file(c.file), c.content());
    }
  }
  std::vector<std::string> args = {"train"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  args.insert(args.end(), kFast.begin(), kFast.end());
  const CliRun r = run_deepcross(args, in_dir(dir.path()));
  for (const std::string& s : c.expect) EXPECT_TRUE(failed_with(r, c.exit_code, s));
}

INSTANTIATE_TEST_SUITE_P(Table, BadTrainingData, ::testing::ValuesIn(data_cases()),
                         [](const ::testing::TestParamInfo<DataCase>& p) { return p.param.name; });

// A row of the wrong width names file:LINE and the first missing (or extra) column.
TEST(BadTrainingDataWidth, WrongWidthNamesTheColumn) {
  TempDir dir;
  write_file(dir.file("short.tsv"), width_set(9, 39)());
  write_file(dir.file("long.tsv"), width_set(9, 41)());
  const CliRun s =
      run_deepcross({"train", "--data", "short.tsv", "--epochs", "1"}, in_dir(dir.path()));
  EXPECT_TRUE(failed_with(s, 1, "(short.tsv:9:column 40 (C39))"));
  const CliRun l =
      run_deepcross({"train", "--data", "long.tsv", "--epochs", "1"}, in_dir(dir.path()));
  EXPECT_TRUE(failed_with(l, 1, "(long.tsv:9:column 41"));
}

// Runs a fast train in `dir` on `file` plus `extra` flags.
CliRun train_fast(const TempDir& dir, const std::string& file,
                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train", "--data", file, "--model", "m.dcn"};
  args.insert(args.end(), kFast.begin(), kFast.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return run_deepcross(args, in_dir(dir.path()));
}

TEST(AcceptedData, InvalidUtf8InCategoricalFieldsIsOpaqueBytes) {
  TempDir dir;
  std::vector<std::string> rows = split_lines(sample_head(300));
  for (size_t i = 0; i < rows.size(); i += 3) rows[i] = with_field(rows[i], 20, "\xff\xfe\x80z");
  for (size_t i = 1; i < rows.size(); i += 7) rows[i] = with_field(rows[i], 30, "\xc3(");
  write_file(dir.file("rows.tsv"), join_lines(rows));
  const CliRun train = train_fast(dir, "rows.tsv");
  ASSERT_TRUE(succeeded(train));
  const CliRun predict =
      run_deepcross({"predict", "--model", "m.dcn", "--data", "rows.tsv"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(predict));
  const auto p = parse_predictions(predict.out);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size(), rows.size());
  const CliRun info = run_deepcross({"info", "--model", "m.dcn"}, in_dir(dir.path()));
  ASSERT_TRUE(succeeded(info));
  EXPECT_FALSE(parse_json_object(info.out).is_discarded()) << "info is not valid JSON";
}

TEST(AcceptedData, EverySpellingOfAFiniteDecimalIsANumber) {
  TempDir dir;
  std::vector<std::string> rows = split_lines(sample_head(300));
  const std::vector<std::string> values = {"-2",   "3.5", "1e3", "",   "+4", "1e-50",
                                           "3e38", "-0",  ".5",  "7.", "1E2"};
  for (size_t i = 0; i < values.size(); ++i) {
    rows[10 + i] = with_field(rows[10 + i], 1 + i % 13, values[i]);
  }
  write_file(dir.file("rows.tsv"), join_lines(rows));
  EXPECT_TRUE(succeeded(train_fast(dir, "rows.tsv")));
}

TEST(AcceptedData, BadLinesSkipTrainsAndCountsTheSkippedLines) {
  TempDir dir;
  std::vector<std::string> rows = split_lines(sample_head(300));
  rows[9] = with_field(rows[9], 2, "abc");  // line 10: a bad number
  rows[49] = with_field(rows[49], 0, "7");  // line 50: a bad label
  rows[99] = with_width(rows[99], 30);      // line 100: a short row
  write_file(dir.file("rows.tsv"), join_lines(rows));
  const CliRun skip = train_fast(dir, "rows.tsv", {"--bad-lines", "skip"});
  ASSERT_TRUE(succeeded(skip));
  EXPECT_FALSE(parse_json_object(skip.out).is_discarded()) << skip.out;
  const std::vector<std::string> err = split_lines(skip.err);
  bool warned = false;
  for (const std::string& l : err) {
    if (l.starts_with("deepcross: warning:") && l.find("skipped 3") != std::string::npos) {
      warned = true;
      EXPECT_NE(l.find("rows.tsv:10"), std::string::npos) << "the first skipped line: " << l;
    }
  }
  EXPECT_TRUE(warned) << skip.err;

  const CliRun strict = train_fast(dir, "rows.tsv");
  EXPECT_TRUE(failed_with(strict, 1, "(rows.tsv:10:column 3 (I2))"));
}

}  // namespace
}  // namespace deepcross::e2e
