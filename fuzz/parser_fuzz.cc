// libFuzzer target for the data readers (data/reader.h): parse_table on arbitrary bytes, under
// options chosen by the input's first two bytes, checked differentially.
//
// Input: byte 0 and byte 1 choose the options, the rest is the file's text.
//   byte 0  bits 0-1  format: 0, 1 Criteo; 2 CSV; 3 TSV
//           bit  2    --bad-lines skip (else error)
//           bits 3-4  label policy: 0, 3 required; 1 optional; 2 absent
//           bits 5-6  classes - 1 (1..4)
//           bit  7    CSV/TSV roles taken from the first line (name i: numeric, categorical,
//                     ignore by i % 3, the first one the label); else the fixed names
//                     label, I1, I2 (numeric), C1, C2 (categorical), id (ignored)
//   byte 1  bits 0-5  n: the second parse's blocks are n + 1 bytes (1..64)
//           bit  6    compute_sha256 off (both parses)
//           bit  7    the second parse uses 2 threads, with blocks of 16 (n + 1) bytes (each
//                     block in flight is a std::async task: fewer, larger blocks keep the
//                     thread start-ups from dominating the time per input)
//
// Each input is parsed twice: once with one thread and one block, once with tiny blocks (and
// sometimes 2 threads). reader.h promises the same Table, the same skipped-line reports and
// the same error for every thread count and block size, so any difference is a bug, as is
// a Table that breaks table.h's invariants, any exception but DataError/UsageError, a crash,
// a sanitizer report or an allocation beyond libFuzzer's -malloc_limit_mb.
//
//   scripts/fuzz.sh 60      # builds with clang into build-fuzz and runs every target 60 s
//   build-fuzz/fuzz/parser_fuzz -max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=512 \
//     CORPUS_DIR tests/testdata/fuzz/parser
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "data/reader.h"
#include "deepcross/error.h"

namespace {

using deepcross::BadLine;
using deepcross::ReadOptions;
using deepcross::Table;

// What one parse gave: a Table and its bad-line reports, or an error.
struct Outcome {
  std::optional<Table> table;
  std::vector<BadLine> bad;
  int error_kind = 0;  // 1 DataError, 2 UsageError
  std::string what, where;
};

Outcome parse(std::string_view text, const ReadOptions& opts) {
  Outcome o;
  try {
    o.table = deepcross::parse_table(text, "fuzz", opts, &o.bad);
  } catch (const deepcross::DataError& e) {
    o.error_kind = 1, o.what = e.what(), o.where = e.where();
  } catch (const deepcross::UsageError& e) {
    o.error_kind = 2, o.what = e.what(), o.where = e.where();
  }
  return o;
}

// Adds each name once, to the first role that claims it (the readers refuse a column with two
// roles, an options problem rather than a data one).
void add_once(std::set<std::string>& seen, std::vector<std::string>& role, std::string name) {
  if (seen.insert(name).second) role.push_back(std::move(name));
}

void roles_from_first_line(std::string_view text, char sep, ReadOptions& o) {
  const std::string_view line = text.substr(0, text.find('\n'));
  std::set<std::string> seen;
  size_t start = 0, i = 0;
  while (true) {
    const size_t end = line.find(sep, start);
    std::string name(line.substr(start, end == std::string_view::npos ? end : end - start));
    if (i == 0) {
      if (seen.insert(name).second) o.label = name;
    } else {
      add_once(seen, i % 3 == 1 ? o.numeric : i % 3 == 2 ? o.categorical : o.ignore, name);
    }
    if (end == std::string_view::npos || i > 64) break;
    start = end + 1;
    ++i;
  }
}

ReadOptions options(uint8_t b, std::string_view text) {
  ReadOptions o;
  const int format = b & 3;
  o.format = format < 2    ? deepcross::Format::kCriteo
             : format == 2 ? deepcross::Format::kCsv
                           : deepcross::Format::kTsv;
  o.bad_lines = (b & 4) ? deepcross::BadLines::kSkip : deepcross::BadLines::kError;
  const int policy = (b >> 3) & 3;
  o.label_policy = policy == 1   ? deepcross::LabelPolicy::kOptional
                   : policy == 2 ? deepcross::LabelPolicy::kAbsent
                                 : deepcross::LabelPolicy::kRequired;
  o.classes = 1 + ((b >> 5) & 3);
  if (o.format != deepcross::Format::kCriteo) {
    if (b & 0x80) {
      roles_from_first_line(text, o.format == deepcross::Format::kCsv ? ',' : '\t', o);
    } else {
      o.label = "label";
      o.numeric = {"I1", "I2"};
      o.categorical = {"C1", "C2"};
      o.ignore = {"id"};
    }
  }
  return o;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return false;
  }
  return true;
}

bool same_tables(const Table& a, const Table& b) {
  if (a.rows != b.rows || a.has_label != b.has_label || a.label_name != b.label_name ||
      !same_floats(a.labels, b.labels) || a.sources != b.sources ||
      a.source_rows != b.source_rows || a.skipped_lines != b.skipped_lines ||
      a.sha256 != b.sha256 || a.numeric.size() != b.numeric.size() ||
      a.categorical.size() != b.categorical.size()) {
    return false;
  }
  for (size_t i = 0; i < a.numeric.size(); ++i) {
    if (a.numeric[i].name != b.numeric[i].name ||
        !same_floats(a.numeric[i].values, b.numeric[i].values)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.categorical.size(); ++i) {
    if (a.categorical[i].name != b.categorical[i].name ||
        a.categorical[i].dictionary != b.categorical[i].dictionary ||
        a.categorical[i].codes != b.categorical[i].codes) {
      return false;
    }
  }
  return true;
}

bool same_outcomes(const Outcome& a, const Outcome& b) {
  if (a.error_kind != b.error_kind || a.what != b.what || a.where != b.where) return false;
  if (a.table.has_value() != b.table.has_value()) return false;
  if (a.bad.size() != b.bad.size()) return false;
  for (size_t i = 0; i < a.bad.size(); ++i) {
    if (a.bad[i].what != b.bad[i].what || a.bad[i].where != b.bad[i].where) return false;
  }
  return !a.table || same_tables(*a.table, *b.table);
}

// table.h's promises about a Table the readers return.
void check_table(const Table& t, const ReadOptions& o, size_t text_size) {
  if (t.rows == 0 || t.sources.size() != 1 || t.source_rows.size() != 1 ||
      t.source_rows[0] != t.rows || t.sha256.size() != (o.compute_sha256 ? 64u : 0u)) {
    std::abort();
  }
  if (t.has_label != (t.labels.size() == t.rows) || (!t.has_label && !t.labels.empty())) {
    std::abort();
  }
  const int top = o.classes == 1 ? 1 : o.classes - 1;
  for (float y : t.labels) {
    if (!(y >= 0 && y <= static_cast<float>(top)) || y != std::floor(y)) std::abort();
  }
  for (const auto& c : t.numeric) {
    if (c.values.size() != t.rows) std::abort();
    for (float v : c.values) {
      if (std::isinf(v)) std::abort();  // NaN = missing; infinities are refused
    }
  }
  for (const auto& c : t.categorical) {
    if (c.codes.size() != t.rows) std::abort();
    // Dense codes in order of first appearance, each dictionary entry once.
    uint32_t next = 0;
    for (uint32_t code : c.codes) {
      if (code > next || code >= c.dictionary.size()) std::abort();
      if (code == next) ++next;
    }
    if (next != c.dictionary.size()) std::abort();
    if (std::set<std::string>(c.dictionary.begin(), c.dictionary.end()).size() != next) {
      std::abort();
    }
  }
  if (t.skipped_lines > text_size + 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  ReadOptions whole = options(data[0], text);
  whole.block_bytes = text.size() + 1;  // one block (the 4 MiB default costs a 4 MiB buffer)
  whole.compute_sha256 = !(data[1] & 0x40);
  ReadOptions pieces = whole;
  pieces.block_bytes = 1 + (data[1] & 0x3f);
  if (data[1] & 0x80) {
    pieces.threads = 2;
    pieces.block_bytes *= 16;
  }

  const Outcome a = parse(text, whole);
  const Outcome b = parse(text, pieces);
  if (!same_outcomes(a, b)) std::abort();
  if (a.table) check_table(*a.table, whole, text.size());
  return 0;
}
