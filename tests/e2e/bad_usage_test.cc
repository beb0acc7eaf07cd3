// The bad-usage table: each row is a command line, the exit code (2 for usage, 1 for a file
// named by a flag that cannot be read) and what the one-line error must say, WHERE included
// (the flag). None of these reads data, so no data file is needed. Plus --help and no arguments.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

struct UsageCase {
  std::string name;
  std::vector<std::string> args;
  int exit_code;
  std::vector<std::string> expect;  // substrings of the error line
  std::string config = {};          // written to "bad.cfg" when not empty
};

std::vector<UsageCase> usage_cases() {
  return {
      {"UnknownFlagSuggestsTheNearest",
       {"train", "--data", "x.tsv", "--lrr", "0.1"},
       2,
       {"unknown flag --lrr", "did you mean --lr", "(--lrr)"}},
      {"UnknownFlagWithEquals", {"train", "--data", "x.tsv", "--lrr=0.1"}, 2, {"--lrr"}},
      {"DropoutOutOfRange",
       {"train", "--data", "x.tsv", "--dropout", "1.5"},
       2,
       {"--dropout 1.5", "(--dropout)"}},
      {"CrossMisspelt",
       {"train", "--data", "x.tsv", "--cross", "matirx"},
       2,
       {"--cross matirx", "matrix", "(--cross)"}},
      {"ZeroEpochs",
       {"train", "--data", "x.tsv", "--epochs", "0"},
       2,
       {"--epochs 0", "(--epochs)"}},
      {"EpochsNotANumber",
       {"train", "--data", "x.tsv", "--epochs", "abc"},
       2,
       {"--epochs abc", "(--epochs)"}},
      {"EpochsMissingValue",
       {"train", "--data", "x.tsv", "--epochs"},
       2,
       {"missing value", "(--epochs)"}},
      {"NegativeThreads", {"train", "--data", "x.tsv", "--threads", "-1"}, 2, {"(--threads)"}},
      {"BatchSizeOne", {"train", "--data", "x.tsv", "--batch-size", "1"}, 2, {"(--batch-size)"}},
      {"NegativeLearningRate", {"train", "--data", "x.tsv", "--lr", "-1"}, 2, {"(--lr)"}},
      {"BadMlpList", {"train", "--data", "x.tsv", "--mlp", "12,,3"}, 2, {"(--mlp)"}},
      {"ZeroClasses", {"train", "--data", "x.tsv", "--classes", "0"}, 2, {"(--classes)"}},
      {"UnknownFormat", {"train", "--data", "x.tsv", "--format", "xml"}, 2, {"(--format)"}},
      {"UnknownMonitor", {"train", "--data", "x.tsv", "--monitor", "acc"}, 2, {"(--monitor)"}},
      {"UnknownBadLinesMode",
       {"train", "--data", "x.tsv", "--bad-lines", "maybe"},
       2,
       {"(--bad-lines)"}},
      {"UnknownStructure",
       {"train", "--data", "x.tsv", "--structure", "sideways"},
       2,
       {"(--structure)"}},
      {"FlagGivenTwice", {"train", "--data", "x.tsv", "--data", "y.tsv"}, 2, {"(--data)"}},
      {"StrayArgument", {"train", "x.tsv"}, 2, {"x.tsv"}},
      {"UnknownSubcommand", {"frobnicate"}, 2, {"unknown subcommand", "frobnicate"}},
      {"TrainFlagGivenToEval",
       {"eval", "--model", "m.dcn", "--data", "x.tsv", "--epochs", "3"},
       2,
       {"--epochs", "eval", "(--epochs)"}},
      {"DataFlagGivenToInfo",
       {"info", "--model", "m.dcn", "--data", "x.tsv"},
       2,
       {"--data", "info", "(--data)"}},
      {"ExplainFlagGivenToPredict",
       {"predict", "--model", "m.dcn", "--data", "x", "--top", "3"},
       2,
       {"(--top)"}},
      {"ExplainTopZero", {"explain", "--model", "m.dcn", "--top", "0"}, 2, {"(--top)"}},
      {"TrainWithoutData", {"train", "--epochs", "2"}, 2, {"--data", "(--data)"}},
      {"EvalWithoutModel", {"eval", "--data", "x.tsv"}, 2, {"--model", "(--model)"}},
      {"PredictWithoutData", {"predict", "--model", "m.dcn"}, 2, {"--data", "(--data)"}},
      {"InfoWithoutModel", {"info"}, 2, {"--model", "(--model)"}},
      {"SynthWithoutOutput", {"synth", "--rows", "10"}, 2, {"--output", "(--output)"}},
      {"LabelWithCriteoFormat", {"train", "--data", "x.tsv", "--label", "click"}, 2, {"(--label)"}},
      {"CsvWithoutLabel",
       {"train", "--data", "x.csv", "--format", "csv", "--categorical", "a"},
       2,
       {"--label", "(--label)"}},
      {"ColumnWithTwoRoles",
       {"train", "--data", "x.csv", "--format", "csv", "--label", "y", "--numeric", "a",
        "--categorical", "a"},
       2,
       {"'a'", "two roles"}},
      {"MissingConfigFile",
       {"train", "--data", "x.tsv", "--config", "nope.cfg"},
       1,
       {"config file", "(nope.cfg)"}},
      {"ConfigUnknownKey",
       {"train", "--data", "x.tsv", "--config", "bad.cfg"},
       2,
       {"'lrr'", "(bad.cfg:2)"},
       "# a comment\nlrr = 0.1\n"},
      {"EmbedMaxBelowItsRange",
       {"train", "--data", "x.tsv", "--embed-max", "1"},
       2,
       {"--embed-max 1", "2", "(--embed-max)"}},
      {"DelimiterOfTwoCharacters",
       {"train", "--data", "x.csv", "--format", "csv", "--label", "y", "--delimiter", ";;"},
       2,
       {"one character", "(--delimiter)"}},
      {"DelimiterWithCriteo",
       {"train", "--data", "x.tsv", "--delimiter", ";"},
       2,
       {"--format csv or tsv", "(--delimiter)"}},
      {"ConfigBadValue",
       {"train", "--data", "x.tsv", "--config", "bad.cfg"},
       2,
       {"dropout", "1.5"},
       "dropout = 1.5\n"},
  };
}

class BadUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(BadUsage, ExitsWithOneLineNamingTheFlag) {
  const UsageCase& c = GetParam();
  TempDir dir;
  if (!c.config.empty()) write_file(dir.file("bad.cfg"), c.config);
  const CliRun r = run_deepcross(c.args, in_dir(dir.path()));
  for (const std::string& s : c.expect) EXPECT_TRUE(failed_with(r, c.exit_code, s));
}

INSTANTIATE_TEST_SUITE_P(Table, BadUsage, ::testing::ValuesIn(usage_cases()),
                         [](const ::testing::TestParamInfo<UsageCase>& p) { return p.param.name; });

// A misspelt --label is reported as what the user typed, with the header's nearest name,
// not as the header column that was left without a role.
TEST(Usage, AMisspeltLabelIsNamedAsTyped) {
  TempDir dir;
  write_file(dir.file("x.csv"), "id,click,a\n1,0,p\n2,1,q\n");
  const CliRun r = run_deepcross({"train", "--data", "x.csv", "--format", "csv", "--label", "clk",
                                  "--categorical", "a", "--ignore", "id"},
                                 in_dir(dir.path()));
  EXPECT_TRUE(failed_with(r, 1, "column 'clk' (label) is not in the header"));
}

// Values in a --config file may be quoted; the quotes are not part of the value.
TEST(Usage, QuotedConfigValuesLoseTheirQuotes) {
  TempDir dir;
  write_file(dir.file("x.csv"), "id,click,a\n1,0,p\n2,1,q\n");
  write_file(dir.file("q.cfg"), "label = \"clk\"\nignore = 'id'\n");
  const CliRun r = run_deepcross({"train", "--data", "x.csv", "--format", "csv", "--categorical",
                                  "a", "--config", "q.cfg"},
                                 in_dir(dir.path()));
  EXPECT_TRUE(failed_with(r, 1, "column 'clk' (label)"));  // not '"clk"'
}

TEST(Usage, NoArgumentsPrintsTheSubcommandsToStderrAndExits2) {
  const CliRun r = run_deepcross({});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.out, "");
  for (const char* sub : {"train", "eval", "predict", "info", "explain", "serve", "export", "synth"}) {
    EXPECT_NE(r.err.find(sub), std::string::npos) << sub;
  }
}

TEST(Usage, HelpExitsZeroAndListsTheFixedFlagsWithDefaults) {
  const CliRun top = run_deepcross({"--help"});
  ASSERT_TRUE(succeeded(top));
  EXPECT_NE((top.out + top.err).find("predict"), std::string::npos);

  const CliRun train = run_deepcross({"train", "--help"});
  ASSERT_TRUE(succeeded(train));
  // Help text wraps at the terminal width: compare with runs of whitespace collapsed.
  std::string help;
  for (char ch : train.out + train.err) {
    const bool space = ch == ' ' || ch == '\n';
    if (!space) {
      help += ch;
    } else if (!help.empty() && help.back() != ' ') {
      help += ' ';
    }
  }
  for (const char* flag :
       {"--data",         "--valid",        "--test",        "--model",      "--format",
        "--label",        "--numeric",      "--categorical", "--ignore",     "--cross",
        "--structure",    "--cross-layers", "--low-rank",    "--experts",    "--embed-max",
        "--mlp",          "--dropout",      "--classes",     "--batch-size", "--lr",
        "--weight-decay", "--epochs",       "--patience",    "--monitor",    "--min-count",
        "--bad-lines",    "--threads",      "--seed",        "--history",    "--curves",
        "--report",       "--config"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  for (const char* def : {"(default: matrix)", "(default: 0.25)", "(default: 2048)",
                          "(default: 0.002)", "(default: 100)", "(default: 42)"}) {
    EXPECT_NE(help.find(def), std::string::npos) << def;
  }
  for (const char* sub : {"eval", "predict", "info", "explain", "synth"}) {
    const CliRun r = run_deepcross({sub, "--help"});
    EXPECT_TRUE(succeeded(r)) << sub;
    EXPECT_NE((r.out + r.err).find("--"), std::string::npos) << sub;
  }
}

// Every subcommand `deepcross --help` lists answers --help, serve included.
TEST(Usage, ServeHasHelp) {
  const CliRun r = run_deepcross({"serve", "--help"});
  EXPECT_TRUE(succeeded(r));
  EXPECT_NE((r.out + r.err).find("--port"), std::string::npos);
}

}  // namespace
}  // namespace deepcross::e2e
