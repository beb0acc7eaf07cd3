#include "data/synth.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/check.h"
#include "core/rng.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr double kMissingNumeric = 0.20;
constexpr double kMissingLarge = 0.02;
constexpr double kMissingSmall = 0.30;
constexpr double kZipfExponent = 1.3;
constexpr double kMaxCardinalityScale = 16.0;
constexpr uint64_t kBlockRows = 4096;   // rows per Rng stream
constexpr uint64_t kPilotRows = 20000;  // rows used to solve the intercept
constexpr size_t kMaxRowBytes = 1024;   // generous bound on one formatted row

// Tags that keep the hashed effects of different kinds apart.
constexpr uint64_t kTagCategory = 1, kTagPair = 2, kTagTriple = 3, kTagPilot = 4;

// splitmix64's finaliser: a bijective 64-bit mixer.
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
constexpr uint64_t combine(uint64_t h, uint64_t v) { return mix64(h ^ mix64(v)); }

// An approximately N(0, 1) value from 64 hashed bits: the Irwin–Hall sum of four 16-bit
// uniforms u_i ∈ (0, 1), z = (Σ u_i − 2) · √3 (variance 4/12 · 3 = 1). Integer work only, so
// the same on every platform.
double hashed_normal(uint64_t h) {
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += (static_cast<double>((h >> (16 * i)) & 0xFFFF) + 0.5);
  return (sum / 65536.0 - 2.0) * 1.7320508075688772;
}

// lowbias32 (a bijective 32-bit mixer) and its inverse; the multipliers' inverses mod 2^32 by
// Newton's iteration x ← x (2 − a x).
constexpr uint32_t kMulA = 0x7feb352dU, kMulB = 0x846ca68bU;
constexpr uint32_t inverse_mod_2_32(uint32_t a) {
  uint32_t x = a;  // correct to 3 bits for odd a; each step doubles the correct bits
  for (int i = 0; i < 5; ++i) x *= 2U - a * x;
  return x;
}
static_assert(kMulA * inverse_mod_2_32(kMulA) == 1U && kMulB * inverse_mod_2_32(kMulB) == 1U);

constexpr uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= kMulA;
  x ^= x >> 15;
  x *= kMulB;
  x ^= x >> 16;
  return x;
}
constexpr uint32_t unmix32(uint32_t x) {
  x ^= x >> 16;
  x *= inverse_mod_2_32(kMulB);
  x ^= (x >> 15) ^ (x >> 30);
  x *= inverse_mod_2_32(kMulA);
  x ^= x >> 16;
  return x;
}
static_assert(unmix32(mix32(0x12345678U)) == 0x12345678U);

constexpr uint32_t field_key(int field) {
  return static_cast<uint32_t>(mix64(0xC0DEC0DEULL + static_cast<uint64_t>(field)));
}

std::string format_double(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// Everything that stays fixed while rows are drawn.
struct Plan {
  std::array<uint64_t, kSynthCategorical> cardinality{};  // index n = the missing level
  std::array<double, kSynthCategorical> missing_rate{};
  // zipf_cumulative[k] = Σ_{i<=k} (i+1)^-1.3: one table serves every field, since a field with
  // n categories uses its first n entries (Zipf over n = this prefix, renormalised).
  std::vector<double> zipf_cumulative;
  uint64_t key = 0;  // hash of the seed
  std::vector<std::pair<int, int>> pairs;
  std::vector<int> triple;
  double cross_scale = 0;
  double category_scale = 0;
  double intercept = 0;
};

struct Row {
  std::array<uint64_t, kSynthCategorical> category{};  // == cardinality when missing
  std::array<int64_t, kSynthNumeric> numeric{};
  std::array<bool, kSynthNumeric> numeric_present{};
  double label_uniform = 0;
};

// Smallest k < n with S[k] > t, where t < S[n−1]: a galloping search from the head (where a
// Zipf draw usually lands, and where the table stays in cache), then a binary search.
uint64_t zipf_index(const std::vector<double>& s, uint64_t n, double t) {
  uint64_t lo = 0, hi = 1;
  while (hi < n && s[hi - 1] <= t) {
    lo = hi;
    hi *= 2;
  }
  hi = std::min(hi, n);
  return static_cast<uint64_t>(std::upper_bound(s.begin() + lo, s.begin() + hi, t) - s.begin());
}

// Draw order per row (fixed, it defines the output): per numeric column a missing draw, then
// z; per categorical field a missing draw, then the Zipf uniform; then the label's uniform
// (drawn also without labels, so with_label = false prints the same rows).
void draw_row(Rng& rng, const Plan& plan, Row& row) {
  for (int j = 0; j < kSynthNumeric; ++j) {
    row.numeric_present[j] = rng.uniform() >= kMissingNumeric;
    if (row.numeric_present[j]) row.numeric[j] = std::llround(std::exp(1.0 + 1.5 * rng.normal()));
  }
  for (int f = 0; f < kSynthCategorical; ++f) {
    const uint64_t n = plan.cardinality[f];
    if (rng.uniform() < plan.missing_rate[f]) {
      row.category[f] = n;
    } else {
      const double t = rng.uniform() * plan.zipf_cumulative[n - 1];
      row.category[f] = zipf_index(plan.zipf_cumulative, n, t);
    }
  }
  row.label_uniform = rng.uniform();
}

// t(v) = (log1p(v) − 1.3) / 1.3: a numeric value on a roughly standard scale.
double numeric_term(int64_t v) { return (std::log1p(static_cast<double>(v)) - 1.3) / 1.3; }

// The logit without the intercept (formula in synth.h).
double row_logit(const Plan& plan, const Row& row) {
  double main = 0;
  for (int f = 0; f < kSynthCategorical; ++f) {
    main += hashed_normal(combine(
        combine(combine(plan.key, kTagCategory), static_cast<uint64_t>(f)), row.category[f]));
  }
  double cross = 0;
  for (const auto& [a, b] : plan.pairs) {
    uint64_t h = combine(combine(plan.key, kTagPair), static_cast<uint64_t>(a * 64 + b));
    cross += hashed_normal(combine(combine(h, row.category[a]), row.category[b]));
  }
  if (!plan.triple.empty()) {
    const int a = plan.triple[0], b = plan.triple[1], c = plan.triple[2];
    uint64_t h =
        combine(combine(plan.key, kTagTriple), static_cast<uint64_t>((a * 64 + b) * 64 + c));
    cross += hashed_normal(
        combine(combine(combine(h, row.category[a]), row.category[b]), row.category[c]));
  }
  double numeric = 0;
  if (row.numeric_present[0]) numeric += 0.35 * numeric_term(row.numeric[0]);
  if (row.numeric_present[2]) numeric -= 0.30 * numeric_term(row.numeric[2]);
  if (row.numeric_present[5] && row.numeric[5] >= 20) numeric += 0.40;
  return plan.category_scale * main + plan.cross_scale * cross + numeric;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Solves mean_i sigmoid(b + η_i) = target over a pilot sample by bisection (the mean is
// increasing in b).
double solve_intercept(const Plan& plan, uint64_t seed, double target) {
  Rng rng(mix64(seed ^ mix64(kTagPilot)));
  std::vector<double> eta(kPilotRows);
  Row row;
  for (auto& e : eta) {
    draw_row(rng, plan, row);
    e = row_logit(plan, row);
  }
  double lo = -40, hi = 40;
  for (int it = 0; it < 64 && hi - lo > 1e-9; ++it) {
    const double mid = 0.5 * (lo + hi);
    double mean = 0;
    for (double e : eta) mean += sigmoid(mid + e);
    mean /= static_cast<double>(eta.size());
    (mean < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Plan make_plan(const SynthOptions& opts) {
  Plan plan;
  const std::vector<uint64_t> card = synth_cardinalities(opts);  // validates
  uint64_t max_card = 0;
  for (int f = 0; f < kSynthCategorical; ++f) {
    plan.cardinality[f] = card[f];
    plan.missing_rate[f] =
        kSynthBaseCardinalities[f] >= kSynthLargeField ? kMissingLarge : kMissingSmall;
    max_card = std::max(max_card, card[f]);
  }
  plan.zipf_cumulative.resize(max_card);
  double sum = 0;
  for (uint64_t k = 0; k < max_card; ++k) {
    sum += std::pow(static_cast<double>(k + 1), -kZipfExponent);
    plan.zipf_cumulative[k] = sum;
  }
  plan.key = mix64(opts.seed);
  plan.pairs = opts.planted_pairs;
  plan.triple = opts.planted_triple;
  plan.cross_scale = opts.cross_scale;
  plan.category_scale = opts.category_scale;
  if (opts.with_label) plan.intercept = solve_intercept(plan, opts.seed, opts.target_positive_rate);
  return plan;
}

constexpr char kHexDigits[] = "0123456789abcdef";

char* append_row(char* p, const Plan& plan, const Row& row, bool with_label) {
  if (with_label) {
    const double logit = plan.intercept + row_logit(plan, row);
    *p++ = row.label_uniform < sigmoid(logit) ? '1' : '0';
    *p++ = '\t';
  }
  for (int j = 0; j < kSynthNumeric; ++j) {
    if (row.numeric_present[j]) p = std::to_chars(p, p + 24, row.numeric[j]).ptr;
    *p++ = '\t';
  }
  for (int f = 0; f < kSynthCategorical; ++f) {
    if (row.category[f] != plan.cardinality[f]) {
      const uint32_t code = synth_category_code(f, row.category[f]);
      for (int shift = 28; shift >= 0; shift -= 4) *p++ = kHexDigits[(code >> shift) & 0xF];
    }
    *p++ = f + 1 < kSynthCategorical ? '\t' : '\n';
  }
  return p;
}

// Generates all rows, handing each formatted block of bytes to sink(const char*, size_t).
template <typename Sink>
void generate(const SynthOptions& opts, Sink&& sink) {
  const Plan plan = make_plan(opts);
  const Rng base(opts.seed);
  std::vector<char> buffer(kBlockRows * kMaxRowBytes);
  Row row;
  for (uint64_t first = 0, block = 0; first < opts.rows; first += kBlockRows, ++block) {
    Rng rng = base.split(block);
    const uint64_t n = std::min(kBlockRows, opts.rows - first);
    char* p = buffer.data();
    for (uint64_t i = 0; i < n; ++i) {
      draw_row(rng, plan, row);
      p = append_row(p, plan, row, opts.with_label);
    }
    DC_CHECK(p <= buffer.data() + buffer.size());
    sink(buffer.data(), static_cast<size_t>(p - buffer.data()));
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_gzip(const std::string& path, const SynthOptions& opts) {
  // Level 1: the hex categories barely compress, and level 6 would take several times longer.
  gzFile gz = gzopen(path.c_str(), "wb1");
  if (gz == nullptr) {
    throw DataError(std::string("cannot open for writing: ") + std::strerror(errno), path);
  }
  auto closer = [](gzFile g) { gzclose(g); };
  std::unique_ptr<gzFile_s, decltype(closer)> guard(gz, closer);
  uint64_t written = 0;
  auto fail = [&](const char* what) {
    int errnum = 0;
    const char* msg = gzerror(gz, &errnum);
    const std::string reason = errnum == Z_ERRNO ? std::strerror(errno) : std::string(msg);
    throw DataError(std::string(what) + ": " + reason,
                    path + " at byte offset " + std::to_string(written) + " (uncompressed)");
  };
  generate(opts, [&](const char* data, size_t size) {
    if (size > 0 && gzwrite(gz, data, static_cast<unsigned>(size)) != static_cast<int>(size)) {
      fail("write failed");
    }
    written += size;
  });
  if (gzflush(gz, Z_FINISH) != Z_OK) fail("write failed");
  const int rc = gzclose(guard.release());
  if (rc != Z_OK) {
    const std::string reason =
        rc == Z_ERRNO ? std::strerror(errno) : "zlib error " + std::to_string(rc);
    throw DataError("closing failed: " + reason, path);
  }
}

void write_plain(const std::string& path, const SynthOptions& opts) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    throw DataError(std::string("cannot open for writing: ") + std::strerror(errno), path);
  }
  auto closer = [](std::FILE* f) { std::fclose(f); };
  std::unique_ptr<std::FILE, decltype(closer)> guard(file, closer);
  uint64_t written = 0;
  generate(opts, [&](const char* data, size_t size) {
    if (std::fwrite(data, 1, size, file) != size) {
      throw DataError(std::string("write failed: ") + std::strerror(errno),
                      path + " at byte offset " + std::to_string(written));
    }
    written += size;
  });
  if (std::fflush(file) != 0) {
    throw DataError(std::string("write failed: ") + std::strerror(errno),
                    path + " at byte offset " + std::to_string(written));
  }
  if (std::fclose(guard.release()) != 0) {
    throw DataError(std::string("closing failed: ") + std::strerror(errno), path);
  }
}

void check_field(int field, const char* member) {
  if (field < 0 || field >= kSynthCategorical) {
    throw UsageError(
        "categorical field index must be in [0, 25] (C14..C39), got " + std::to_string(field),
        std::string("SynthOptions.") + member);
  }
}

}  // namespace

SynthOptions default_synth_options() { return SynthOptions{}; }

void validate_synth_options(const SynthOptions& opts) {
  if (!(opts.cardinality_scale > 0 && opts.cardinality_scale <= kMaxCardinalityScale)) {
    throw UsageError(
        "cardinality_scale must be in (0, 16], got " + format_double(opts.cardinality_scale),
        "SynthOptions.cardinality_scale");
  }
  if (!(opts.cross_scale >= 0 && std::isfinite(opts.cross_scale))) {
    throw UsageError("cross_scale must be finite and >= 0, got " + format_double(opts.cross_scale),
                     "SynthOptions.cross_scale");
  }
  if (!(opts.category_scale >= 0 && std::isfinite(opts.category_scale))) {
    throw UsageError(
        "category_scale must be finite and >= 0, got " + format_double(opts.category_scale),
        "SynthOptions.category_scale");
  }
  if (!(opts.target_positive_rate > 0 && opts.target_positive_rate < 1)) {
    throw UsageError(
        "target_positive_rate must be in (0, 1), got " + format_double(opts.target_positive_rate),
        "SynthOptions.target_positive_rate");
  }
  for (const auto& [a, b] : opts.planted_pairs) {
    check_field(a, "planted_pairs");
    check_field(b, "planted_pairs");
    if (a == b) {
      throw UsageError(
          "a planted pair needs two different fields, got " + synth_field_name(a) + " twice",
          "SynthOptions.planted_pairs");
    }
  }
  const auto& t = opts.planted_triple;
  if (!t.empty()) {
    if (t.size() != 3) {
      throw UsageError("planted_triple must hold 0 or 3 fields, got " + std::to_string(t.size()),
                       "SynthOptions.planted_triple");
    }
    for (int f : t) check_field(f, "planted_triple");
    if (t[0] == t[1] || t[0] == t[2] || t[1] == t[2]) {
      throw UsageError("planted_triple needs three different fields",
                       "SynthOptions.planted_triple");
    }
  }
}

std::vector<uint64_t> synth_cardinalities(const SynthOptions& opts) {
  validate_synth_options(opts);
  std::vector<uint64_t> card(kSynthCategorical);
  for (int f = 0; f < kSynthCategorical; ++f) {
    const double scaled =
        std::round(static_cast<double>(kSynthBaseCardinalities[f]) * opts.cardinality_scale);
    card[f] = std::max<uint64_t>(2, static_cast<uint64_t>(scaled));
  }
  return card;
}

uint32_t synth_category_code(int field, uint64_t index) {
  DC_CHECK(field >= 0 && field < kSynthCategorical);
  DC_CHECK(index <= UINT32_MAX);
  return mix32(static_cast<uint32_t>(index) ^ field_key(field));
}

uint64_t synth_category_index(int field, uint32_t code) {
  DC_CHECK(field >= 0 && field < kSynthCategorical);
  return unmix32(code) ^ field_key(field);
}

std::string synth_field_name(int field) {
  DC_CHECK(field >= 0 && field < kSynthCategorical);
  return "C" + std::to_string(14 + field);
}

void write_synth(std::ostream& out, const SynthOptions& opts) {
  uint64_t written = 0;
  generate(opts, [&](const char* data, size_t size) {
    out.write(data, static_cast<std::streamsize>(size));
    if (!out) {
      throw DataError("write to the output stream failed",
                      "output stream at byte offset " + std::to_string(written));
    }
    written += size;
  });
  out.flush();
  if (!out) throw DataError("flushing the output stream failed", "output stream");
}

void write_synth_file(const std::string& path, const SynthOptions& opts) {
  validate_synth_options(opts);  // before creating the file
  if (ends_with(path, ".gz")) {
    write_gzip(path, opts);
  } else {
    write_plain(path, opts);
  }
}

std::vector<std::pair<std::string, std::string>> planted_pair_names(const SynthOptions& opts) {
  validate_synth_options(opts);
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& [a, b] : opts.planted_pairs) {
    names.emplace_back(synth_field_name(a), synth_field_name(b));
  }
  return names;
}

std::vector<std::string> planted_triple_names(const SynthOptions& opts) {
  validate_synth_options(opts);
  std::vector<std::string> names;
  for (int f : opts.planted_triple) names.push_back(synth_field_name(f));
  return names;
}

}  // namespace deepcross
