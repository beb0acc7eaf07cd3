// Tests of the parameter table itself (self-consistency, INTERFACE.md's flags and defaults,
// every flag parses), and of its pieces: values, suggestions, config-file lines.
#include "cli/option_table.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "cli/config_file.h"
#include "cli/option_value.h"
#include "cli/options.h"
#include "cli/options_test_util.h"
#include "deepcross/suggest.h"

namespace deepcross {
namespace {

using Args = std::vector<std::string>;
using cli_test::catch_error;
using cli_test::Caught;
using cli_test::TempDir;

// The default as --help shows it.
std::string shown(const OptionSpec& spec) {
  return spec.default_shown.empty() ? spec.default_value : spec.default_shown;
}

// ---------------------------------------------------------------- the table itself

TEST(OptionTable, EveryDeclarationIsConsistent) {
  const std::regex kebab("[a-z][a-z0-9]*(-[a-z0-9]+)*");
  for (const OptionSpec& spec : option_table()) {
    SCOPED_TRACE(spec.name);
    EXPECT_TRUE(std::regex_match(spec.name, kebab));
    EXPECT_FALSE(spec.help.empty());
    EXPECT_NE(spec.accepted_by, 0u);
    EXPECT_EQ(spec.accepted_by & ~kAllSubcommands, 0u);
    EXPECT_EQ(spec.required_by & ~spec.accepted_by, 0u);
    if (spec.required_by != 0) {
      EXPECT_TRUE(spec.default_value.empty());
    }
    if (spec.type == OptionType::kEnum) {
      EXPECT_GE(spec.choices.size(), 2u);
    } else {
      EXPECT_TRUE(spec.choices.empty());
    }
    if (spec.type != OptionType::kEnum && spec.type != OptionType::kFlag) {
      EXPECT_FALSE(spec.metavar.empty());
    }
    if (spec.type == OptionType::kFlag) {
      EXPECT_EQ(spec.default_value, "false");
    }
    if (!spec.default_value.empty()) {  // defaults satisfy their own constraints
      const ParsedValue v = parse_option_value(spec, spec.default_value);
      EXPECT_TRUE(v.ok()) << v.error;
      EXPECT_EQ(format_option_value(v.value), spec.default_value);
    }
    EXPECT_TRUE(!spec.in_model || (spec.accepted_by & kTrain) != 0);
    EXPECT_FALSE(spec.command_line_only && spec.in_model);
  }
}

TEST(OptionTable, NamesAreUniquePerSubcommand) {
  for (const SubcommandSpec& sub : subcommand_table()) {
    std::set<std::string> names;
    for (const OptionSpec* spec : options_of(sub.bit)) {
      EXPECT_TRUE(names.insert(spec->name).second) << sub.name << " --" << spec->name;
    }
    EXPECT_TRUE(names.count("help") && names.count("config")) << sub.name;
  }
  EXPECT_EQ(subcommands(), (Args{"train", "eval", "predict", "info", "explain", "serve", "export", "synth"}));
}

// INTERFACE.md's table of fixed flags (and the brief's additions), with their defaults as
// --help shows them; "" = no default.
TEST(OptionTable, HasEveryInterfaceFlagWithItsDefault) {
  const std::map<std::string, std::vector<std::pair<std::string, std::string>>> fixed = {
      {"train",
       {{"data", ""},
        {"valid", "a seeded 16% split of --data"},
        {"test", "a seeded 20% split of --data"},
        {"model", "not saved"},
        {"format", "criteo"},
        {"label", ""},
        {"numeric", ""},
        {"categorical", ""},
        {"ignore", ""},
        {"cross", "matrix"},
        {"structure", "stacked"},
        {"cross-layers", "2"},
        {"low-rank", "32"},
        {"experts", "4"},
        {"embed-max", "8"},
        {"mlp", "128,64,32"},
        {"dropout", "0.25"},
        {"classes", "1"},
        {"batch-size", "2048"},
        {"lr", "0.002"},
        {"weight-decay", "0.001"},
        {"epochs", "100"},
        {"patience", "5"},
        {"monitor", "val_auc"},
        {"min-count", std::to_string(kDefaultMinCount)},
        {"bad-lines", "error"},
        {"threads", "available CPUs"},
        {"seed", "42"},
        {"history", "MODEL.history.csv"},
        {"curves", "MODEL.curves.svg"},
        {"report", "none"},
        {"config", ""},
        {"optimizer-mode", "lazy"},
        {"oov-init", "zero"},
        {"quantiles", "1000"},
        {"quantile-sample", "100000"},
        {"eval-batch-size", "256"}}},
      {"eval", {{"model", ""}, {"data", ""}, {"threads", "available CPUs"}}},
      {"predict", {{"model", ""}, {"data", ""}, {"output", "stdout"}, {"threads", "available CPUs"}}},
      {"info", {{"model", ""}}},
      {"explain", {{"model", ""}, {"top", "20"}, {"json", "stdout"}, {"svg", "MODEL.explain.svg"}, {"data", ""}}},
      {"serve",
       {{"model", ""},
        {"host", "127.0.0.1"},
        {"port", "8080"},
        {"threads", "available CPUs"},
        {"max-rows", "10000"},
        {"max-body-bytes", "16 MiB"},
        {"name", "the model file's stem"}}},
      {"export", {{"model", ""}, {"output", ""}}},
      {"synth",
       {{"rows", "500000"},
        {"output", ""},
        {"seed", "42"},
        {"cardinality-scale", "1"},
        {"no-label", "false"}}},
  };
  for (const auto& [sub, flags] : fixed) {
    for (const auto& [name, default_text] : flags) {
      const OptionSpec* spec = find_option(require_subcommand(sub).bit, name);
      ASSERT_NE(spec, nullptr) << sub << " --" << name;
      EXPECT_EQ(shown(*spec), default_text) << sub << " --" << name;
    }
  }
  const Subcommand train = kTrain;
  EXPECT_EQ(find_option(train, "cross")->choices, (Args{"vector", "matrix", "mix", "lowrank"}));
  EXPECT_EQ(find_option(train, "structure")->choices, (Args{"stacked", "parallel"}));
  EXPECT_EQ(find_option(train, "monitor")->choices, (Args{"val_auc", "val_logloss"}));
  EXPECT_EQ(find_option(train, "bad-lines")->choices, (Args{"error", "skip"}));
  EXPECT_EQ(find_option(train, "format")->choices, (Args{"criteo", "csv", "tsv"}));
  EXPECT_EQ(find_option(kServe, "max-body-bytes")->default_value, "16777216");
  EXPECT_EQ(find_option(kServe, "threads")->default_value, "0");
  // Required: --data for train, eval, predict; --model for the subcommands that read one.
  EXPECT_EQ(find_option(train, "data")->required_by, static_cast<SubcommandSet>(kTrain));
  EXPECT_EQ(find_option(train, "model")->required_by, 0u);
  for (Subcommand s : {kEval, kPredict, kInfo, kExplain, kServe}) {
    EXPECT_NE(find_option(s, "model")->required_by & s, 0u);
  }
  EXPECT_NE(find_option(kSynth, "output")->required_by, 0u);
}

// A valid sample text for a declaration, other than its default where it has one.
std::string sample_value(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kInt:
      return spec.bounds.lo ? std::to_string(int(*spec.bounds.lo) + 1) : "3";
    case OptionType::kFloat:
      return spec.bounds.hi ? "0.5" : "2.5";
    case OptionType::kEnum:
      return spec.choices.back();
    case OptionType::kIntList:
      return "7,5";
    case OptionType::kStringList:
      return "A,B";
    case OptionType::kFlag:
      return "true";
    default:
      return "some/file-" + spec.name;
  }
}

// Every flag of every subcommand parses in both spellings and reads back through its getter.
TEST(OptionTable, EveryFlagParses) {
  TempDir dir;
  const std::string config = dir.write("empty.cfg", "# nothing\n");
  for (const SubcommandSpec& sub : subcommand_table()) {
    for (const OptionSpec* spec : options_of(sub.bit)) {
      if (spec->name == "help") continue;
      SCOPED_TRACE(std::string(sub.name) + " --" + spec->name);
      const std::string text = spec->name == "config" ? config : sample_value(*spec);
      Args base;
      for (const OptionSpec* required : options_of(sub.bit)) {
        if ((required->required_by & sub.bit) && required != spec) {
          base.insert(base.end(), {"--" + required->name, "x"});
        }
      }
      const std::set<std::string> roles = {"label", "numeric", "categorical", "ignore"};
      if (roles.count(spec->name)) base.insert(base.end(), {"--format", "csv"});
      if ((roles.count(spec->name) && spec->name != "label") || spec->name == "format") {
        base.insert(base.end(), {"--label", "y"});
      }
      Args spaced = base, joined = base;
      if (spec->type == OptionType::kFlag) {
        spaced.push_back("--" + spec->name);
      } else {
        spaced.insert(spaced.end(), {"--" + spec->name, text});
      }
      joined.push_back("--" + spec->name + "=" + text);
      for (const Args& args : {spaced, joined}) {
        const Options o = parse_options(sub.name, args);
        EXPECT_TRUE(o.is_set(spec->name));
        EXPECT_EQ(o.source(spec->name), Options::Source::kCommandLine);
        std::string got;
        switch (spec->type) {
          case OptionType::kInt:
            got = std::to_string(o.get_int(spec->name));
            break;
          case OptionType::kFloat:
            got = format_option_value(o.get_float(spec->name));
            break;
          case OptionType::kIntList:
            got = format_option_value(o.get_int_list(spec->name));
            break;
          case OptionType::kStringList:
            got = format_option_value(o.get_string_list(spec->name));
            break;
          case OptionType::kFlag:
            got = o.get_flag(spec->name) ? "true" : "false";
            break;
          default:
            got = o.get_string(spec->name);
        }
        EXPECT_EQ(got, text);
      }
    }
  }
}

TEST(ConfigFile, ParsesLinesWithoutTheTable) {
  const std::vector<ConfigEntry> entries =
      parse_config_text("a = 1\n#x\n\nb=two words # not a comment\r\nc =\n", "mem");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "a");
  EXPECT_EQ(entries[0].value, "1");
  EXPECT_EQ(entries[0].line, 1);
  EXPECT_EQ(entries[1].value, "two words # not a comment");
  EXPECT_EQ(entries[1].line, 4);
  EXPECT_EQ(entries[2].value, "");
  EXPECT_TRUE(parse_config_text("", "mem").empty());
}

// ---------------------------------------------------------------- pieces

TEST(Suggest, EditDistanceAndClosestName) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("lrr", "lr"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  const std::vector<std::string_view> names = {"lr", "epochs", "dropout", "seed"};
  EXPECT_EQ(closest_name("lrr", names), "lr");
  EXPECT_EQ(closest_name("dropuot", names), "dropout");  // distance 2, long name
  EXPECT_EQ(closest_name("epoch", names), "epochs");
  EXPECT_EQ(closest_name("xy", names), "");  // distance 2 for a short name: too far
  EXPECT_EQ(closest_name("zzz", names), "");
  EXPECT_EQ(closest_name("x", {"y"}), "");  // replacing every character is no suggestion
}

TEST(OptionValue, FormatsCanonically) {
  EXPECT_EQ(format_option_value(0.002), "0.002");
  EXPECT_EQ(format_option_value(1e-7), "1e-07");
  EXPECT_EQ(format_option_value(1.0), "1");
  EXPECT_EQ(format_option_value(std::vector<int>{128, 64}), "128,64");
  EXPECT_EQ(format_option_value(Args{"A", "B"}), "A,B");
  EXPECT_EQ(format_option_value(true), "true");
  EXPECT_EQ(format_option_value(std::monostate{}), "");
  const OptionSpec& lr = *find_option(kTrain, "lr");
  const ParsedValue v = parse_option_value(lr, "0.1");
  EXPECT_EQ(parse_option_value(lr, format_option_value(v.value)).value, v.value);
}

}  // namespace
}  // namespace deepcross
