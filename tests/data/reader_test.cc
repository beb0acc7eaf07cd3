#include "data/reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/reader_test_support.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

using namespace reader_testing;  // NOLINT: test helpers

// `sha256sum tests/testdata/data/criteo_sample.tsv`, computed outside deepcross.
constexpr const char* kSampleSha256 =
    "71d6cc42985ad8cb68d8f51df421fd87ba9f6a3c645875d23cdfd15466c33b72";

// ---------------------------------------------------------------------------------------
// Helpers

// A Criteo line: label (or none when empty optional), 13 numeric, 26 categorical fields.
std::string criteo_line(const std::string& label, const std::vector<std::string>& numeric,
                        const std::vector<std::string>& categorical, bool with_label = true) {
  std::string line = with_label ? label : "";
  for (int i = 0; i < 13; ++i) {
    if (with_label || i > 0) line += '\t';
    line += i < static_cast<int>(numeric.size()) ? numeric[i] : "";
  }
  for (int i = 0; i < 26; ++i) {
    line += '\t';
    line += i < static_cast<int>(categorical.size()) ? categorical[i] : "";
  }
  return line + "\n";
}

// A random Criteo line, some fields missing.
std::string random_criteo_line(Rng& rng, bool with_label = true) {
  std::vector<std::string> numeric, categorical;
  for (int i = 0; i < 13; ++i) {
    numeric.push_back(rng.below(5) == 0 ? ""
                                        : std::to_string(static_cast<int>(rng.below(300)) - 3));
  }
  for (int i = 0; i < 26; ++i) {
    const uint64_t cardinality = i % 3 == 0 ? 5000 : i % 3 == 1 ? 40 : 3;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x",
                  static_cast<unsigned>(rng.below(cardinality) * 2654435761u));
    categorical.push_back(rng.below(10) == 0 ? "" : hex);
  }
  return criteo_line(rng.below(4) == 0 ? "1" : "0", numeric, categorical, with_label);
}

std::string random_criteo_text(size_t rows, uint64_t seed) {
  Rng rng(seed);
  std::string text;
  for (size_t r = 0; r < rows; ++r) text += random_criteo_line(rng);
  return text;
}

ReadOptions criteo(LabelPolicy policy = LabelPolicy::kRequired, int threads = 1) {
  ReadOptions o;
  o.label_policy = policy;
  o.threads = threads;
  return o;
}

// The error parsing `text` as one Criteo file named "f.tsv" gives.
std::string criteo_error(const std::string& text, ReadOptions opts = criteo()) {
  return data_error([&] { parse_table(text, "f.tsv", opts); });
}

// ---------------------------------------------------------------------------------------
// Criteo

TEST(ReaderTest, ReadsCriteoRows) {
  const std::string text =
      criteo_line("1", {"5", "-1", "", "3.5"}, {"68fd1e64", "", "abc"}) +
      criteo_line("0", {"", "2", "1e3"}, {"80e26c9b", "x", "abc"}) +
      criteo_line("1", {"0"}, {"68fd1e64", "", "\xff\xfe"});  // categorical bytes are opaque
  ReaderTempDir dir;
  const std::string path = dir.write("train.tsv", text);
  const Table t = read_table({path}, criteo());
  ASSERT_EQ(t.rows, 3u);
  EXPECT_TRUE(t.has_label);
  EXPECT_EQ(t.label_name, "label");
  EXPECT_EQ(t.labels, (std::vector<float>{1, 0, 1}));
  ASSERT_EQ(t.numeric.size(), 13u);
  ASSERT_EQ(t.categorical.size(), 26u);
  EXPECT_EQ(t.numeric[0].name, "I1");
  EXPECT_EQ(t.numeric[12].name, "I13");
  EXPECT_EQ(t.categorical[0].name, "C14");
  EXPECT_EQ(t.categorical[25].name, "C39");
  EXPECT_EQ(t.numeric[0].values[0], 5.0f);
  EXPECT_TRUE(std::isnan(t.numeric[0].values[1]));
  EXPECT_EQ(t.numeric[1].values[0], -1.0f);
  EXPECT_EQ(t.numeric[2].values[1], 1000.0f);
  EXPECT_EQ(t.numeric[3].values[0], 3.5f);
  EXPECT_TRUE(std::isnan(t.numeric[12].values[2]));
  EXPECT_EQ(t.categorical[0].dictionary, (std::vector<std::string>{"68fd1e64", "80e26c9b"}));
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_EQ(t.categorical[1].dictionary, (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(t.categorical[1].codes, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_EQ(t.categorical[2].dictionary, (std::vector<std::string>{"abc", "\xff\xfe"}));
  EXPECT_EQ(t.categorical[25].dictionary, (std::vector<std::string>{""}));
  EXPECT_EQ(t.sources, (std::vector<std::string>{path}));
  EXPECT_EQ(t.source_rows, (std::vector<size_t>{3}));
  EXPECT_EQ(t.skipped_lines, 0u);
  EXPECT_EQ(t.sha256, sha256_of(text));
}

TEST(ReaderTest, CriteoWithoutLabelFollowsThePolicy) {
  Rng rng(3);
  const std::string unlabeled = random_criteo_line(rng, false) + random_criteo_line(rng, false);
  const std::string labeled = random_criteo_line(rng) + random_criteo_line(rng);
  for (auto policy : {LabelPolicy::kOptional, LabelPolicy::kAbsent}) {
    const Table t = parse_table(unlabeled, "f.tsv", criteo(policy));
    EXPECT_EQ(t.rows, 2u);
    EXPECT_FALSE(t.has_label);
    EXPECT_TRUE(t.labels.empty());
    EXPECT_EQ(t.label_name, "");
    EXPECT_EQ(t.numeric.size(), 13u);
    EXPECT_EQ(t.categorical.size(), 26u);
  }
  const Table with = parse_table(labeled, "f.tsv", criteo(LabelPolicy::kOptional));
  EXPECT_TRUE(with.has_label);
  EXPECT_EQ(with.labels.size(), 2u);
  EXPECT_EQ(criteo_error(unlabeled), "expected 40 fields, found 39 (f.tsv:1)");
  EXPECT_EQ(criteo_error(labeled, criteo(LabelPolicy::kAbsent)),
            "expected 39 fields, found 40 (f.tsv:1)");
  EXPECT_EQ(criteo_error("a\tb\n", criteo(LabelPolicy::kOptional)),
            "expected 39 or 40 fields, found 2 (f.tsv:1)");
  // The first row decides; a row of the other width is an error naming its line.
  EXPECT_EQ(criteo_error(labeled + unlabeled, criteo(LabelPolicy::kOptional)),
            "expected 40 fields, found 39 (f.tsv:3:column 40 (C39))");
  EXPECT_EQ(criteo_error(unlabeled + labeled, criteo(LabelPolicy::kOptional)),
            "expected 39 fields, found 40 (f.tsv:3:column 40)");
  // In a 39-field row, column 1 is I1.
  Rng r2(4);
  std::string bad = random_criteo_line(r2, false);
  bad.insert(0, "x");
  EXPECT_EQ(
      criteo_error(bad, criteo(LabelPolicy::kOptional)),
      "invalid numeric value 'x" + bad.substr(1, bad.find('\t') - 1) + "' (f.tsv:1:column 1 (I1))");
}

TEST(ReaderTest, CriteoErrorTable) {
  struct Case {
    std::string line;
    std::string error;
  };
  const std::vector<Case> cases = {
      {criteo_line("0", {"1", "abc"}, {}), "invalid numeric value 'abc' (f.tsv:2:column 3 (I2))"},
      {criteo_line("0", {"nan"}, {}),
       "invalid numeric value 'nan' (not a finite number) (f.tsv:2:column 2 (I1))"},
      {criteo_line("0", {"", "", "", "", "", "", "", "", "", "", "", "", "-inf"}, {}),
       "invalid numeric value '-inf' (not a finite number) (f.tsv:2:column 14 (I13))"},
      {criteo_line("0", {"1e39"}, {}),
       "numeric value '1e39' is beyond float range (f.tsv:2:column 2 (I1))"},
      {criteo_line("0", {" 3"}, {}), "invalid numeric value ' 3' (f.tsv:2:column 2 (I1))"},
      {criteo_line("0", {"0x10"}, {}), "invalid numeric value '0x10' (f.tsv:2:column 2 (I1))"},
      {criteo_line("2", {}, {}), "invalid label '2' (expected 0 or 1) (f.tsv:2:column 1 (label))"},
      {criteo_line("", {}, {}), "missing label (f.tsv:2:column 1 (label))"},
      {criteo_line("yes", {}, {}),
       "invalid label 'yes' (expected 0 or 1) (f.tsv:2:column 1 (label))"},
      {"0\t1\t2\n", "expected 40 fields, found 3 (f.tsv:2:column 4 (I3))"},
      {criteo_line("0", {}, {}).insert(0, "\t"), "expected 40 fields, found 41 (f.tsv:2:column 41)"},
      {"x\n", "expected 40 fields, found 1 (f.tsv:2:column 2 (I1))"},
  };
  const std::string good = criteo_line("1", {"1"}, {"a"});
  for (const Case& c : cases) {
    EXPECT_EQ(criteo_error(good + c.line + good), c.error) << c.line;
  }
}

TEST(ReaderTest, LabelsForSeveralClasses) {
  ReadOptions o = criteo();
  o.classes = 3;
  const Table t = parse_table(
      criteo_line("2", {}, {}) + criteo_line("0", {}, {}) + criteo_line("1.0", {}, {}), "f.tsv", o);
  EXPECT_EQ(t.labels, (std::vector<float>{2, 0, 1}));
  EXPECT_EQ(criteo_error(criteo_line("3", {}, {}), o),
            "invalid label '3' (expected an integer from 0 to 2) (f.tsv:1:column 1 (label))");
}

TEST(ReaderTest, CrlfLinesReadLikeLf) {
  const std::string text = random_criteo_text(50, 11);
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const Table a = parse_table(text, "a", criteo());
  const Table b = parse_table(crlf, "b", criteo());
  expect_same_table(a, b);
  // A last line without any terminator counts too.
  const Table c = parse_table(text.substr(0, text.size() - 1), "c", criteo());
  expect_same_table(a, c);
}

TEST(ReaderTest, BlankLines) {
  const std::string row = criteo_line("1", {"1"}, {"a"});
  // At the end of a file: ignored (LF or CRLF).
  EXPECT_EQ(parse_table(row + row + "\n\r\n\n", "f", criteo()).rows, 2u);
  // Anywhere else: an error naming the first of them.
  EXPECT_EQ(criteo_error(row + "\n\n" + row), "empty line (f.tsv:2)");
  EXPECT_EQ(criteo_error("\n" + row), "empty line (f.tsv:1)");
  EXPECT_EQ(criteo_error("\r\n" + row + row), "empty line (f.tsv:1)");
  EXPECT_EQ(criteo_error("\n\n"), "no data rows (f.tsv)");
  // Skipped, and counted, under kSkip.
  ReadOptions skip = criteo();
  skip.bad_lines = BadLines::kSkip;
  std::vector<BadLine> bad;
  const Table t = parse_table("\n" + row + "\n\n" + row + "\n", "f", skip, &bad);
  EXPECT_EQ(t.rows, 2u);
  EXPECT_EQ(t.skipped_lines, 3u);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].what, "empty line");
  EXPECT_EQ(bad[0].where, "f:1");
  EXPECT_EQ(bad[1].where, "f:3");
  EXPECT_EQ(bad[2].where, "f:4");
}

TEST(ReaderTest, EmptyFilesHaveNoDataRows) {
  ReaderTempDir dir;
  const std::string empty = dir.write("empty.tsv", "");
  EXPECT_EQ(data_error([&] { read_table({empty}, criteo()); }),
            "no data rows (the file is empty) (" + empty + ")");
  const std::string empty_gz = dir.write("empty.tsv.gz", gzip_bytes(""));
  EXPECT_EQ(data_error([&] { read_table({empty_gz}, criteo()); }),
            "no data rows (the file is empty) (" + empty_gz + ")");
  ReadOptions csv;
  csv.format = Format::kCsv;
  csv.label = "y";
  csv.numeric = {"x"};
  const std::string header_only = dir.write("h.csv", "y,x\n");
  EXPECT_EQ(data_error([&] { read_table({header_only}, csv); }),
            "no data rows (" + header_only + ")");
  EXPECT_EQ(data_error([&] { parse_table("y,x", "body", csv); }), "no data rows (body)");
  // Every line skipped: no rows either.
  csv.bad_lines = BadLines::kSkip;
  EXPECT_EQ(data_error([&] { parse_table("y,x\n3,1\n", "body", csv); }), "no data rows (body)");
}

TEST(ReaderTest, MissingFileNamesPathAndReason) {
  ReaderTempDir dir;
  const std::string path = dir.file("absent.tsv");
  EXPECT_EQ(data_error([&] { read_table({path}, criteo()); }),
            "cannot open file: No such file or directory (" + path + ")");
}

// ---------------------------------------------------------------------------------------
// gzip

TEST(ReaderTest, GzipReadsLikePlain) {
  ReaderTempDir dir;
  const std::string text = random_criteo_text(300, 5);
  const std::string plain = dir.write("d.tsv", text);
  const std::string gz = dir.write("d.tsv.gz", gzip_bytes(text));
  const std::string multi =
      dir.write("m.tsv.gz", gzip_bytes(text.substr(0, 1000)) + gzip_bytes(text.substr(1000)));
  const Table a = read_table({plain}, criteo());
  const Table b = read_table({gz}, criteo());
  const Table c = read_table({multi}, criteo(LabelPolicy::kRequired, 2));
  expect_same_table(a, b);
  expect_same_table(a, c);
  EXPECT_EQ(b.sha256, sha256_of(text));  // of the decompressed bytes
  EXPECT_EQ(c.sha256, sha256_of(text));
  std::string corrupt = gzip_bytes(text);
  for (size_t i = 30; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  const std::string bad = dir.write("bad.tsv.gz", corrupt);
  const std::string message = data_error([&] { read_table({bad}, criteo()); });
  EXPECT_EQ(message.rfind("corrupt gzip data: ", 0), 0u) << message;
  EXPECT_EQ(message.substr(message.size() - bad.size() - 2), "(" + bad + ")");
}

TEST(ReaderTest, GzipErrorsComeAfterTheLinesBeforeThem) {
  ReaderTempDir dir;
  const std::string text = random_criteo_text(600, 6);
  const std::string gz = gzip_bytes(text);
  std::string bad_crc = gz;  // detected after every byte was decoded
  bad_crc[gz.size() - 6] = static_cast<char>(bad_crc[gz.size() - 6] ^ 1);
  const std::string crc_path = dir.write("crc.tsv.gz", bad_crc);
  const std::string crc_error = "corrupt gzip data: incorrect data check near compressed byte " +
                                std::to_string(gz.size() - 4) + " (" + crc_path + ")";
  std::string with_bad_line = text;
  with_bad_line.insert(0, "x");  // line 1, the label
  const std::string bad_label = with_bad_line.substr(0, with_bad_line.find('\t'));
  const std::string bad_line_path = dir.write("bad.tsv.gz", [&] {
    std::string g = gzip_bytes(with_bad_line);
    g[g.size() - 6] = static_cast<char>(g[g.size() - 6] ^ 1);
    return g;
  }());
  std::string mid = gz;  // corrupt in the middle: whatever comes first, always the same
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 40; ++i) mid[i] = static_cast<char>(~mid[i]);
  const std::string mid_path = dir.write("mid.tsv.gz", mid);
  const std::string mid_error = data_error([&] { read_table({mid_path}, criteo()); });
  EXPECT_NE(mid_error, "no error");
  for (int threads : {1, 3}) {
    for (size_t block : {size_t{1}, size_t{1000}, size_t{1} << 20}) {
      ReadOptions o = criteo(LabelPolicy::kRequired, threads);
      o.block_bytes = block;
      EXPECT_EQ(data_error([&] { read_table({crc_path}, o); }), crc_error);
      EXPECT_EQ(data_error([&] { read_table({bad_line_path}, o); }),
                "invalid label '" + bad_label + "' (expected 0 or 1) (" + bad_line_path +
                    ":1:column 1 (label))");
      EXPECT_EQ(data_error([&] { read_table({mid_path}, o); }), mid_error);
      o.bad_lines = BadLines::kSkip;  // skipping lines does not skip a corrupt file
      EXPECT_EQ(data_error([&] { read_table({bad_line_path}, o); }),
                "corrupt gzip data: incorrect data check near compressed byte " +
                    std::to_string(gzip_bytes(with_bad_line).size() - 4) + " (" + bad_line_path +
                    ")");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Skipping bad lines

TEST(ReaderTest, SkipModeCountsAndDescribesBadLines) {
  Rng rng(8);
  std::string text;
  std::vector<std::string> expected_where;
  std::string kept;
  for (int i = 1; i <= 40; ++i) {
    if (i % 3 == 0) {
      text += criteo_line("0", {"1", "bad"}, {"only-in-a-bad-line"});
      expected_where.push_back("f.tsv:" + std::to_string(i) + ":column 3 (I2)");
    } else {
      const std::string line = random_criteo_line(rng);
      text += line;
      kept += line;
    }
  }
  ReadOptions o = criteo();
  o.bad_lines = BadLines::kSkip;
  std::vector<BadLine> bad;
  const Table t = parse_table(text, "f.tsv", o, &bad);
  EXPECT_EQ(t.skipped_lines, 13u);
  EXPECT_EQ(t.rows, 27u);
  ASSERT_EQ(bad.size(), kMaxReportedBadLines);
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(bad[i].what, "invalid numeric value 'bad'");
    EXPECT_EQ(bad[i].where, expected_where[i]);
  }
  // The kept rows read exactly as a file of only them; skipped values are not interned.
  Table only = parse_table(kept, "f.tsv", criteo());
  only.skipped_lines = 13;
  expect_same_table(t, only);
  for (const auto& c : t.categorical) {
    for (const auto& v : c.dictionary) EXPECT_NE(v, "only-in-a-bad-line");
  }
}

TEST(ReaderTest, SkipModeDecidesCriteoWidthFromTheFirstGoodRow) {
  ReadOptions o = criteo(LabelPolicy::kOptional);
  o.bad_lines = BadLines::kSkip;
  Rng rng(9);
  const std::string text = "a\tb\n" + random_criteo_line(rng, false) + random_criteo_line(rng) +
                           random_criteo_line(rng, false);
  for (int threads : {1, 2}) {
    for (size_t block : {size_t{1}, size_t{3}, size_t{200}, size_t{1} << 20}) {
      o.threads = threads;
      o.block_bytes = block;
      std::vector<BadLine> bad;
      const Table t = parse_table(text, "f", o, &bad);
      EXPECT_FALSE(t.has_label);
      EXPECT_EQ(t.rows, 2u);
      ASSERT_EQ(bad.size(), 2u);
      EXPECT_EQ(bad[0].what, "expected 39 or 40 fields, found 2");
      EXPECT_EQ(bad[0].where, "f:1");
      EXPECT_EQ(bad[1].what, "expected 39 fields, found 40");
      EXPECT_EQ(bad[1].where, "f:3:column 40");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Threads and blocks

TEST(ReaderTest, SameTableForEveryThreadCountAndBlockSize) {
  ReaderTempDir dir;
  const std::string text = random_criteo_text(1500, 21);
  const std::string path = dir.write("d.tsv", text);
  const Table reference = read_table({path}, criteo());
  for (int threads : {1, 2, 3}) {
    for (size_t block : {size_t{1}, size_t{97}, size_t{4096}, size_t{50000}, size_t{1} << 22}) {
      ReadOptions o = criteo(LabelPolicy::kRequired, threads);
      o.block_bytes = block;
      const Table t = read_table({path}, o);
      expect_same_table(reference, t);
      EXPECT_EQ(t.sha256, reference.sha256);
    }
  }
}

TEST(ReaderTest, ErrorsAndSkipsAreExactUnderThreads) {
  Rng rng(33);
  std::string text;
  for (int i = 1; i <= 1200; ++i) {
    if (i == 700 || i == 701) {
      text += "\n";
    } else if (i == 950) {
      text += criteo_line("0", {}, {"c"}, false);
    } else if (i % 250 == 0) {
      text += criteo_line("0", {"", "", "", "nan"}, {});
    } else {
      text += random_criteo_line(rng);
    }
  }
  text += "\n\n";
  Table reference;
  std::vector<BadLine> reference_bad;
  for (int threads : {1, 3}) {
    for (size_t block : {size_t{1}, size_t{300}, size_t{8192}, size_t{1} << 22}) {
      ReadOptions o = criteo(LabelPolicy::kRequired, threads);
      o.block_bytes = block;
      EXPECT_EQ(data_error([&] { parse_table(text, "f.tsv", o); }),
                "invalid numeric value 'nan' (not a finite number) (f.tsv:250:column 5 (I4))");
      o.bad_lines = BadLines::kSkip;
      std::vector<BadLine> bad;
      const Table t = parse_table(text, "f.tsv", o, &bad);
      EXPECT_EQ(t.skipped_lines, 7u);  // 250, 500, 700, 701, 750, 950, 1000 (trailing ignored)
      ASSERT_EQ(bad.size(), 7u);
      EXPECT_EQ(bad[2].where, "f.tsv:700");
      EXPECT_EQ(bad[3].where, "f.tsv:701");
      EXPECT_EQ(bad[5].what, "expected 40 fields, found 39");
      EXPECT_EQ(bad[5].where, "f.tsv:950:column 40 (C39)");
      EXPECT_EQ(bad[6].where, "f.tsv:1000:column 5 (I4)");
      if (threads == 1 && block == 1) {
        reference = t;
        reference_bad = bad;
      } else {
        expect_same_table(reference, t);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Several files

TEST(ReaderTest, ConcatenatesFilesWithGlobalCodes) {
  ReaderTempDir dir;
  const std::string a = criteo_line("1", {"1"}, {"x"}) + criteo_line("0", {"2"}, {"y"});
  const std::string b = criteo_line("0", {"3"}, {"z"}) + criteo_line("1", {"4"}, {"x"}) +
                        criteo_line("1", {"5"}, {"w"});
  const std::string pa = dir.write("a.tsv", a);
  const std::string pb = dir.write("b.tsv.gz", gzip_bytes(b));
  const Table t = read_table({pa, pb}, criteo(LabelPolicy::kRequired, 2));
  EXPECT_EQ(t.rows, 5u);
  EXPECT_EQ(t.sources, (std::vector<std::string>{pa, pb}));
  EXPECT_EQ(t.source_rows, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(t.labels, (std::vector<float>{1, 0, 0, 1, 1}));
  EXPECT_EQ(t.categorical[0].dictionary, (std::vector<std::string>{"x", "y", "z", "w"}));
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 1, 2, 0, 3}));
  EXPECT_EQ(t.numeric[0].values, (std::vector<float>{1, 2, 3, 4, 5}));
  EXPECT_EQ(t.sha256, sha256_of(a + b));
  // Line numbers restart in each file.
  const std::string pc = dir.write("c.tsv", a + "oops\n");
  EXPECT_EQ(data_error([&] {
              read_table({pa, pc}, criteo());
            }),
            "expected 40 fields, found 1 (" + pc + ":3:column 2 (I1))");
}

TEST(ReaderTest, FilesMustAgreeOnTheLabel) {
  ReaderTempDir dir;
  Rng rng(5);
  const std::string pa = dir.write("a.tsv", random_criteo_line(rng));
  const std::string pb = dir.write("b.tsv", random_criteo_line(rng, false));
  EXPECT_EQ(data_error([&] {
              read_table({pa, pb}, criteo(LabelPolicy::kOptional));
            }),
            "these rows have no label (label) but the rows read before them do (" + pb + ":1)");
  EXPECT_EQ(data_error([&] {
              read_table({pb, pa}, criteo(LabelPolicy::kOptional));
            }),
            "these rows have a label (label) but the rows read before them do not (" + pa + ":1)");
}

// ---------------------------------------------------------------------------------------
// In memory, options

TEST(ReaderTest, ParseTableMatchesReadTable) {
  ReaderTempDir dir;
  const std::string text = random_criteo_text(100, 77);
  const Table a = read_table({dir.write("x.tsv", text)}, criteo());
  const Table b = parse_table(text, "request body", criteo());
  expect_same_table(a, b);
  EXPECT_EQ(b.sources, (std::vector<std::string>{"request body"}));
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(criteo_error("1\t2\n"), "expected 40 fields, found 2 (f.tsv:1)");
}

TEST(ReaderTest, ParsesFormatAndBadLinesNames) {
  EXPECT_EQ(parse_format("criteo"), Format::kCriteo);
  EXPECT_EQ(parse_format("csv"), Format::kCsv);
  EXPECT_EQ(parse_format("tsv"), Format::kTsv);
  EXPECT_EQ(usage_error([] { parse_format("parquet"); }),
            "unknown format 'parquet' (expected criteo, csv or tsv) (format)");
  EXPECT_EQ(parse_bad_lines("error"), BadLines::kError);
  EXPECT_EQ(parse_bad_lines("skip"), BadLines::kSkip);
  EXPECT_EQ(usage_error([] { parse_bad_lines("ignore"); }),
            "unknown value 'ignore' (expected error or skip) (bad_lines)");
}

// ---------------------------------------------------------------------------------------
// Committed samples

TEST(ReaderTest, ReadsCommittedSamples) {
  const std::string dir = std::string(DEEPCROSS_TESTDATA_DIR) + "/data/";
  const Table plain = read_table({dir + "criteo_sample.tsv"}, criteo());
  const Table gz = read_table({dir + "criteo_sample.tsv.gz"}, criteo(LabelPolicy::kRequired, 2));
  EXPECT_EQ(plain.rows, 200u);
  expect_same_table(plain, gz);
  EXPECT_EQ(plain.sha256, kSampleSha256);
  EXPECT_EQ(gz.sha256, kSampleSha256);
}

}  // namespace
}  // namespace deepcross
