// Tests of parsing and everything built on the parameter table: exact error messages,
// config files, help text, the effective configuration and its JSON round trip.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <cmath>

#include "cli/options_test_util.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

using Args = std::vector<std::string>;
using cli_test::catch_error;
using cli_test::Caught;
using cli_test::TempDir;

Caught parse_error(std::string_view sub, const Args& args) {
  return catch_error([&] { parse_options(sub, args); });
}

// ---------------------------------------------------------------- parsing

TEST(ParseOptions, ValuesDefaultsAndSources) {
  const Options o =
      parse_options("train", {"--data", "train.tsv", "--cross=mix", "--mlp", "256,128", "--lr",
                              "1e-3", "--dropout", ".5", "--seed", "7", "--model", "out/m.dcn"});
  EXPECT_EQ(o.subcommand(), "train");
  EXPECT_EQ(o.get_string("data"), "train.tsv");
  EXPECT_EQ(o.get_string("cross"), "mix");
  EXPECT_EQ(o.get_int_list("mlp"), (std::vector<int>{256, 128}));
  EXPECT_EQ(o.get_float("lr"), 0.001);
  EXPECT_EQ(o.get_float("dropout"), 0.5);
  EXPECT_EQ(o.get_int("seed"), 7);
  EXPECT_EQ(o.get_int("cross-layers"), 2);  // defaults
  EXPECT_EQ(o.get_float("weight-decay"), 0.001);
  EXPECT_EQ(o.get_int("min-count"), kDefaultMinCount);
  EXPECT_EQ(o.get_int("threads"), 0);
  EXPECT_FALSE(o.is_set("cross-layers"));
  EXPECT_EQ(o.source("cross-layers"), Options::Source::kDefault);
  EXPECT_TRUE(o.is_set("cross"));
  EXPECT_EQ(o.get_string("valid"), "");  // unset, no default
  EXPECT_EQ(o.get_string_list("numeric"), Args{});
  EXPECT_FALSE(o.get_flag("help"));
  // --history and --curves default to files beside --model.
  EXPECT_EQ(o.get_string("history"), "out/m.dcn.history.csv");
  EXPECT_EQ(o.get_string("curves"), "out/m.dcn.curves.svg");
  EXPECT_FALSE(o.is_set("history"));
  const Options p = parse_options("train", {"--data", "d", "--model", "m", "--history", "h.csv"});
  EXPECT_EQ(p.get_string("history"), "h.csv");
  EXPECT_EQ(p.get_string("curves"), "m.curves.svg");
  EXPECT_EQ(parse_options("train", {"--data", "d"}).get_string("history"), "");
}

TEST(ParseOptions, FlagsNegativeNumbersAndDashedValues) {
  EXPECT_TRUE(parse_options("synth", {"--output", "o", "--no-label"}).get_flag("no-label"));
  EXPECT_FALSE(parse_options("synth", {"--output", "o", "--no-label=false"}).get_flag("no-label"));
  EXPECT_FALSE(parse_options("synth", {"--output", "o"}).get_flag("no-label"));
  EXPECT_EQ(parse_options("synth", {"--output=--odd", "--rows", "5"}).get_string("output"),
            "--odd");
  EXPECT_EQ(parse_options("predict", {"--model", "m", "--data", "-"}).get_string("data"), "-");
  EXPECT_EQ(
      parse_options("train", {"--data", "d", "--weight-decay", "-0"}).get_float("weight-decay"),
      0.0);
  EXPECT_FALSE(std::signbit(
      parse_options("train", {"--data", "d", "--weight-decay", "-0"}).get_float("weight-decay")));
  EXPECT_EQ(parse_options("serve", {"--model", "m", "--port", "0"}).get_int("port"), 0);
  EXPECT_TRUE(parse_options("train", {"--help"}).get_flag("help"));  // required not demanded
  EXPECT_TRUE(parse_options("eval", {"-h"}).get_flag("help"));
  EXPECT_TRUE(wants_help({"--data", "x", "-h"}));
  EXPECT_TRUE(wants_help({"--help"}));
  EXPECT_FALSE(wants_help({"--data", "help", "--helpful"}));
}

struct ErrorCase {
  std::string sub;
  Args args;
  std::string what, where;
};

TEST(ParseOptions, UsageErrorsHaveExactMessages) {
  const std::vector<ErrorCase> cases = {
      {"train", {"--data", "d", "--lrr", "1"}, "unknown flag --lrr (did you mean --lr?)", "--lrr"},
      {"train", {"--data", "d", "--lrr=1"}, "unknown flag --lrr (did you mean --lr?)", "--lrr"},
      {"train",
       {"--data", "d", "--epoch", "3"},
       "unknown flag --epoch (did you mean --epochs?)",
       "--epoch"},
      {"train", {"--data", "d", "-lr", "1"}, "unknown flag -lr (did you mean --lr?)", "-lr"},
      {"train", {"--data", "d", "--zzz"}, "unknown flag --zzz", "--zzz"},
      {"train",
       {"--data", "d", "--port", "1"},
       "flag --port does not apply to train (only to serve)",
       "--port"},
      {"info",
       {"--model", "m", "--data=x"},
       "flag --data does not apply to info (only to train, eval, predict, explain)",
       "--data"},
      {"train",
       {"--data", "d", "--dropout", "1.5"},
       "--dropout 1.5: expected a number in [0, 1)",
       "--dropout"},
      {"train",
       {"--data", "d", "--dropout", "1"},
       "--dropout 1: expected a number in [0, 1)",
       "--dropout"},
      {"train", {"--data", "d", "--lr", "0"}, "--lr 0: expected a number > 0", "--lr"},
      {"train", {"--data", "d", "--lr", "nan"}, "--lr nan: expected a number > 0", "--lr"},
      {"train", {"--data", "d", "--lr", "inf"}, "--lr inf: expected a number > 0", "--lr"},
      {"train", {"--data", "d", "--lr", "1e999"}, "--lr 1e999: expected a number > 0", "--lr"},
      {"train", {"--data", "d", "--lr", "0.1x"}, "--lr 0.1x: expected a number > 0", "--lr"},
      {"train", {"--data", "d", "--lr", " 0.1"}, "--lr  0.1: expected a number > 0", "--lr"},
      {"train",
       {"--data", "d", "--epochs", "3.0"},
       "--epochs 3.0: expected an integer >= 1",
       "--epochs"},
      {"train",
       {"--data", "d", "--epochs", "+3"},
       "--epochs +3: expected an integer >= 1",
       "--epochs"},
      {"train",
       {"--data", "d", "--epochs", "99999999999"},
       "--epochs 99999999999: expected an integer >= 1 (at most 2147483647)",
       "--epochs"},
      {"train",
       {"--data", "d", "--cross-layers", "65"},
       "--cross-layers 65: expected an integer in [0, 64]",
       "--cross-layers"},
      {"train", {"--data", "d", "--seed", "-1"}, "--seed -1: expected an integer >= 0", "--seed"},
      {"train",
       {"--data", "d", "--mlp", "128,,32"},
       "--mlp 128,,32: expected a comma-separated list of integers in [1, 65536], e.g. 128,64,32",
       "--mlp"},
      {"train",
       {"--data", "d", "--mlp", "128,0"},
       "--mlp 128,0: expected a comma-separated list of integers in [1, 65536], e.g. 128,64,32",
       "--mlp"},
      {"train",
       {"--data", "d", "--format", "csv", "--label", "y", "--numeric", "A,"},
       "--numeric A,: expected a comma-separated list of names, e.g. A,B",
       "--numeric"},
      {"train",
       {"--data", "d", "--format", "csv", "--label", "y", "--numeric", "A,B,A"},
       "--numeric A,B,A: lists 'A' twice",
       "--numeric"},
      {"train",
       {"--data", "d", "--cross", "matirx"},
       "--cross matirx: expected one of vector, matrix, mix, lowrank (did you mean matrix?)",
       "--cross"},
      {"train",
       {"--data", "d", "--cross", "zzz"},
       "--cross zzz: expected one of vector, matrix, mix, lowrank",
       "--cross"},
      {"synth",
       {"--output", "o", "--no-label=yes"},
       "--no-label=yes: expected true or false",
       "--no-label"},
      {"train", {"--data", "d", "--lr", "1", "--lr=2"}, "--lr given more than once", "--lr"},
      {"synth",
       {"--output", "o", "--no-label", "--no-label"},
       "--no-label given more than once",
       "--no-label"},
      {"train", {"--data", "d", "--lr"}, "--lr: missing value (expected a number > 0)", "--lr"},
      {"train",
       {"--data", "d", "--lr", "--epochs", "3"},
       "--lr: missing value (expected a number > 0)",
       "--lr"},
      {"train",
       {"--data", "d", "--lr=", "3"},
       "--lr: missing value (expected a number > 0)",
       "--lr"},
      {"train",
       {"--data", "d", "--label", ""},
       "--label: missing value (expected a non-empty value)",
       "--label"},
      {"train",
       {"--data", "d", "extra"},
       "unexpected argument 'extra' (flags and their values: --name VALUE)",
       "extra"},
      {"synth",
       {"--output", "o", "--no-label", "5"},
       "unexpected argument '5' (flags and their values: --name VALUE)",
       "5"},
      {"train", {"--data", "d", "--", "x"}, "unexpected argument '--'", "--"},
      {"train", {"--lr", "0.1"}, "missing required flag --data", "--data"},
      {"eval", {"--data", "d"}, "missing required flag --model", "--model"},
      {"synth", {}, "missing required flag --output", "--output"},
      {"trian", {}, "unknown subcommand 'trian' (did you mean train?)", "trian"},
      {"bogus", {}, "unknown subcommand 'bogus'", "bogus"},
      {"train",
       {"--data", "d", "--numeric", "A"},
       "--numeric applies only to --format csv or tsv",
       "--numeric"},
      {"train", {"--data", "d", "--format", "tsv"}, "--format tsv needs --label NAME", "--label"},
      {"train",
       {"--data", "d", "--format", "csv", "--label", "y", "--numeric", "a,b", "--categorical",
        "c,b"},
       "column 'b' has two roles: --numeric and --categorical",
       "--categorical"},
      {"train",
       {"--data", "d", "--format", "csv", "--label", "a", "--ignore", "a"},
       "column 'a' has two roles: --label and --ignore",
       "--ignore"},
  };
  for (const ErrorCase& c : cases) {
    std::string joined;
    for (const std::string& a : c.args) joined += " " + a;
    SCOPED_TRACE(c.sub + joined);
    const Caught e = parse_error(c.sub, c.args);
    EXPECT_EQ(e.what, c.what);
    EXPECT_EQ(e.where, c.where);
    EXPECT_EQ(e.exit_code, 2);
  }
}

// ---------------------------------------------------------------- config files

TEST(ConfigFile, SuppliesFlagsAndTheCommandLineWins) {
  TempDir dir;
  const std::string cfg =
      dir.write("run.cfg",
                "\xEF\xBB\xBF# a comment\n\n  data = train.tsv  \r\ncross=mix\nmlp = 64,32\n"
                "   # indented comment\nlr = 0.01\nformat = csv\nlabel = click here\n");
  const Options o = parse_options("train", {"--config", cfg, "--lr", "0.5"});
  EXPECT_EQ(o.get_string("data"), "train.tsv");  // required flag from the file
  EXPECT_EQ(o.get_string("cross"), "mix");
  EXPECT_EQ(o.get_int_list("mlp"), (std::vector<int>{64, 32}));
  EXPECT_EQ(o.get_string("label"), "click here");  // inner spaces kept
  EXPECT_EQ(o.get_float("lr"), 0.5);               // command line wins
  EXPECT_EQ(o.source("lr"), Options::Source::kCommandLine);
  EXPECT_EQ(o.source("cross"), Options::Source::kConfigFile);
  EXPECT_TRUE(o.is_set("cross"));
  EXPECT_EQ(o.get_string("config"), cfg);
  const std::string flag = dir.write("synth.cfg", "no-label = true\noutput = rows.tsv\n");
  EXPECT_TRUE(parse_options("synth", {"--config=" + flag}).get_flag("no-label"));
}

TEST(ConfigFile, ErrorsNameTheFileAndLine) {
  TempDir dir;
  struct Case {
    std::string sub, content, what;
    int line;
  };
  const std::vector<Case> cases = {
      {"train", "data = d\nlrr = 0.1\n", "unknown key 'lrr' (did you mean 'lr'?)", 2},
      {"train", "data = d\n--lr = 0.1\n", "unknown key '--lr' (did you mean 'lr'?)", 2},
      {"train", "zzz = 1\n", "unknown key 'zzz'", 1},
      {"eval", "lr = 0.1\n", "key 'lr' does not apply to eval (only to train)", 1},
      {"train", "data = d\nconfig = other.cfg\n", "'config' cannot be set in a config file", 2},
      {"train", "help = true\n", "'help' cannot be set in a config file", 1},
      {"train", "data = d\n# c\ndropout = 1.5\n", "dropout = 1.5: expected a number in [0, 1)", 3},
      {"train", "data = d\nlr =\n", "lr: missing value (expected a number > 0)", 2},
      {"train", "data = d\nlr = 0.1\nlr = 0.2\n", "'lr' given more than once (first at line 2)", 3},
      {"train", "data = d\njust words\n", "expected 'key = value', found 'just words'", 2},
      {"train", "= 3\n", "expected 'key = value', found no key before '='", 1},
      {"synth", "output = o\nno-label = yes\n", "no-label = yes: expected true or false", 2},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.content);
    const std::string path = dir.write(std::to_string(i) + ".cfg", c.content);
    const Caught e = parse_error(c.sub, {"--config", path});
    EXPECT_EQ(e.what, c.what);
    EXPECT_EQ(e.where, path + ":" + std::to_string(c.line));
    EXPECT_EQ(e.exit_code, 2);
  }
  const std::string missing = dir.path() + "/absent.cfg";
  Caught e = parse_error("train", {"--data", "d", "--config", missing});
  EXPECT_EQ(e.what, "cannot open config file: No such file or directory");
  EXPECT_EQ(e.where, missing);
  EXPECT_EQ(e.exit_code, 1);
  e = parse_error("train", {"--data", "d", "--config", dir.path()});
  EXPECT_EQ(e.what, "cannot open config file: it is a directory");
  EXPECT_EQ(e.exit_code, 1);
}

// ---------------------------------------------------------------- help and describe

TEST(HelpText, ListsEveryFlagWithDefaults) {
  for (const SubcommandSpec& sub : subcommand_table()) {
    SCOPED_TRACE(sub.name);
    const std::string help = help_text(sub.name);
    EXPECT_EQ(help.rfind("usage: deepcross " + std::string(sub.name), 0), 0u);
    for (const OptionSpec* spec : options_of(sub.bit)) {
      EXPECT_NE(help.find("--" + spec->name), std::string::npos) << spec->name;
    }
    std::size_t start = 0;
    while (start < help.size()) {
      const std::size_t end = help.find('\n', start);
      EXPECT_LE(end - start, 100u) << help.substr(start, end - start);
      start = end + 1;
    }
  }
  const std::string train = help_text("train");
  EXPECT_EQ(train.rfind("usage: deepcross train --data F [flags]\n", 0), 0u);
  EXPECT_NE(train.find("--dropout P               dropout probability after each MLP layer "
                       "(default: 0.25)"),
            std::string::npos);
  EXPECT_NE(train.find("--cross vector|matrix|mix|lowrank\n"), std::string::npos);
  EXPECT_NE(train.find("(default: matrix)"), std::string::npos);
  EXPECT_NE(train.find("(default: available CPUs)"), std::string::npos);
  EXPECT_NE(train.find("(required)"), std::string::npos);
  EXPECT_NE(train.find("-h, --help"), std::string::npos);
  EXPECT_EQ(train.find("--port"), std::string::npos);  // serve's flag
  const std::string serve = help_text("serve");
  EXPECT_EQ(serve.rfind("usage: deepcross serve --model M [flags]\n", 0), 0u);
  EXPECT_NE(serve.find("(default: 16 MiB)"), std::string::npos);
  EXPECT_NE(serve.find("(default: 127.0.0.1)"), std::string::npos);
  const Caught e = catch_error([] { help_text("trian"); });
  EXPECT_EQ(e.what, "unknown subcommand 'trian' (did you mean train?)");
  const std::string overview = overview_text();
  for (const std::string& name : subcommands()) {
    EXPECT_NE(overview.find("\n  " + name + " "), std::string::npos) << name;
  }
}

TEST(Describe, ShowsTheEffectiveConfiguration) {
  const std::string text =
      parse_options("train", {"--data", "d.tsv", "--cross", "mix", "--model", "m"}).describe();
  EXPECT_EQ(text.rfind("train configuration", 0), 0u);
  EXPECT_NE(text.find("\n  * cross            mix\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n    dropout          0.25\n"), std::string::npos);
  EXPECT_NE(text.find("\n    threads          0 (available CPUs)\n"), std::string::npos);
  EXPECT_NE(text.find("\n    history          m.history.csv\n"), std::string::npos);
  EXPECT_NE(text.find("\n    valid            a seeded 16% split of --data\n"), std::string::npos);
  EXPECT_NE(text.find("\n    label            -\n"), std::string::npos);
  EXPECT_EQ(text.find("help"), std::string::npos);
}

// ---------------------------------------------------------------- JSON

TEST(Json, RoundTripsTheEffectiveConfiguration) {
  const Options o = parse_options(
      "train",
      {"--data",        "d.csv", "--format",  "csv",     "--label", "y",  "--numeric", "a,b",
       "--categorical", "c",     "--cross",   "lowrank", "--mlp",   "64", "--lr",      "0.0003",
       "--dropout",     "0.1",   "--threads", "2",       "--model", "m"});
  const nlohmann::json j = o.to_json();
  EXPECT_EQ(j["lr"], 0.0003);
  EXPECT_EQ(j["mlp"], nlohmann::json::array({64}));
  EXPECT_EQ(j["numeric"], nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(j["epochs"], 100);
  EXPECT_TRUE(j["ignore"].is_null());
  EXPECT_FALSE(j.contains("help"));
  EXPECT_FALSE(j.contains("config"));
  const Options back = options_from_json("train", nlohmann::json::parse(j.dump()), "model.dcn");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.get_float("lr"), o.get_float("lr"));
  EXPECT_EQ(back.get_string_list("numeric"), o.get_string_list("numeric"));
  EXPECT_EQ(back.source("lr"), Options::Source::kJson);
  EXPECT_FALSE(back.is_set("ignore"));  // null = unset

  const nlohmann::json model = o.model_config_json();
  EXPECT_TRUE(model.contains("cross") && model.contains("mlp") && model.contains("min-count"));
  EXPECT_FALSE(model.contains("data") || model.contains("threads") || model.contains("model"));
  for (const auto& [key, value] : model.items()) {
    EXPECT_TRUE(find_option(kTrain, key)->in_model) << key;
  }
  const Options stored = options_from_json("train", model, "model.dcn");
  EXPECT_EQ(stored.model_config_json(), model);
  EXPECT_EQ(stored.get_int("threads"), 0);  // absent keys take their defaults
  EXPECT_FALSE(stored.is_set("threads"));
  EXPECT_EQ(options_from_json("synth", {{"no-label", true}, {"cardinality-scale", 0.5}}, "j")
                .to_json()["no-label"],
            true);
}

TEST(Json, RejectsBadConfigurations) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {nlohmann::json::array(), "configuration is not a JSON object"},
      {{{"lrr", 0.1}}, "unknown configuration key 'lrr' for train"},
      {{{"help", true}}, "unknown configuration key 'help' for train"},
      {{{"epochs", "3"}}, "configuration epochs = \"3\": expected an integer >= 1"},
      {{{"epochs", 2.5}}, "configuration epochs = 2.5: expected an integer >= 1"},
      {{{"dropout", 1.5}}, "configuration dropout = 1.5: expected a number in [0, 1)"},
      {{{"mlp", nlohmann::json::array()}},
       "configuration mlp = []: expected a comma-separated list of integers in [1, 65536], "
       "e.g. 128,64,32"},
      {{{"format", "csv"}, {"label", "y"}, {"numeric", {"a,b"}}},
       "configuration numeric = [\"a,b\"]: expected a comma-separated list of names, e.g. A,B"},
      {{{"format", "csv"}}, "configuration: --format csv needs --label NAME"},
  };
  for (const auto& [config, what] : cases) {
    SCOPED_TRACE(config.dump());
    const Caught e = catch_error([&] { options_from_json("train", config, "m.dcn@120"); });
    EXPECT_EQ(e.what, what);
    EXPECT_EQ(e.where, "m.dcn@120");
    EXPECT_EQ(e.exit_code, 1);
  }
}

TEST(OptionsDeathTest, MisusedGettersAbort) {
  const Options o = parse_options("info", {"--model", "m"});
  EXPECT_DEATH(o.get_int("epochs"), "internal error: Options::get_int\\(\"epochs\"\\)");
  EXPECT_DEATH(o.get_int("model"), "wrong type");
}

}  // namespace
}  // namespace deepcross
