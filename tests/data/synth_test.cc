#include "data/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "deepcross/error.h"

namespace deepcross {
namespace {

namespace fs = std::filesystem;

std::string generate(const SynthOptions& opts) {
  std::ostringstream out;
  write_synth(out, opts);
  return out.str();
}

SynthOptions small_options(uint64_t rows) {
  SynthOptions opts;
  opts.rows = rows;
  opts.cardinality_scale = 0.01;
  return opts;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string_view> lines_of(const std::string& text) {
  std::vector<std::string_view> lines = split(text, '\n');
  EXPECT_TRUE(lines.back().empty()) << "output must end with a newline";
  lines.pop_back();
  return lines;
}

// A labelled file parsed back: the label, numeric values (-1 = missing) and category indices
// (recovered from the printed code; -1 = missing).
struct Parsed {
  std::vector<int> label;
  std::vector<std::array<int64_t, kSynthNumeric>> numeric;
  std::vector<std::array<int64_t, kSynthCategorical>> category;
};

Parsed parse(const std::string& text) {
  Parsed p;
  for (std::string_view line : lines_of(text)) {
    const std::vector<std::string_view> f = split(line, '\t');
    EXPECT_EQ(f.size(), 40u);
    if (f.size() != 40) continue;
    p.label.push_back(f[0] == "1" ? 1 : 0);
    std::array<int64_t, kSynthNumeric> num{};
    for (int j = 0; j < kSynthNumeric; ++j) {
      num[j] = -1;
      if (f[1 + j].empty()) continue;
      const auto [ptr, ec] =
          std::from_chars(f[1 + j].data(), f[1 + j].data() + f[1 + j].size(), num[j]);
      EXPECT_TRUE(ec == std::errc() && ptr == f[1 + j].data() + f[1 + j].size()) << f[1 + j];
    }
    std::array<int64_t, kSynthCategorical> cat{};
    for (int c = 0; c < kSynthCategorical; ++c) {
      const std::string_view v = f[14 + c];
      cat[c] = -1;
      if (v.empty()) continue;
      uint32_t code = 0;
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), code, 16);
      EXPECT_TRUE(ec == std::errc() && ptr == v.data() + v.size()) << v;
      cat[c] = static_cast<int64_t>(synth_category_index(c, code));
    }
    p.numeric.push_back(num);
    p.category.push_back(cat);
  }
  return p;
}

// 50,000 rows with the default options (full cardinalities), parsed once for several tests.
const Parsed& default_sample() {
  static const Parsed parsed = [] {
    SynthOptions opts;
    opts.rows = 50000;
    return parse(generate(opts));
  }();
  return parsed;
}

// How far the positive rate of the cells of `fields` departs from an additive model of the
// single fields' rates: Σ n_cell (p_cell − p̂_cell)² / Σ n_cell over cells with >= 100 rows,
// p̂ = p + Σ_f (p_f − p). A missing category counts as one more level.
double interaction_strength(const Parsed& d, const std::vector<int>& fields) {
  const double n = static_cast<double>(d.label.size());
  double positives = 0;
  for (int y : d.label) positives += y;
  const double p = positives / n;
  std::vector<std::map<int64_t, std::pair<double, double>>> single(fields.size());
  std::map<std::vector<int64_t>, std::pair<double, double>> cells;  // (count, positives)
  for (size_t i = 0; i < d.label.size(); ++i) {
    std::vector<int64_t> key;
    for (size_t k = 0; k < fields.size(); ++k) {
      const int64_t c = d.category[i][fields[k]];
      key.push_back(c);
      auto& s = single[k][c];
      s.first += 1;
      s.second += d.label[i];
    }
    auto& cell = cells[key];
    cell.first += 1;
    cell.second += d.label[i];
  }
  double weighted = 0, weight = 0;
  for (const auto& [key, cell] : cells) {
    if (cell.first < 100) continue;
    double predicted = p;
    for (size_t k = 0; k < fields.size(); ++k) {
      const auto& s = single[k].at(key[k]);
      predicted += s.second / s.first - p;
    }
    const double diff = cell.second / cell.first - predicted;
    weighted += cell.first * diff * diff;
    weight += cell.first;
  }
  EXPECT_GT(weight, 0.3 * n) << "too few rows in well-filled cells";
  return weighted / weight;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "synth_test_XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_gzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  EXPECT_NE(gz, nullptr);
  if (gz == nullptr) return {};
  std::string text;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(n, 0);
  gzclose(gz);
  return text;
}

std::string read_plain(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Synth, SameOptionsGiveSameBytesAndOtherSeedsDiffer) {
  SynthOptions opts = small_options(3000);
  const std::string a = generate(opts);
  EXPECT_EQ(a, generate(opts));
  opts.seed = 2;
  const std::string b = generate(opts);
  EXPECT_NE(a, b);
  EXPECT_EQ(lines_of(b).size(), 3000u);
}

TEST(Synth, FewerRowsAreAPrefixAcrossBlocks) {
  // 4096 rows per block: 5000 rows end inside the second block.
  const std::string shorter = generate(small_options(5000));
  const std::string longer = generate(small_options(9000));
  ASSERT_LT(shorter.size(), longer.size());
  EXPECT_EQ(longer.compare(0, shorter.size(), shorter), 0);
  EXPECT_EQ(generate(small_options(0)), "");
}

TEST(Synth, FortyFieldsWithLabelAndTheSameRowsWithout) {
  SynthOptions opts = small_options(2000);
  const std::string labelled = generate(opts);
  opts.with_label = false;
  const std::string unlabelled = generate(opts);
  const auto with = lines_of(labelled);
  const auto without = lines_of(unlabelled);
  ASSERT_EQ(with.size(), 2000u);
  ASSERT_EQ(without.size(), 2000u);
  for (size_t i = 0; i < with.size(); ++i) {
    ASSERT_EQ(split(with[i], '\t').size(), 40u) << "line " << i + 1;
    ASSERT_EQ(split(without[i], '\t').size(), 39u) << "line " << i + 1;
    EXPECT_EQ(with[i].substr(with[i].find('\t') + 1), without[i]) << "line " << i + 1;
  }
}

TEST(Synth, FieldsAreFormattedAsCriteo) {
  const std::string text = generate(small_options(2000));
  for (std::string_view line : lines_of(text)) {
    const auto f = split(line, '\t');
    ASSERT_EQ(f.size(), 40u);
    EXPECT_TRUE(f[0] == "0" || f[0] == "1") << f[0];
    for (int j = 1; j <= 13; ++j) {
      EXPECT_TRUE(std::all_of(f[j].begin(), f[j].end(), [](char c) {
        return c >= '0' && c <= '9';
      })) << f[j];
      EXPECT_TRUE(f[j].size() <= 1 || f[j][0] != '0') << "leading zero: " << f[j];
    }
    for (int j = 14; j < 40; ++j) {
      if (f[j].empty()) continue;
      EXPECT_EQ(f[j].size(), 8u) << f[j];
      EXPECT_TRUE(std::all_of(f[j].begin(), f[j].end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) << f[j];
    }
  }
}

TEST(Synth, CategoryCodesAreAPerFieldBijectionIndependentOfTheSeed) {
  for (int field = 0; field < kSynthCategorical; ++field) {
    std::set<uint32_t> seen;
    for (uint64_t index = 0; index < 5000; ++index) {
      const uint32_t code = synth_category_code(field, index);
      EXPECT_EQ(synth_category_index(field, code), index);
      seen.insert(code);
    }
    EXPECT_EQ(seen.size(), 5000u);
  }
  EXPECT_EQ(synth_category_index(3, synth_category_code(3, 304999)), 304999u);
  EXPECT_NE(synth_category_code(0, 0), synth_category_code(1, 0));
  // The most frequent category of C14 prints the same code whatever the seed.
  const std::string code = [] {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", synth_category_code(0, 0));
    return std::string(buf);
  }();
  for (uint64_t seed : {1, 7}) {
    SynthOptions opts = small_options(200);
    opts.seed = seed;
    EXPECT_NE(generate(opts).find("\t" + code + "\t"), std::string::npos) << "seed " << seed;
  }
}

TEST(Synth, MissingRates) {
  SynthOptions opts;
  opts.rows = 20000;
  const Parsed d = parse(generate(opts));
  ASSERT_EQ(d.label.size(), 20000u);
  const double n = 20000;
  for (int j = 0; j < kSynthNumeric; ++j) {
    double missing = 0;
    for (const auto& row : d.numeric) missing += row[j] < 0;
    EXPECT_NEAR(missing / n, 0.20, 0.015) << "I" << j + 1;
  }
  int large = 0;
  for (int c = 0; c < kSynthCategorical; ++c) {
    double missing = 0;
    for (const auto& row : d.category) missing += row[c] < 0;
    const bool is_large = kSynthBaseCardinalities[c] >= kSynthLargeField;
    large += is_large;
    if (is_large) {
      EXPECT_NEAR(missing / n, 0.02, 0.006) << synth_field_name(c);
    } else {
      EXPECT_NEAR(missing / n, 0.30, 0.02) << synth_field_name(c);
    }
  }
  EXPECT_EQ(large, 15);
}

TEST(Synth, NumericColumnsAreRoundedLogNormal) {
  const Parsed& d = default_sample();
  std::vector<int64_t> values;
  for (const auto& row : d.numeric) {
    if (row[0] >= 0) values.push_back(row[0]);
  }
  ASSERT_GT(values.size(), 30000u);
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  // Median of exp(1 + 1.5 z) is e; P(round(.) = 0) = P(z < (ln 0.5 − 1) / 1.5) ≈ 0.129.
  EXPECT_EQ(values[values.size() / 2], 3);
  const double zeros =
      static_cast<double>(std::count(values.begin(), values.end(), 0)) / values.size();
  EXPECT_NEAR(zeros, 0.129, 0.015);
}

TEST(Synth, PositiveRateIsAboutTwentyEightPercent) {
  const Parsed& d = default_sample();
  ASSERT_EQ(d.label.size(), 50000u);
  double positives = 0;
  for (int y : d.label) positives += y;
  EXPECT_GE(positives / 50000, 0.25);
  EXPECT_LE(positives / 50000, 0.30);

  SynthOptions opts = small_options(50000);  // other cardinalities, seed and target
  opts.seed = 11;
  opts.target_positive_rate = 0.5;
  const Parsed other = parse(generate(opts));
  positives = 0;
  for (int y : other.label) positives += y;
  EXPECT_NEAR(positives / 50000, 0.5, 0.02);
}

TEST(Synth, CategoriesFollowZipf) {
  const Parsed& d = default_sample();
  const int field = 2;  // C16, 305,000 categories
  std::map<int64_t, double> count;
  double present = 0;
  for (const auto& row : d.category) {
    if (row[field] >= 0) {
      count[row[field]] += 1;
      present += 1;
    }
  }
  // P(index 0) = 1 / Σ_{k=1..n} k^-1.3; P(0) / P(99) = 100^1.3 ≈ 398.
  double norm = 0;
  for (int k = 1; k <= 305000; ++k) norm += std::pow(k, -1.3);
  EXPECT_NEAR(count[0] / present, 1.0 / norm, 0.01);
  EXPECT_GT(count[0], 50 * count[99]);
  EXPECT_GT(count[0], count[1]);
  EXPECT_GT(count[1], count[2]);
  EXPECT_GT(count.size(), 3000u) << "the long tail must show up";
}

TEST(Synth, CardinalityScaleBoundsTheIndices) {
  SynthOptions opts;
  opts.rows = 20000;
  opts.cardinality_scale = 0.001;
  const std::vector<uint64_t> card = synth_cardinalities(opts);
  ASSERT_EQ(card.size(), 26u);
  EXPECT_EQ(card[2], 305u);  // C16: 305000 · 0.001
  EXPECT_EQ(card[0], 2u);    // C14: round(1.46) = 1 → the minimum 2
  EXPECT_EQ(card[8], 2u);    // C22: 3 → 0 → 2
  EXPECT_EQ(synth_cardinalities(SynthOptions{})[2], 305000u);
  const Parsed d = parse(generate(opts));
  std::vector<std::set<int64_t>> seen(kSynthCategorical);
  for (const auto& row : d.category) {
    for (int c = 0; c < kSynthCategorical; ++c) {
      if (row[c] < 0) continue;
      EXPECT_LT(static_cast<uint64_t>(row[c]), card[c]) << synth_field_name(c);
      seen[c].insert(row[c]);
    }
  }
  EXPECT_EQ(seen[0].size(), 2u);
  EXPECT_GT(seen[2].size(), 250u);
}

TEST(Synth, PlantedPairsInteractBeyondTheirFields) {
  const Parsed& d = default_sample();
  const SynthOptions defaults;
  double weakest_planted = 1;
  for (const auto& [a, b] : defaults.planted_pairs) {
    weakest_planted = std::min(weakest_planted, interaction_strength(d, {a, b}));
  }
  // Pairs of fields with no planted interaction: only noise and the sigmoid's curvature.
  double strongest_control = 0;
  for (const auto& [a, b] : std::vector<std::pair<int, int>>{{5, 21}, {1, 4}, {13, 16}, {7, 24}}) {
    strongest_control = std::max(strongest_control, interaction_strength(d, {a, b}));
  }
  EXPECT_GT(weakest_planted, 4 * strongest_control)
      << "planted " << weakest_planted << " control " << strongest_control;

  // Without crosses the same pairs look like the controls.
  SynthOptions flat;
  flat.rows = 50000;
  flat.cross_scale = 0;
  const Parsed f = parse(generate(flat));
  for (const auto& [a, b] : defaults.planted_pairs) {
    EXPECT_LT(interaction_strength(f, {a, b}), 2 * strongest_control + 1e-3)
        << synth_field_name(a) << "×" << synth_field_name(b);
  }
}

TEST(Synth, PlantedTripleInteractsBeyondItsFields) {
  const Parsed& d = default_sample();
  const double planted = interaction_strength(d, SynthOptions{}.planted_triple);
  const double control = interaction_strength(d, {5, 1, 4});  // C19, C15, C18: no planted cross
  EXPECT_GT(planted, 4 * control) << "planted " << planted << " control " << control;
}

TEST(Synth, PlantedFieldNames) {
  const SynthOptions opts = default_synth_options();
  using Names = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      planted_pair_names(opts),
      (Names{{"C19", "C27"}, {"C15", "C38"}, {"C18", "C35"}, {"C21", "C36"}, {"C14", "C30"}}));
  EXPECT_EQ(planted_triple_names(opts), (std::vector<std::string>{"C22", "C33", "C26"}));
  SynthOptions custom;
  custom.planted_pairs = {{25, 2}};
  custom.planted_triple = {};
  EXPECT_EQ(planted_pair_names(custom), (Names{{"C39", "C16"}}));
  EXPECT_TRUE(planted_triple_names(custom).empty());
  EXPECT_EQ(synth_field_name(0), "C14");
  EXPECT_EQ(synth_field_name(25), "C39");
  EXPECT_EQ(opts.rows, 500000u);
  EXPECT_EQ(opts.seed, 1u);
}

TEST(Synth, CustomPlantedStructureStillGenerates) {
  SynthOptions opts = small_options(500);
  opts.planted_pairs = {{2, 3}};
  opts.planted_triple = {};
  const std::string a = generate(opts);
  EXPECT_EQ(lines_of(a).size(), 500u);
  EXPECT_NE(a, generate(small_options(500)));
}

void expect_usage_error(const SynthOptions& opts, const std::string& where,
                        const std::string& what_part) {
  try {
    generate(opts);
    ADD_FAILURE() << "no error for " << where;
  } catch (const UsageError& e) {
    EXPECT_EQ(e.where(), where);
    EXPECT_NE(std::string(e.what()).find(what_part), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(Synth, BadOptionsAreUsageErrors) {
  SynthOptions o;
  o.cardinality_scale = 0;
  expect_usage_error(o, "SynthOptions.cardinality_scale", "got 0");
  o.cardinality_scale = 17;
  expect_usage_error(o, "SynthOptions.cardinality_scale", "(0, 16]");
  o.cardinality_scale = std::nan("");
  expect_usage_error(o, "SynthOptions.cardinality_scale", "(0, 16]");
  o = SynthOptions{};
  o.cross_scale = -1;
  expect_usage_error(o, "SynthOptions.cross_scale", "got -1");
  o = SynthOptions{};
  o.category_scale = INFINITY;
  expect_usage_error(o, "SynthOptions.category_scale", ">= 0");
  o = SynthOptions{};
  o.target_positive_rate = 1;
  expect_usage_error(o, "SynthOptions.target_positive_rate", "(0, 1)");
  o = SynthOptions{};
  o.planted_pairs = {{3, 26}};
  expect_usage_error(o, "SynthOptions.planted_pairs", "got 26");
  o.planted_pairs = {{-1, 3}};
  expect_usage_error(o, "SynthOptions.planted_pairs", "got -1");
  o.planted_pairs = {{4, 4}};
  expect_usage_error(o, "SynthOptions.planted_pairs", "C18 twice");
  o = SynthOptions{};
  o.planted_triple = {1, 2};
  expect_usage_error(o, "SynthOptions.planted_triple", "got 2");
  o.planted_triple = {1, 2, 1};
  expect_usage_error(o, "SynthOptions.planted_triple", "different");
  o.planted_triple = {1, 2, 30};
  expect_usage_error(o, "SynthOptions.planted_triple", "got 30");
  EXPECT_THROW(planted_pair_names(o), UsageError);
  EXPECT_THROW(synth_cardinalities(o), UsageError);
  EXPECT_THROW(validate_synth_options(o), UsageError);
  EXPECT_NO_THROW(validate_synth_options(SynthOptions{}));
}

TEST(Synth, WritesPlainAndGzipFiles) {
  TempDir dir;
  const SynthOptions opts = small_options(6000);
  const std::string expected = generate(opts);
  write_synth_file(dir.file("rows.tsv"), opts);
  EXPECT_EQ(read_plain(dir.file("rows.tsv")), expected);
  write_synth_file(dir.file("rows.tsv.gz"), opts);
  const std::string gz_bytes = read_plain(dir.file("rows.tsv.gz"));
  ASSERT_GE(gz_bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz_bytes[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz_bytes[1]), 0x8b);
  EXPECT_LT(gz_bytes.size(), expected.size());
  EXPECT_EQ(read_gzip(dir.file("rows.tsv.gz")), expected);
}

TEST(Synth, BadOptionsCreateNoFile) {
  TempDir dir;
  SynthOptions opts = small_options(10);
  opts.cross_scale = -1;
  EXPECT_THROW(write_synth_file(dir.file("never.tsv"), opts), UsageError);
  EXPECT_FALSE(fs::exists(dir.file("never.tsv")));
}

void expect_data_error(const std::string& path, const std::string& what_part,
                       const std::string& where_part) {
  try {
    write_synth_file(path, small_options(20000));
    ADD_FAILURE() << "no error for " << path;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(what_part), std::string::npos) << e.what();
    EXPECT_NE(e.where().find(where_part), std::string::npos) << e.where();
    EXPECT_EQ(e.exit_code(), 1);
  }
}

TEST(Synth, IoFailuresAreDataErrors) {
  TempDir dir;
  const std::string missing_dir = dir.file("no/such/dir/rows.tsv");
  expect_data_error(missing_dir, "cannot open for writing", missing_dir);
  expect_data_error(dir.file("no/such/dir/rows.tsv.gz"), "cannot open for writing",
                    dir.file("no/such/dir/rows.tsv.gz"));
  if (fs::exists("/dev/full")) {
    expect_data_error("/dev/full", "failed", "/dev/full");
    std::error_code ec;
    fs::create_symlink("/dev/full", dir.file("full.tsv.gz"), ec);
    if (!ec) expect_data_error(dir.file("full.tsv.gz"), "failed", dir.file("full.tsv.gz"));
  }
  std::ofstream closed;  // never opened: every write fails
  try {
    write_synth(closed, small_options(10));
    ADD_FAILURE() << "no error for a failed stream";
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "output stream at byte offset 0");
  }
}

}  // namespace
}  // namespace deepcross
