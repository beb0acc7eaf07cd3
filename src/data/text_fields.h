// Splitting one line of delimited text into fields, and parsing numeric and label fields.
//
//   FieldSplitter csv(',', /*quoted=*/true);
//   std::vector<std::string_view> fields;
//   FieldProblem p = csv.split("a,\"b,\"\"c\"\"\",", fields);  // {a, b,"c", ""}; p.ok()
//
//   float v;
//   NumberStatus s = parse_number("1e3", &v);  // kOk, v == 1000
//
// Quoting (CSV, RFC 4180): a field that starts with `"` runs to the next `"` not doubled;
// `""` inside it is one `"`; the closing quote must end the field (separator or end of
// line). A quoted field may not span lines: the readers cut lines at every '\n' first. A `"`
// inside an unquoted field is an ordinary byte. TSV and Criteo: no quoting at all.
//
// Numbers: an optional sign (`-` or `+`), then a decimal in fixed or exponent notation
// (`3`, `-2`, `+4`, `3.5`, `.5`, `5.`, `1e3`, `2.5E-3`), nothing around it (no spaces).
// Integers of up to 18 digits take an exact fast path; others go through std::from_chars,
// both correctly rounded to float. `nan`, `inf` and `infinity` (any case or sign) are
// kNonFinite; magnitudes above FLT_MAX are kOutOfRange; tiny magnitudes round to a
// subnormal or zero (kOk). Hexadecimal and anything else is kInvalid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

// A problem in one line: `what` happened at 1-based field `column` (0 = the whole line).
struct FieldProblem {
  uint32_t column = 0;
  std::string what;
  bool ok() const { return what.empty(); }
};

class FieldSplitter {
 public:
  FieldSplitter(char separator, bool quoted) : separator_(separator), quoted_(quoted) {}
  // Splits `line` (no line terminator) into `fields`. Views point into `line` or, for quoted
  // fields with doubled quotes, into this splitter's scratch, valid until the next split().
  FieldProblem split(std::string_view line, std::vector<std::string_view>& fields);

 private:
  FieldProblem split_quoted(std::string_view line, std::vector<std::string_view>& fields);

  char separator_;
  bool quoted_;
  std::string unescaped_;                   // doubled quotes undone, for all fields of a line
  std::vector<uint32_t> unescaped_fields_;  // which fields point into unescaped_
  std::vector<size_t> unescaped_starts_;
};

enum class NumberStatus { kOk, kInvalid, kNonFinite, kOutOfRange };

// Parses a non-empty numeric field into *out (see the header comment for the syntax).
NumberStatus parse_number(std::string_view text, float* out);

// The error message for a numeric field that failed with `status`, e.g.
// "invalid numeric value 'abc'".
std::string number_problem(NumberStatus status, std::string_view text);

// A label field: empty is "missing label"; otherwise a number with an integer value in
// 0..classes-1 (so `1`, `1.0` and `1e0` are all class 1). Returns "" when valid.
std::string parse_label(std::string_view text, int classes, float* out);

// `text` for an error message: at most 40 bytes (then "..."), control bytes as '?'.
std::string quote_field(std::string_view text);

}  // namespace deepcross
