// ChunkParser: turns a block of whole lines into column vectors, the unit of parallel work
// of the readers (reader.h). Categorical values are interned into chunk-local dictionaries
// (codes in order of first appearance within the chunk); the reader merges chunks in file
// order, so the final codes are in order of first appearance in the file whatever the
// thread count.
//
//   RowLayout layout = ...;  // what each field of a row is
//   ParsedChunk chunk = parse_chunk(block, layout);
//   // chunk.rows rows; problems carry chunk-relative 0-based line numbers.
//
// Blank lines (empty, or a lone '\r') are not rows. Those before the chunk's first non-blank
// line and after its last are only counted (leading_blank, trailing_blank): whether they are
// an error depends on what the neighbouring chunks hold, which only the reader knows
// (blank lines at the end of a file are ignored). A run of blank lines between two rows of
// the chunk is a problem ("empty line").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/interner.h"
#include "data/text_fields.h"

namespace deepcross {

enum class FieldRole : uint8_t { kLabel, kNumeric, kCategorical, kIgnore };

struct FieldSlot {
  FieldRole role = FieldRole::kIgnore;
  uint32_t index = 0;  // which numeric / categorical column of the output (unused otherwise)
};

struct RowLayout {
  char separator = '\t';
  bool quoted = false;  // CSV quoting
  // One slot per field of a row. Empty while a Criteo file's width is still undecided:
  // then every non-blank line is a field-count problem.
  std::vector<FieldSlot> fields;
  std::vector<std::string> names;       // one per field, for error messages
  bool has_label = false;               // one field is the label
  bool label_ignored = false;           // its value is not read (predict: rows with a label)
  size_t numeric = 0, categorical = 0;  // output column counts
  int classes = 1;
  bool stop_at_first_problem = true;  // BadLines::kError
  std::string expected_fields;        // e.g. "expected 40 fields", for field-count problems
};

// One malformed line: chunk-relative 0-based `line`, 1-based `column` (0 = whole line).
struct LineProblem {
  size_t line = 0;
  uint32_t column = 0;
  std::string what;
};

struct ParsedChunk {
  static constexpr size_t kMaxProblems = 10;  // problems kept when skipping bad lines

  size_t bytes = 0;  // the text's size
  size_t lines = 0;  // lines in the chunk (rows, blank and bad lines)
  size_t rows = 0;
  std::vector<float> labels;                 // rows values when the layout has a label
  std::vector<std::vector<float>> numeric;   // [column][row]
  std::vector<StringInterner> dictionaries;  // [column], chunk-local codes
  std::vector<std::vector<uint32_t>> codes;  // [column][row]

  bool all_blank = true;      // no non-blank line at all
  size_t leading_blank = 0;   // blank lines before the first non-blank one (all if all_blank)
  size_t trailing_blank = 0;  // blank lines after the last non-blank one
  size_t trailing_first = 0;  // chunk-relative line of the first of those

  // Stopping at the first problem: at most one, and parsing ended there. Skipping: the first
  // kMaxProblems problems, with `skipped` counting every skipped line.
  std::vector<LineProblem> problems;
  size_t skipped = 0;
};

// `expected_distinct[j]`, when given, sizes categorical column j's dictionary up front (a
// guess from the previous chunk; it changes speed, never the result).
ParsedChunk parse_chunk(std::string_view text, const RowLayout& layout,
                        const std::vector<size_t>& expected_distinct = {});

}  // namespace deepcross
