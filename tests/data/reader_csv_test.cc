#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/reader.h"
#include "data/reader_test_support.h"
#include "deepcross/error.h"

// The readers on CSV and TSV files with a header (reader_test.cc: Criteo, gzip, threads).

namespace deepcross {
namespace {

using namespace reader_testing;  // NOLINT: test helpers

ReadOptions csv_options() {
  ReadOptions o;
  o.format = Format::kCsv;
  o.label = "y";
  o.numeric = {"n"};
  o.categorical = {"c"};
  o.ignore = {"skip"};
  return o;
}

TEST(ReaderCsvTest, ReadsCsvWithQuotes) {
  const std::string text =
      "c,n,skip,y\r\n"
      "\"a,b\",1.5,whatever,1\r\n"
      "\"say \"\"hi\"\"\",\"2\",\"x,y\",0\r\n"
      "\"\",,,1\r\n"
      "plain,-3,,\"0\"\r\n"
      "a\"b,4,,1\n";
  const Table t = parse_table(text, "d.csv", csv_options());
  ASSERT_EQ(t.rows, 5u);
  EXPECT_TRUE(t.has_label);
  EXPECT_EQ(t.label_name, "y");
  EXPECT_EQ(t.labels, (std::vector<float>{1, 0, 1, 0, 1}));
  ASSERT_EQ(t.numeric.size(), 1u);
  EXPECT_EQ(t.numeric[0].name, "n");
  EXPECT_EQ(t.numeric[0].values[0], 1.5f);
  EXPECT_EQ(t.numeric[0].values[1], 2.0f);
  EXPECT_TRUE(std::isnan(t.numeric[0].values[2]));
  EXPECT_EQ(t.numeric[0].values[3], -3.0f);
  ASSERT_EQ(t.categorical.size(), 1u);
  EXPECT_EQ(t.categorical[0].name, "c");
  EXPECT_EQ(t.categorical[0].dictionary,
            (std::vector<std::string>{"a,b", "say \"hi\"", "", "plain", "a\"b"}));
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(t.sha256, sha256_of(text));
}

TEST(ReaderCsvTest, ReadsTsvWithHeaderWithoutQuoting) {
  ReadOptions o = csv_options();
  o.format = Format::kTsv;
  const Table t = parse_table("\xEF\xBB\xBFy\tc\tn\tskip\n1\t\"a,b\"\t2\t\n", "d.tsv", o);
  ASSERT_EQ(t.rows, 1u);
  EXPECT_EQ(t.categorical[0].dictionary, (std::vector<std::string>{"\"a,b\""}));
  EXPECT_EQ(t.numeric[0].values[0], 2.0f);
}

TEST(ReaderCsvTest, AcceptsUtf8AndQuotedHeaderNames) {
  ReadOptions o;
  o.format = Format::kCsv;
  o.label = "clicked, or not";
  o.numeric = {"prix \u20ac", "\"q\""};
  o.categorical = {"\u00e9tat"};
  const Table t = parse_table(
      "\xEF\xBB\xBF\"clicked, or not\",prix \u20ac,\u00e9tat,\"\"\"q\"\"\"\r\n1,2.5,neuf,3\r\n",
      "d.csv", o);
  ASSERT_EQ(t.rows, 1u);
  EXPECT_EQ(t.label_name, "clicked, or not");
  EXPECT_EQ(t.numeric[0].name, "prix \u20ac");
  EXPECT_EQ(t.numeric[1].name, "\"q\"");
  EXPECT_EQ(t.numeric[1].values[0], 3.0f);
  EXPECT_EQ(t.categorical[0].name, "\u00e9tat");
  EXPECT_EQ(t.categorical[0].dictionary, (std::vector<std::string>{"neuf"}));
}

TEST(ReaderCsvTest, ReadsAvazuStyleCsv) {
  const std::string text =
      "id,click,hour,C1,banner_pos,site_id,site_domain,device_type,C14\n"
      "1000009418151094273,0,14102100,1005,0,1fbe01fe,f3845767,1,15706\n"
      "10000169349117863715,1,14102100,1005,0,1fbe01fe,f3845767,1,15704\n"
      "10000371904215119486,0,14102101,1002,1,85f751fd,c4e18dd6,0,15704\n";
  ReadOptions o;
  o.format = Format::kCsv;
  o.label = "click";
  o.ignore = {"id"};
  o.categorical = {"hour", "C1", "banner_pos", "site_id", "site_domain", "device_type", "C14"};
  ReaderTempDir dir;
  const Table t = read_table({dir.write("avazu.csv.gz", gzip_bytes(text))}, o);
  ASSERT_EQ(t.rows, 3u);
  EXPECT_EQ(t.label_name, "click");
  EXPECT_EQ(t.labels, (std::vector<float>{0, 1, 0}));
  EXPECT_TRUE(t.numeric.empty());
  ASSERT_EQ(t.categorical.size(), 7u);
  EXPECT_EQ(t.categorical[0].name, "hour");
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_EQ(t.categorical[6].name, "C14");
  EXPECT_EQ(t.categorical[6].dictionary, (std::vector<std::string>{"15706", "15704"}));
  EXPECT_EQ(t.categorical[6].codes, (std::vector<uint32_t>{0, 1, 1}));
}

TEST(ReaderCsvTest, CsvErrorTable) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::string header = "c,n,skip,y\n";
  const std::vector<Case> cases = {
      {header + "a,1,,1\n\"b,2,,1\n",
       "unterminated quoted field (a quoted field may not span lines) (d.csv:3:column 1 (c))"},
      {header + "a,1,\"x\"y,1\n",
       "unexpected character 'y' after a closing quote (expected ',' or the end of the line) "
       "(d.csv:2:column 3 (skip))"},
      {header + "a,1,,1,\n", "expected 4 fields, found 5 (d.csv:2:column 5)"},
      {header + "a,1\n", "expected 4 fields, found 2 (d.csv:2:column 3 (skip))"},
      {header + "a,x1,,1\n", "invalid numeric value 'x1' (d.csv:2:column 2 (n))"},
      {header + "a,1,,\n", "missing label (d.csv:2:column 4 (y))"},
      {"c,n,skip,y,extra\n",
       "column 'extra' has no role (name it in --label, --numeric, "
       "--categorical or --ignore) (d.csv:1:column 5 (extra))"},
      {"c,n,y\n", "column 'skip' (ignore) is not in the header (d.csv:1)"},
      {"c,n,skip,skip,y\n",
       "duplicate column name 'skip' (also column 3) (d.csv:1:column 4 (skip))"},
      {"c,n,,skip,y\n", "empty column name in the header (d.csv:1:column 3)"},
      {"c,n,\xff,skip,y\n", "column name is not valid UTF-8 (d.csv:1:column 3 (\xff))"},
      {"c,\"n,skip,y\n",
       "unterminated quoted field (a quoted field may not span lines) (d.csv:1:column 2)"},
      {"\nc,n,skip,y\n", "empty header line (expected the column names) (d.csv:1)"},
      {"", "no data rows (the file is empty) (d.csv)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(data_error([&] { parse_table(c.text, "d.csv", csv_options()); }), c.error) << c.text;
  }
  // The label column is required unless the policy says otherwise.
  EXPECT_EQ(data_error([&] { parse_table("c,n,skip\na,1,\n", "d.csv", csv_options()); }),
            "column 'y' (label) is not in the header (d.csv:1)");
}

TEST(ReaderCsvTest, CsvLabelPolicies) {
  ReadOptions o = csv_options();
  o.label_policy = LabelPolicy::kOptional;
  const Table without = parse_table("c,n,skip\na,1,\n", "d.csv", o);
  EXPECT_FALSE(without.has_label);
  EXPECT_EQ(without.label_name, "");
  // A label column present is not read (predict): its values, whatever they are, are 0.
  const Table with = parse_table("c,n,skip,y\na,1,,1\nb,2,,yes\n", "d.csv", o);
  EXPECT_TRUE(with.has_label);
  EXPECT_EQ(with.labels, (std::vector<float>{0, 0}));
  o.label_policy = LabelPolicy::kAbsent;  // a label column present is ignored
  const Table ignored = parse_table("c,n,skip,y\na,1,,7\n", "d.csv", o);
  EXPECT_FALSE(ignored.has_label);
  EXPECT_EQ(ignored.rows, 1u);
  o.label = "";
  EXPECT_FALSE(parse_table("c,n,skip\na,1,\n", "d.csv", o).has_label);
}

TEST(ReaderCsvTest, SameCsvTableForEveryThreadCountAndBlockSize) {
  Rng rng(44);
  std::string text = "y,c,n,skip\n";
  for (int i = 0; i < 800; ++i) {
    text += std::to_string(rng.below(2)) + ",";
    const uint64_t k = rng.below(60);
    if (k % 5 == 0) {
      text.append("\"q,\"\"").append(std::to_string(k)).append("\"\"\"");
    } else {
      text.append(std::to_string(k));
    }
    text.append(",");
    if (rng.below(7) != 0) text.append(std::to_string(rng.below(1000)));
    text.append(",");
    text += rng.below(2) ? "\"ignored, quoted\"\n" : "x\r\n";
  }
  const Table reference = parse_table(text, "d.csv", csv_options());
  EXPECT_EQ(reference.rows, 800u);
  for (int threads : {2, 3}) {
    for (size_t block : {size_t{1}, size_t{333}, size_t{10000}}) {
      ReadOptions o = csv_options();
      o.threads = threads;
      o.block_bytes = block;
      expect_same_table(reference, parse_table(text, "d.csv", o));
    }
  }
}

TEST(ReaderCsvTest, FilesMustAgreeOnTheLabel) {
  ReaderTempDir dir;
  ReadOptions o = csv_options();
  o.label_policy = LabelPolicy::kOptional;
  const std::string ca = dir.write("a.csv", "y,c,n,skip\n1,a,1,\n");
  const std::string cb = dir.write("b.csv", "c,n,skip\na,1,\n");
  EXPECT_EQ(data_error([&] {
              read_table({ca, cb}, o);
            }),
            "these rows have no label (y) but the rows read before them do (" + cb + ":1)");
}

TEST(ReaderCsvTest, CsvFilesMayOrderColumnsDifferently) {
  ReaderTempDir dir;
  ReadOptions o = csv_options();
  o.numeric = {"n", "m"};
  const std::string a = dir.write("a.csv", "y,c,n,m,skip\n1,a,1,10,\n");
  const std::string b = dir.write("b.csv", "m,skip,n,c,y\n20,,2,b,0\n30,,3,a,1\n");
  const Table t = read_table({a, b}, o);
  EXPECT_EQ(t.rows, 3u);
  EXPECT_EQ(t.numeric[0].name, "n");
  EXPECT_EQ(t.numeric[0].values, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(t.numeric[1].name, "m");
  EXPECT_EQ(t.numeric[1].values, (std::vector<float>{10, 20, 30}));
  EXPECT_EQ(t.categorical[0].codes, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_EQ(t.labels, (std::vector<float>{1, 0, 1}));
  const std::string c = dir.write("c.csv", "y,c,n,skip\n1,a,1,\n");
  EXPECT_EQ(data_error([&] {
              read_table({a, c}, o);
            }),
            "column 'm' (numeric) is not in the header (" + c + ":1)");
}

TEST(ReaderCsvTest, BadOptionsAreUsageErrors) {
  const std::string row = "1" + std::string(39, '\t') + "\n";  // a valid Criteo row
  ReadOptions o;
  o.threads = 0;
  EXPECT_EQ(usage_error([&] { parse_table(row, "f", o); }),
            "threads must be at least 1, got 0 (threads)");
  o = ReadOptions();
  o.classes = 0;
  EXPECT_EQ(usage_error([&] { parse_table(row, "f", o); }),
            "classes must be at least 1, got 0 (classes)");
  EXPECT_EQ(usage_error([&] { read_table({}, ReadOptions()); }), "no data files given (paths)");
  ReadOptions c = csv_options();
  c.label = "";
  EXPECT_EQ(usage_error([&] { parse_table("c\na\n", "f", c); }),
            "a label column is required with format csv (label)");
  c = csv_options();
  c.categorical.push_back("n");
  EXPECT_EQ(usage_error([&] { parse_table("c\na\n", "f", c); }),
            "column 'n' is given two roles (numeric and categorical) (categorical)");
  c = csv_options();
  c.ignore.push_back("y");
  EXPECT_EQ(usage_error([&] { parse_table("c\na\n", "f", c); }),
            "column 'y' is given two roles (label and ignore) (ignore)");
  c = csv_options();
  c.numeric.push_back("n");  // the same role twice is harmless
  EXPECT_EQ(parse_table("c,n,skip,y\na,1,,1\n", "f", c).rows, 1u);
}

}  // namespace
}  // namespace deepcross
