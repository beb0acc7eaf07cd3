#include "data/text_fields.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace deepcross {

FieldProblem FieldSplitter::split(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  if (quoted_ && line.find('"') != std::string_view::npos) return split_quoted(line, fields);
  // Fields are short (Criteo's average 6 bytes): rather than a memchr call per field, find
  // the separators 16 bytes at a time (SSE2, baseline on x86-64), then byte by byte.
  const char* p = line.data();
  const char* end = p + line.size();
  const char* start = p;
  const char separator = separator_;
#if defined(__SSE2__)
  const __m128i wanted = _mm_set1_epi8(separator);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, wanted)));
    while (mask != 0) {
      const char* hit = p + __builtin_ctz(mask);
      fields.emplace_back(start, hit - start);
      start = hit + 1;
      mask &= mask - 1;
    }
  }
#endif
  for (; p != end; ++p) {
    if (*p == separator) {
      fields.emplace_back(start, p - start);
      start = p + 1;
    }
  }
  fields.emplace_back(start, end - start);
  return {};
}

FieldProblem FieldSplitter::split_quoted(std::string_view line,
                                         std::vector<std::string_view>& fields) {
  unescaped_.clear();
  unescaped_fields_.clear();
  unescaped_starts_.clear();
  size_t pos = 0;
  while (true) {
    const uint32_t column = static_cast<uint32_t>(fields.size()) + 1;
    if (pos < line.size() && line[pos] == '"') {
      // Quoted field: find the closing quote, undoing doubled quotes.
      size_t i = pos + 1;
      size_t start = i;
      bool doubled = false;
      size_t close;
      while (true) {
        close = line.find('"', i);
        if (close == std::string_view::npos) {
          return {column, "unterminated quoted field (a quoted field may not span lines)"};
        }
        if (close + 1 < line.size() && line[close + 1] == '"') {
          if (!doubled) {
            unescaped_fields_.push_back(column - 1);
            unescaped_starts_.push_back(unescaped_.size());
            doubled = true;
          }
          unescaped_.append(line.substr(i, close + 1 - i));  // up to and with one quote
          i = close + 2;
          continue;
        }
        break;
      }
      if (doubled) {
        unescaped_.append(line.substr(i, close - i));
        fields.emplace_back();  // pointed into unescaped_ below
      } else {
        fields.push_back(line.substr(start, close - start));
      }
      pos = close + 1;
      if (pos == line.size()) break;
      if (line[pos] != separator_) {
        return {column, "unexpected character " + quote_field(line.substr(pos, 1)) +
                            " after a closing quote (expected '" + separator_ +
                            "' or the end of the line)"};
      }
      ++pos;
      continue;
    }
    const size_t sep = line.find(separator_, pos);
    if (sep == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      break;
    }
    fields.push_back(line.substr(pos, sep - pos));
    pos = sep + 1;
  }
  // unescaped_ is complete now: point the fields that had doubled quotes into it.
  for (size_t k = 0; k < unescaped_fields_.size(); ++k) {
    const size_t start = unescaped_starts_[k];
    const size_t stop =
        k + 1 < unescaped_starts_.size() ? unescaped_starts_[k + 1] : unescaped_.size();
    fields[unescaped_fields_[k]] = std::string_view(unescaped_).substr(start, stop - start);
  }
  return {};
}

NumberStatus parse_number(std::string_view text, float* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  // Fast path: up to 18 decimal digits and nothing else. The integer is exact in uint64 and
  // its conversion to float is correctly rounded, as std::from_chars would round it.
  const size_t digits = end - p;
  if (digits > 0 && digits <= 18) {
    uint64_t v = 0;
    const char* q = p;
    while (q != end && static_cast<unsigned>(*q - '0') < 10) v = v * 10 + (*q++ - '0');
    if (q == end) {
      *out = negative ? -static_cast<float>(v) : static_cast<float>(v);
      return NumberStatus::kOk;
    }
  }
  if (p == end) return NumberStatus::kInvalid;
  const char first = *p;
  if (first == 'i' || first == 'I' || first == 'n' || first == 'N') {
    float v;
    auto r = std::from_chars(p, end, v);
    return (r.ec == std::errc() && r.ptr == end) ? NumberStatus::kNonFinite
                                                 : NumberStatus::kInvalid;
  }
  if (!(static_cast<unsigned>(first - '0') < 10 || first == '.')) return NumberStatus::kInvalid;
  float v;
  auto r = std::from_chars(p, end, v);
  if (r.ptr != end) return NumberStatus::kInvalid;
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow or underflow: tell them apart in double, where underflow to float is fine.
    double d;
    auto rd = std::from_chars(p, end, d);
    if (rd.ec != std::errc() || rd.ptr != end || std::fabs(d) > std::numeric_limits<float>::max()) {
      return NumberStatus::kOutOfRange;
    }
    v = static_cast<float>(d);
  } else if (r.ec != std::errc()) {
    return NumberStatus::kInvalid;
  }
  *out = negative ? -v : v;
  return NumberStatus::kOk;
}

std::string number_problem(NumberStatus status, std::string_view text) {
  switch (status) {
    case NumberStatus::kOk:
      return {};
    case NumberStatus::kNonFinite:
      return "invalid numeric value " + quote_field(text) + " (not a finite number)";
    case NumberStatus::kOutOfRange:
      return "numeric value " + quote_field(text) + " is beyond float range";
    case NumberStatus::kInvalid:
      break;
  }
  return "invalid numeric value " + quote_field(text);
}

std::string parse_label(std::string_view text, int classes, float* out) {
  if (text.empty()) return "missing label";
  float v = 0;
  const int max_label = classes <= 2 ? 1 : classes - 1;
  NumberStatus status = parse_number(text, &v);
  if (status == NumberStatus::kOk && v >= 0 && v <= static_cast<float>(max_label) &&
      v == std::floor(v)) {
    *out = v + 0.0f;  // -0 becomes +0
    return {};
  }
  if (classes <= 2) {
    return "invalid label " + quote_field(text) + " (expected 0 or 1)";
  }
  return "invalid label " + quote_field(text) + " (expected an integer from 0 to " +
         std::to_string(classes - 1) + ")";
}

std::string quote_field(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  out += text.size() > kMax ? "'..." : "'";
  return out;
}

}  // namespace deepcross
