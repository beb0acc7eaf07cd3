// The parsed, validated options of one deepcross subcommand, built from the parameter table
// (cli/option_table.h): command line, config file, defaults, checks, --help and the printout
// of the effective configuration.
//
//   // deepcross train --data train.tsv --cross=mix --mlp 256,128 --config more.cfg
//   std::vector<std::string> args(argv + 2, argv + argc);
//   if (wants_help(args)) { std::fputs(help_text("train").c_str(), stderr); return 0; }
//   Options options = parse_options("train", args);   // throws UsageError / DataError
//   options.get_string("cross");        // "mix"
//   options.get_int_list("mlp");        // {256, 128}
//   options.get_float("dropout");       // 0.25 (default)
//   options.is_set("dropout");          // false
//   std::fputs(options.describe().c_str(), stderr);
//   nlohmann::json stored = options.model_config_json();   // goes into the model file
//
// Rules. `--flag value` and `--flag=value`; flags of type kFlag are bare (`--no-label`, also
// `--no-label=true|false`); a value starting with '-', other than a number (`--seed -1`) or
// '-' alone (`--output -`), must be written `--flag=-value`. An empty value is a missing value.
// Train's --history and --curves default to MODEL.history.csv / MODEL.curves.svg beside
// --model (empty without --model); is_set() stays false for them. Errors are
// UsageError (exit 2) with the flag as WHERE: unknown flags (with "did you mean"), flags of
// another subcommand, repeated flags, missing values, bad values, positional arguments,
// missing required flags, inconsistent roles. `--config FILE` adds `key = value` lines
// (cli/config_file.h) for flags not on the command line; its errors name FILE:LINE; a config
// file that cannot be read is a DataError (exit 1) naming the path.
//
// Command-line tokens are split by CLI11 (each flag registered as an option taking 0 or 1
// values, unknown tokens kept as extras); messages, values and checks are deepcross's own.
// The config file has its own reader: CLI11's config parser keeps no line numbers (WHERE must
// be FILE:LINE) and gives `[sections]`, quotes and arrays TOML/INI meanings.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/help_text.h"  // help_text, overview_text, subcommands, wants_help
#include "cli/option_table.h"
#include "cli/option_value.h"

namespace deepcross {

class Options {
 public:
  // Where an option's value came from.
  enum class Source { kDefault, kConfigFile, kCommandLine, kJson };

  const std::string& subcommand() const { return subcommand_; }

  // Typed getters. Asking for a name the subcommand does not accept, or with the wrong type,
  // is a programming error (abort). Unset options without a default read as "", {} or false.
  int get_int(std::string_view name) const;
  double get_float(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;  // kString, kPath, kEnum
  std::vector<int> get_int_list(std::string_view name) const;
  std::vector<std::string> get_string_list(std::string_view name) const;
  bool get_flag(std::string_view name) const;

  // Given on the command line, in the config file, or present in the JSON: not defaulted.
  bool is_set(std::string_view name) const;
  // Whether this subcommand has the option at all.
  bool accepts(std::string_view name) const;
  Source source(std::string_view name) const;

  // The effective configuration: {"name": value} for every option of the subcommand except
  // --help and --config; null for unset options without a default. Ints and floats as JSON
  // numbers, lists as arrays, flags as booleans. options_from_json reads it back.
  nlohmann::json to_json() const;
  // The part of to_json() that the trained model stores (OptionSpec::in_model).
  nlohmann::json model_config_json() const;

  // Human-readable effective configuration, one option per line, marking those set (stderr).
  std::string describe() const;

 private:
  friend class OptionsBuilder;  // options.cc: parse_options and options_from_json
  struct Entry {
    const OptionSpec* spec = nullptr;
    OptionValue value;
    Source source = Source::kDefault;
  };
  Options(std::string subcommand, std::vector<Entry> entries)
      : subcommand_(std::move(subcommand)), entries_(std::move(entries)) {}
  const Entry& entry(std::string_view name, const char* getter) const;

  std::string subcommand_;
  std::vector<Entry> entries_;  // one per option the subcommand accepts, in table order
};

// Parses `args` (argv without the program name and the subcommand) for `subcommand`.
// Throws UsageError(WHAT, FLAG), or DataError(WHAT, PATH) for an unreadable --config file.
// With --help among the args, required flags are not demanded (callers normally check
// wants_help first and print help_text instead).
Options parse_options(std::string_view subcommand, const std::vector<std::string>& args);

// Reads to_json() or model_config_json() output back (e.g. from a model file); keys missing
// from `config` take their defaults. Throws DataError(WHAT, where) for an unknown key, a value
// of the wrong JSON type or one that fails its constraint.
Options options_from_json(std::string_view subcommand, const nlohmann::json& config,
                          const std::string& where);

}  // namespace deepcross
