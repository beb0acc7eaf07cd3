#include "cli/option_value.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "deepcross/suggest.h"

namespace deepcross {
namespace {

// Shortest text that reads back to the same double (std::to_chars without precision).
std::string format_double(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, result.ptr);
}

// "[0, 1)", "> 0", ">= 1", "<= 16"; "" when unbounded.
std::string bounds_text(const Bounds& b) {
  if (b.lo && b.hi) {
    return std::string(b.lo_open ? "(" : "[") + format_double(*b.lo) + ", " + format_double(*b.hi) +
           (b.hi_open ? ")" : "]");
  }
  if (b.lo) return std::string(b.lo_open ? "> " : ">= ") + format_double(*b.lo);
  if (b.hi) return std::string(b.hi_open ? "< " : "<= ") + format_double(*b.hi);
  return "";
}

// " in [0, 1)" or " >= 1" (with the space), "" when unbounded.
std::string bounds_suffix(const Bounds& b) {
  const std::string text = bounds_text(b);
  if (text.empty()) return "";
  return (b.lo && b.hi ? " in " : " ") + text;
}

bool within(const Bounds& b, double x) {
  if (b.lo && (b.lo_open ? !(x > *b.lo) : !(x >= *b.lo))) return false;
  if (b.hi && (b.hi_open ? !(x < *b.hi) : !(x <= *b.hi))) return false;
  return true;
}

// Parses a whole-text int32 in `bounds` into `out`; false (with `too_large` set when the text
// is an integer beyond the int32 range) otherwise.
bool parse_int(std::string_view text, const Bounds& bounds, int& out, bool& too_large) {
  long long x = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, x);
  if (text.empty() || ptr != end) return false;
  if (ec == std::errc::result_out_of_range || x < std::numeric_limits<int32_t>::min() ||
      x > std::numeric_limits<int32_t>::max()) {
    too_large = true;
    return false;
  }
  if (ec != std::errc() || !within(bounds, static_cast<double>(x))) return false;
  out = static_cast<int>(x);
  return true;
}

// Splits "a,b,c" at commas; an empty text gives one empty element.
std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
}

ParsedValue failure(const OptionSpec& spec, bool too_large = false) {
  std::string error = "expected " + expected_text(spec);
  if (too_large) error += " (at most " + std::to_string(std::numeric_limits<int32_t>::max()) + ")";
  return {{}, std::move(error)};
}

ParsedValue parse_float(const OptionSpec& spec, std::string_view text) {
  double x = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, x, std::chars_format::general);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(x) ||
      !within(spec.bounds, x)) {
    return failure(spec);
  }
  return {x + 0.0, ""};  // + 0.0 turns -0 into 0
}

ParsedValue parse_enum(const OptionSpec& spec, std::string_view text) {
  std::vector<std::string_view> names;
  for (const std::string& choice : spec.choices) {
    if (choice == text) return {std::string(text), ""};
    names.push_back(choice);
  }
  ParsedValue bad = failure(spec);
  const std::string suggestion = closest_name(text, names);
  if (!suggestion.empty()) bad.error += " (did you mean " + suggestion + "?)";
  return bad;
}

ParsedValue parse_string_list(const OptionSpec& spec, std::string_view text) {
  std::vector<std::string> items;
  for (std::string_view part : split_commas(text)) {
    if (part.empty()) return failure(spec);
    for (const std::string& seen : items) {
      if (seen == part) return {{}, "lists '" + seen + "' twice"};
    }
    items.emplace_back(part);
  }
  return {std::move(items), ""};
}

ParsedValue parse_int_list(const OptionSpec& spec, std::string_view text) {
  std::vector<int> items;
  for (std::string_view part : split_commas(text)) {
    int x = 0;
    bool too_large = false;
    if (!parse_int(part, spec.bounds, x, too_large)) return failure(spec, too_large);
    items.push_back(x);
  }
  return {std::move(items), ""};
}

}  // namespace

ParsedValue parse_option_value(const OptionSpec& spec, std::string_view text) {
  switch (spec.type) {
    case OptionType::kInt: {
      int x = 0;
      bool too_large = false;
      if (!parse_int(text, spec.bounds, x, too_large)) return failure(spec, too_large);
      return {x, ""};
    }
    case OptionType::kFloat:
      return parse_float(spec, text);
    case OptionType::kString:
    case OptionType::kPath:
      if (text.empty()) return failure(spec);
      return {std::string(text), ""};
    case OptionType::kEnum:
      return parse_enum(spec, text);
    case OptionType::kIntList:
      return parse_int_list(spec, text);
    case OptionType::kStringList:
      return parse_string_list(spec, text);
    case OptionType::kFlag:
      if (text == "true") return {true, ""};
      if (text == "false") return {false, ""};
      return failure(spec);
  }
  return failure(spec);
}

std::string format_option_value(const OptionValue& value) {
  struct Formatter {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(int x) const { return std::to_string(x); }
    std::string operator()(double x) const { return format_double(x); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::vector<int>& xs) const {
      std::string text;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        if (i) text += ',';
        text += std::to_string(xs[i]);
      }
      return text;
    }
    std::string operator()(const std::vector<std::string>& xs) const {
      std::string text;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        if (i) text += ',';
        text += xs[i];
      }
      return text;
    }
  };
  return std::visit(Formatter{}, value);
}

std::string expected_text(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kInt:
      return "an integer" + bounds_suffix(spec.bounds);
    case OptionType::kFloat:
      return "a number" + bounds_suffix(spec.bounds);
    case OptionType::kString:
      return "a non-empty value";
    case OptionType::kPath:
      return "a file path";
    case OptionType::kEnum: {
      std::string text = "one of ";
      for (std::size_t i = 0; i < spec.choices.size(); ++i) {
        text += (i ? ", " : "") + spec.choices[i];
      }
      return text;
    }
    case OptionType::kIntList:
      return "a comma-separated list of integers" + bounds_suffix(spec.bounds) + ", e.g. " +
             (spec.default_value.empty() ? std::string("128,64,32") : spec.default_value);
    case OptionType::kStringList:
      return "a comma-separated list of names, e.g. A,B";
    case OptionType::kFlag:
      return "true or false";
  }
  return "a value";
}

}  // namespace deepcross
