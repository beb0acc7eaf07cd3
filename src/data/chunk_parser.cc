#include <algorithm>
#include "data/chunk_parser.h"

#include <cstring>
#include <limits>

namespace deepcross {
namespace {

class ChunkParser {
 public:
  ChunkParser(const RowLayout& layout, ParsedChunk& out)
      : layout_(layout),
        out_(out),
        splitter_(layout.separator, layout.quoted),
        numeric_(layout.numeric),
        categorical_(layout.categorical),
        hashes_(layout.categorical) {
    out_.numeric.resize(layout.numeric);
    out_.dictionaries.resize(layout.categorical);
    out_.codes.resize(layout.categorical);
  }

  void run(std::string_view text) {
    const char* data = text.data();
    const size_t size = text.size();
    size_t pos = 0;
    size_t line = 0;
    size_t blank_run = 0, blank_first = 0;
    reserve(size);
    while (pos < size) {
      const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
      const size_t end = nl ? static_cast<size_t>(nl - data) : size;
      std::string_view row(data + pos, end - pos);
      if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
      pos = nl ? end + 1 : size;
      const size_t index = line++;
      if (row.empty()) {
        if (blank_run++ == 0) blank_first = index;
        continue;
      }
      if (blank_run > 0) {
        if (out_.all_blank) {
          out_.leading_blank = blank_run;
        } else {
          for (size_t k = 0; k < blank_run; ++k) {
            if (!problem(blank_first + k, 0, "empty line")) return;
          }
        }
        blank_run = 0;
      }
      out_.all_blank = false;
      if (!parse_row(row, index)) return;
    }
    out_.lines = line;
    if (out_.all_blank) {
      out_.leading_blank = blank_run;
    } else {
      out_.trailing_blank = blank_run;
      out_.trailing_first = blank_first;
    }
  }

 private:
  // Reserves the columns for the rows `bytes` likely holds (from the first line's length).
  void reserve(size_t bytes) {
    const size_t per_row = 8 * layout_.fields.size() + 8;
    const size_t rows = bytes / per_row + 16;
    if (layout_.has_label) out_.labels.reserve(rows);
    for (auto& v : out_.numeric) v.reserve(rows);
    for (auto& v : out_.codes) v.reserve(rows);
  }

  // Records a problem; returns whether to go on (false: stop at this first problem).
  bool problem(size_t line, uint32_t column, std::string what) {
    if (out_.problems.size() < ParsedChunk::kMaxProblems) {
      out_.problems.push_back({line, column, std::move(what)});
    }
    ++out_.skipped;
    return !layout_.stop_at_first_problem;
  }

  // Parses one non-blank line into the columns; returns false to stop.
  bool parse_row(std::string_view row, size_t line) {
    FieldProblem split = splitter_.split(row, fields_);
    if (!split.ok()) return problem(line, split.column, std::move(split.what));
    const auto& slots = layout_.fields;
    if (fields_.size() != slots.size()) {
      // WHERE names the first missing column (too few fields) or the first extra one.
      // (No column while the file's width is still undecided.)
      const size_t column = slots.empty() ? 0 : std::min(fields_.size(), slots.size()) + 1;
      return problem(line, static_cast<uint32_t>(column),
                     layout_.expected_fields + ", found " + std::to_string(fields_.size()));
    }
    float label = 0;
    bool has_label = false;
    for (size_t i = 0; i < slots.size(); ++i) {
      const std::string_view field = fields_[i];
      const FieldSlot slot = slots[i];
      switch (slot.role) {
        case FieldRole::kNumeric:
          if (field.empty()) {
            numeric_[slot.index] = std::numeric_limits<float>::quiet_NaN();
          } else {
            NumberStatus status = parse_number(field, &numeric_[slot.index]);
            if (status != NumberStatus::kOk) {
              return problem(line, static_cast<uint32_t>(i + 1), number_problem(status, field));
            }
          }
          break;
        case FieldRole::kCategorical:
          categorical_[slot.index] = field;
          break;
        case FieldRole::kLabel: {
          if (layout_.label_ignored) {  // whatever it holds, it is not used
            has_label = true;
            break;
          }
          std::string what = parse_label(field, layout_.classes, &label);
          if (!what.empty()) return problem(line, static_cast<uint32_t>(i + 1), std::move(what));
          has_label = true;
          break;
        }
        case FieldRole::kIgnore:
          break;
      }
    }
    // The row is valid: commit it.
    if (has_label) out_.labels.push_back(label);
    for (size_t j = 0; j < numeric_.size(); ++j) out_.numeric[j].push_back(numeric_[j]);
    // Hash every categorical value and prefetch its slot first: the lookups then wait for
    // memory together rather than one after another.
    for (size_t j = 0; j < categorical_.size(); ++j) {
      hashes_[j] = StringInterner::hash_bytes(categorical_[j]);
      out_.dictionaries[j].prefetch(hashes_[j]);
    }
    for (size_t j = 0; j < categorical_.size(); ++j) {
      out_.codes[j].push_back(out_.dictionaries[j].intern(categorical_[j], hashes_[j]));
    }
    ++out_.rows;
    return true;
  }

  const RowLayout& layout_;
  ParsedChunk& out_;
  FieldSplitter splitter_;
  std::vector<std::string_view> fields_;
  std::vector<float> numeric_;                 // the current row's numeric values
  std::vector<std::string_view> categorical_;  // the current row's categorical values
  std::vector<uint64_t> hashes_;               // and their hashes
};

}  // namespace

ParsedChunk parse_chunk(std::string_view text, const RowLayout& layout,
                        const std::vector<size_t>& expected_distinct) {
  ParsedChunk out;
  out.bytes = text.size();
  ChunkParser parser(layout, out);
  for (size_t j = 0; j < expected_distinct.size() && j < out.dictionaries.size(); ++j) {
    out.dictionaries[j].reserve(expected_distinct[j]);
  }
  parser.run(text);
  return out;
}

}  // namespace deepcross
