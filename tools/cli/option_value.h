// Values of the parameter table's types: parsing user text with checked std::from_chars,
// the canonical text of a value, and what a declaration expects, for error messages.
//
//   const OptionSpec& dropout = *find_option(Subcommand::kTrain, "dropout");
//   ParsedValue v = parse_option_value(dropout, "0.5");     // v.ok(), std::get<double>(v.value)
//   ParsedValue bad = parse_option_value(dropout, "1.5");   // bad.error ==
//                                                           //   "expected a number in [0, 1)"
//   format_option_value(v.value);                           // "0.5"
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/option_table.h"

namespace deepcross {

// One value per OptionType: int (kInt), double (kFloat), std::string (kString, kPath, kEnum),
// std::vector<int> (kIntList), std::vector<std::string> (kStringList), bool (kFlag);
// std::monostate = unset (an option without a default that nobody gave).
using OptionValue = std::variant<std::monostate, int, double, std::string, std::vector<int>,
                                 std::vector<std::string>, bool>;

struct ParsedValue {
  OptionValue value;
  std::string error;  // "" on success, else e.g. "expected an integer >= 1"
  bool ok() const { return error.empty(); }
};

// Parses `text` as a value of `spec` and checks its constraint. Numbers: the whole text must be
// a decimal number (std::from_chars; no spaces, signs other than '-', trailing junk, nan or
// inf); lists: comma-separated, no empty elements; flags: "true" or "false".
ParsedValue parse_option_value(const OptionSpec& spec, std::string_view text);

// The canonical text of a value, which parse_option_value reads back to the same value:
// shortest round-trip form for doubles, lists joined by ',', flags as true/false, "" if unset.
std::string format_option_value(const OptionValue& value);

// What a value of `spec` must be: "a number in [0, 1)", "an integer >= 1",
// "one of vector, matrix, mix, lowrank", "a comma-separated list of integers in [1, 65536]".
std::string expected_text(const OptionSpec& spec);

}  // namespace deepcross
