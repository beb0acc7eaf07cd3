// The one parameter table behind every deepcross flag (STYLE.md lesson 2).
//
// Each OptionSpec declares a parameter once: its kebab-case name, type, default, constraint,
// help text, the subcommands that accept it, whether a subcommand requires it, and whether the
// trained model stores it. Parsing, config files, --help, validation and the printout of the
// effective configuration (cli/options.h) all follow from this table; a test checks it.
// A name may be declared more than once with disjoint subcommand sets where its meaning
// differs (`--model` is written by train and read by eval; `--output` of predict and synth).
//
//   const OptionSpec* spec = find_option(Subcommand::kTrain, "dropout");
//   spec->default_value;   // "0.25"
//   spec->bounds;          // [0, 1)
//   spec->in_model;        // true: the model file keeps it
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

// Categories seen fewer times than this in the training rows map to the out-of-vocabulary id.
// Provisional: to be chosen by measurement.
inline constexpr int kDefaultMinCount = 2;

enum class OptionType {
  kInt,         // 32-bit integer, checked against `bounds`
  kFloat,       // finite double, checked against `bounds`
  kString,      // non-empty text
  kPath,        // non-empty file path (existence is checked by whoever opens it)
  kEnum,        // one of `choices`
  kIntList,     // "128,64,32": at least one integer, each checked against `bounds`
  kStringList,  // "A,B": at least one non-empty name, no repeats
  kFlag,        // bare `--flag` on the command line; true|false in a config file or JSON
};

// The subcommands, as bits so that an option can name every subcommand that accepts it.
enum Subcommand : uint32_t {
  kTrain = 1u << 0,
  kEval = 1u << 1,
  kPredict = 1u << 2,
  kInfo = 1u << 3,
  kExplain = 1u << 4,
  kServe = 1u << 5,
  kSynth = 1u << 6,
  kExport = 1u << 7,
};
using SubcommandSet = uint32_t;
inline constexpr SubcommandSet kAllSubcommands = (1u << 8) - 1;

struct SubcommandSpec {
  std::string_view name;
  Subcommand bit;
  std::string_view summary;  // one line for the overview and the top of --help
};

// Headings that order --help.
enum class OptionGroup { kInput, kModel, kTraining, kOutput, kServing, kGenerator, kGeneral };

// A numeric range; an absent end is unbounded (an int is always within the int32 range).
struct Bounds {
  std::optional<double> lo;
  std::optional<double> hi;
  bool lo_open = false;  // lo < x rather than lo <= x
  bool hi_open = false;  // x < hi rather than x <= hi
};

struct OptionSpec {
  std::string name;  // kebab-case, without the leading dashes
  OptionType type = OptionType::kString;
  std::string metavar;  // "N", "X", "F" in --help; enums show their choices instead
  // The default as text, parsed like a user's value; "" = no default (unset until given).
  std::string default_value;
  // What --help shows for the default when it is not default_value ("available CPUs", "stdout").
  std::string default_shown;
  Bounds bounds;                     // kInt, kFloat, and each element of a kIntList
  std::vector<std::string> choices;  // kEnum
  std::string help;
  SubcommandSet accepted_by = 0;
  SubcommandSet required_by = 0;   // subset of accepted_by
  bool in_model = false;           // train stores it in the model file (the model configuration)
  bool command_line_only = false;  // --help, --config: not in config files nor the JSON
  OptionGroup group = OptionGroup::kGeneral;
};

// Every declaration, in --help order.
const std::vector<OptionSpec>& option_table();
// The subcommands, in the order the overview lists them.
const std::vector<SubcommandSpec>& subcommand_table();

// The subcommand called `name`, or nullptr.
const SubcommandSpec* find_subcommand(std::string_view name);
// The subcommand called `name`; throws UsageError("unknown subcommand 'trian' (did you mean
// train?)", name) when there is none.
const SubcommandSpec& require_subcommand(std::string_view name);
// The declarations `subcommand` accepts, in table order.
std::vector<const OptionSpec*> options_of(Subcommand subcommand);
// The declaration of `name` that `subcommand` accepts, or nullptr.
const OptionSpec* find_option(Subcommand subcommand, std::string_view name);
// The names of the subcommands, other than `subcommand`, that accept a flag called `name`.
std::vector<std::string_view> other_subcommands_accepting(Subcommand subcommand,
                                                          std::string_view name);

// The heading of a group in --help ("model", "training", ...).
std::string_view group_heading(OptionGroup group);

}  // namespace deepcross
