// Tests of the training history: CSV text, bit-exact round trip, atomic writes and their
// failures, the CSV reader's errors, the per-epoch table.
#include "train/history.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A private directory per test, removed at the end (tests run in parallel).
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "deepcross_history_XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Names of the entries in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Caught {
  std::string what, where;
  int exit_code = -1;
};

template <typename F>
Caught catch_data_error(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return {e.what(), e.where(), e.exit_code()};
  }
  ADD_FAILURE() << "no DataError thrown";
  return {};
}

EpochRecord record(int epoch, double tl, double ta, double vl, double va, double s, double r,
                   bool best) {
  EpochRecord e;
  e.epoch = epoch;
  e.train_loss = tl;
  e.train_auc = ta;
  e.val_loss = vl;
  e.val_auc = va;
  e.seconds = s;
  e.samples_per_s = r;
  e.best = best;
  return e;
}

// Same bits, or both NaN.
void expect_same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    EXPECT_TRUE(std::isnan(a) && std::isnan(b)) << a << " vs " << b;
  } else {
    EXPECT_EQ(std::bit_cast<uint64_t>(a), std::bit_cast<uint64_t>(b)) << a << " vs " << b;
  }
}

void expect_same(const History& a, const History& b) {
  ASSERT_EQ(a.epochs().size(), b.epochs().size());
  for (size_t i = 0; i < a.epochs().size(); ++i) {
    const EpochRecord& x = a.epochs()[i];
    const EpochRecord& y = b.epochs()[i];
    EXPECT_EQ(x.epoch, y.epoch);
    expect_same(x.train_loss, y.train_loss);
    expect_same(x.train_auc, y.train_auc);
    expect_same(x.val_loss, y.val_loss);
    expect_same(x.val_auc, y.val_auc);
    expect_same(x.seconds, y.seconds);
    expect_same(x.samples_per_s, y.samples_per_s);
    EXPECT_EQ(x.best, y.best);
  }
}

const char* kHeader = "epoch,train_loss,train_auc,val_loss,val_auc,seconds,samples_per_s,best\n";

TEST(HistoryTest, StartsEmptyAndKeepsRecordsInOrder) {
  History h;
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.best_index().has_value());
  h.add(record(1, 0.5, 0.7, 0.5, 0.7, 1, 2, false));
  h.add(record(2, 0.4, 0.8, 0.45, 0.75, 1, 2, false));
  ASSERT_EQ(h.epochs().size(), 2u);
  EXPECT_EQ(h.epochs()[0].epoch, 1);
  EXPECT_EQ(h.epochs()[1].epoch, 2);
  EXPECT_FALSE(h.best_index().has_value());
}

TEST(HistoryTest, BestIndexIsTheLastRecordMarkedBest) {
  History h;
  h.add(record(1, 0.5, 0.7, 0.5, 0.70, 1, 2, true));
  EXPECT_EQ(h.best_index(), 0u);
  h.add(record(2, 0.4, 0.8, 0.4, 0.75, 1, 2, true));
  h.add(record(3, 0.3, 0.9, 0.5, 0.74, 1, 2, false));
  EXPECT_EQ(h.best_index(), 1u);
}

TEST(HistoryTest, DefaultRecordHasNaNMetrics) {
  EpochRecord r;
  EXPECT_EQ(r.epoch, 0);
  EXPECT_TRUE(std::isnan(r.train_loss) && std::isnan(r.train_auc) && std::isnan(r.val_loss) &&
              std::isnan(r.val_auc) && std::isnan(r.seconds) && std::isnan(r.samples_per_s));
  EXPECT_FALSE(r.best);
}

TEST(HistoryCsvTest, TextUsesShortestRoundTripNumbers) {
  History h;
  h.add(record(1, 0.1, 0.75, 0.46123456789, 0.5, 12.25, 53210.5, true));
  h.add(record(2, 1e-5, kNaN, -kNaN, 1.0, 0, 1e21, false));
  h.add(record(10, kInf, -kInf, 123456789.0, 0.3333333333333333, 0.1, 3, false));
  EXPECT_EQ(h.to_csv(), std::string(kHeader) +
                            "1,0.1,0.75,0.46123456789,0.5,12.25,53210.5,1\n"
                            "2,1e-05,nan,nan,1,0,1e+21,0\n"
                            "10,inf,-inf,123456789,0.3333333333333333,0.1,3,0\n");
}

TEST(HistoryCsvTest, EmptyHistoryIsJustTheHeader) { EXPECT_EQ(History().to_csv(), kHeader); }

TEST(HistoryCsvTest, NumbersRoundTripBitForBit) {
  History h;
  const std::vector<double> awkward = {0.1,
                                       1.0 / 3,
                                       2.0 / 3,
                                       std::nextafter(1.0, 2.0),
                                       std::nextafter(0.5, 0.0),
                                       5e-324,
                                       2.2250738585072014e-308,
                                       std::numeric_limits<double>::max(),
                                       -0.0,
                                       0.0,
                                       1e23,
                                       0.693147180559945309,
                                       kNaN,
                                       kInf,
                                       -kInf};
  int epoch = 1;
  for (size_t i = 0; i < awkward.size(); ++i) {
    const double v = awkward[i];
    const double w = awkward[(i + 3) % awkward.size()];
    h.add(record(epoch++, v, w, -v, v * 0.5, w, v, i % 2 == 0));
  }
  // A deterministic pseudo-random sweep of bit patterns (finite ones only).
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 200; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double v = std::bit_cast<double>(state);
    if (!std::isfinite(v)) v = static_cast<double>(state >> 11) * 0x1p-53;
    h.add(record(epoch++, v, std::fabs(std::fmod(v, 1.0)), v / 3, 0.5, 1, v, false));
  }
  expect_same(h, parse_history_csv(h.to_csv(), "mem"));

  TempDir dir;
  const std::string path = dir.file("run.history.csv");
  h.write_csv(path);
  EXPECT_EQ(slurp(path), h.to_csv());
  expect_same(h, read_history_csv(path));
}

TEST(HistoryCsvTest, WriteLeavesOnlyTheTargetAndReplacesAnOldFile) {
  TempDir dir;
  const std::string path = dir.file("h.csv");
  { std::ofstream(path) << "old contents\n"; }
  History h;
  h.add(record(1, 0.5, 0.7, 0.5, 0.7, 1, 2, true));
  h.write_csv(path);
  EXPECT_EQ(slurp(path), h.to_csv());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"h.csv"});
  h.add(record(2, 0.4, 0.8, 0.4, 0.8, 1, 2, true));
  h.write_csv(path);
  EXPECT_EQ(slurp(path), h.to_csv());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"h.csv"});
}

TEST(HistoryCsvTest, UnwritablePathIsADataErrorNamingIt) {
  TempDir dir;
  const std::string path = dir.file("missing/dir/h.csv");
  Caught e = catch_data_error([&] { History().write_csv(path); });
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_EQ(e.where, path);
  EXPECT_NE(e.what.find("cannot write the training history CSV"), std::string::npos) << e.what;
  EXPECT_NE(e.what.find("No such file or directory"), std::string::npos) << e.what;
}

TEST(HistoryCsvTest, FailedRenameLeavesNoTemporaryFile) {
  TempDir dir;
  // A non-empty directory where the file should go: refused, and no temporary file is left.
  const std::string path = dir.file("taken");
  std::filesystem::create_directory(path);
  std::ofstream(path + "/keep") << "x";
  Caught e = catch_data_error([&] { History().write_csv(path); });
  EXPECT_EQ(e.where, path);
  EXPECT_NE(e.what.find("it is a directory"), std::string::npos) << e.what;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken"});
}

TEST(HistoryCsvTest, ReaderAcceptsCrLfAndAMissingFinalNewline) {
  const History h = parse_history_csv(
      "epoch,train_loss,train_auc,val_loss,val_auc,seconds,samples_per_s,best\r\n"
      "1,0.5,nan,0.25,0.75,2,100,1\r\n"
      "2,0.4,0.8,inf,-inf,2.5,1e3,0",
      "mem");
  ASSERT_EQ(h.epochs().size(), 2u);
  EXPECT_EQ(h.epochs()[0].epoch, 1);
  EXPECT_TRUE(std::isnan(h.epochs()[0].train_auc));
  EXPECT_EQ(h.epochs()[0].val_auc, 0.75);
  EXPECT_TRUE(h.epochs()[0].best);
  EXPECT_EQ(h.epochs()[1].val_loss, kInf);
  EXPECT_EQ(h.epochs()[1].val_auc, -kInf);
  EXPECT_EQ(h.epochs()[1].samples_per_s, 1000.0);
  EXPECT_FALSE(h.epochs()[1].best);
}

struct BadCsv {
  const char* name;
  std::string text;
  const char* what;
  const char* where;
};

TEST(HistoryCsvTest, ReaderErrorsSayWhatAndWhere) {
  const std::string h = kHeader;
  const std::vector<BadCsv> cases = {
      {"empty", "", "empty history CSV, expected a header line", "f.csv:1"},
      {"wrong header", "epoch,train_loss,train_AUC\n",
       "expected header column 'train_auc', found 'train_AUC'", "f.csv:1:column 3"},
      {"short header", "epoch,train_loss\n", "expected header column 'train_auc', found ''",
       "f.csv:1:column 3"},
      {"long header", h.substr(0, h.size() - 1) + ",extra\n", "expected 8 header columns, found 9",
       "f.csv:1"},
      {"few fields", h + "1,0.5,0.5\n", "expected 8 fields, found 3", "f.csv:2"},
      {"many fields", h + "1,2,3,4,5,6,7,0\n1,2,3,4,5,6,7,0,9\n", "expected 8 fields, found 9",
       "f.csv:3"},
      {"text", h + "1,abc,3,4,5,6,7,0\n", "expected a number, found 'abc'",
       "f.csv:2:column 2 (train_loss)"},
      {"trailing junk", h + "1,2,3,4,0.5x,6,7,0\n", "expected a number, found '0.5x'",
       "f.csv:2:column 5 (val_auc)"},
      {"empty number", h + "1,2,3,4,5,,7,0\n", "expected a number, found ''",
       "f.csv:2:column 6 (seconds)"},
      {"space", h + "1,2,3,4,5,6, 7,0\n", "expected a number, found ' 7'",
       "f.csv:2:column 7 (samples_per_s)"},
      {"out of range", h + "1,2,3,1e999,5,6,7,0\n", "number out of double range: '1e999'",
       "f.csv:2:column 4 (val_loss)"},
      {"epoch zero", h + "0,2,3,4,5,6,7,0\n", "expected an epoch number >= 1, found '0'",
       "f.csv:2:column 1 (epoch)"},
      {"epoch fraction", h + "1.5,2,3,4,5,6,7,0\n", "expected an epoch number >= 1, found '1.5'",
       "f.csv:2:column 1 (epoch)"},
      {"best flag", h + "1,2,3,4,5,6,7,yes\n", "expected 0 or 1, found 'yes'",
       "f.csv:2:column 8 (best)"},
  };
  for (const BadCsv& c : cases) {
    SCOPED_TRACE(c.name);
    Caught e = catch_data_error([&] { parse_history_csv(c.text, "f.csv"); });
    EXPECT_EQ(e.what, c.what);
    EXPECT_EQ(e.where, c.where);
    EXPECT_EQ(e.exit_code, 1);
  }
}

TEST(HistoryCsvTest, ReadingAMissingFileNamesIt) {
  TempDir dir;
  const std::string path = dir.file("absent.csv");
  Caught e = catch_data_error([&] { read_history_csv(path); });
  EXPECT_EQ(e.where, path);
  EXPECT_NE(e.what.find("cannot open history CSV"), std::string::npos) << e.what;
}

TEST(EpochTableTest, HeaderText) {
  EXPECT_EQ(format_epoch_header(),
            "epoch  train loss  train AUC   val loss    val AUC  seconds    samples/s  best");
}

TEST(EpochTableTest, RowText) {
  EXPECT_EQ(format_epoch_row(record(3, 0.471234, 0.761209, 0.4612, 0.780149, 12.43, 53210.4, true)),
            "    3     0.47123    0.76121    0.46120    0.78015     12.4       53,210     *");
  EXPECT_EQ(format_epoch_row(record(12, 2.5, kNaN, 0.4, kNaN, 0.04, 999.5, false)),
            "   12     2.50000          -    0.40000          -      0.0        1,000");
}

// The right edge of every column in a row is the right edge of its header.
std::vector<size_t> column_ends(const std::string& line) {
  std::vector<size_t> ends;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != ' ' && (i + 1 == line.size() || line[i + 1] == ' ')) ends.push_back(i);
  }
  return ends;
}

TEST(EpochTableTest, RowsAlignUnderTheHeader) {
  // Header words with spaces ("train loss") count as one column: merge by known ends.
  const std::string header = format_epoch_header();
  std::vector<size_t> header_ends;
  for (const char* word : {"epoch", "train loss", "train AUC", "val loss", "val AUC", "seconds",
                           "samples/s", "best"}) {
    const size_t at = header.find(word);
    ASSERT_NE(at, std::string::npos) << word;
    header_ends.push_back(at + std::string(word).size() - 1);
  }
  const std::vector<EpochRecord> rows = {
      record(1, 0.5, 0.7, 0.5, 0.7, 3.25, 12345.0, true),
      record(99, 12.345678, 0.99999, 0.000001, 0.5, 999.9, 9876543.0, false),
      record(100, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, true),
      record(7, 0.25, 1.0, 0.125, 0.0, 0.5, 0.0, false),
  };
  for (const EpochRecord& r : rows) {
    const std::string row = format_epoch_row(r);
    SCOPED_TRACE(row);
    std::vector<size_t> ends = column_ends(row);
    std::vector<size_t> expected(header_ends.begin(), header_ends.end() - (r.best ? 0 : 1));
    EXPECT_EQ(ends, expected);
    EXPECT_EQ(row.size(), expected.back() + 1);  // no trailing spaces
    EXPECT_EQ(row.back() == '*', r.best);
  }
}

TEST(EpochTableTest, LargeRatesAreGroupedAndNothingIsTruncated) {
  EXPECT_NE(format_epoch_row(record(1, 0.5, 0.5, 0.5, 0.5, 1, 1234567.0, false)).find(" 1,234,567"),
            std::string::npos);
  // Wider than its column: printed whole, pushing the row right.
  const std::string wide = format_epoch_row(record(1, 0.5, 0.5, 0.5, 0.5, 1, 1.5e12, false));
  EXPECT_NE(wide.find("1,500,000,000,000"), std::string::npos) << wide;
  const std::string small = format_epoch_row(record(1, 0.5, 0.5, 0.5, 0.5, 1, 0.4, false));
  EXPECT_EQ(small.substr(small.size() - 2), " 0");
}

}  // namespace
}  // namespace deepcross
