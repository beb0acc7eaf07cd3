// Careless and hostile use of the command line (issue 18): outputs that are links, FIFOs,
// devices or unwritable; standard output that fails; flags that would size memory by
// themselves; training that goes wrong.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "e2e/cli_util.h"

namespace deepcross::e2e {
namespace {

// Runs the binary with its stdout on `stdout_fd` (a device, or a pipe whose reader is gone)
// and its stderr collected through a file; returns the exit status (-1: not exited).
struct Redirected {
  int exit_code = -1;
  std::string err;
};

Redirected run_with_stdout(const std::vector<std::string>& args, int stdout_fd,
                           const TempDir& dir) {
  Redirected r;
  const std::string err_path = dir.file("stderr.txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addchdir_np(&actions, dir.path().c_str());
  std::vector<std::string> argv_s = {DEEPCROSS_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, DEEPCROSS_BINARY, &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  r.err = read_file(err_path);
  return r;
}

class CarelessUse : public ::testing::Test {
 protected:
  void SetUp() override { write_file(dir_.file("rows.tsv"), sample_head(400)); }
  CliRun run(std::vector<std::string> args) { return run_deepcross(args, in_dir(dir_.path())); }
  // A small, quick training run's flags (data rows.tsv).
  static std::vector<std::string> train(std::vector<std::string> more) {
    std::vector<std::string> a = {"train", "--data", "rows.tsv", "--batch-size", "64", "--mlp",
                                  "16", "--threads", "1"};
    a.insert(a.end(), more.begin(), more.end());
    if (std::find(a.begin(), a.end(), "--epochs") == a.end()) {
      a.insert(a.end(), {"--epochs", "1"});
    }
    return a;
  }
  void train_model(const std::string& path) {
    ASSERT_TRUE(succeeded(run(train({"--model", path}))));
  }
  TempDir dir_;
};

// Every subcommand that writes to stdout reports a failed write (a full disk, a reader that
// went away) and exits 1; none ends silently with 0 or dies of SIGPIPE.
TEST_F(CarelessUse, FailedWritesToStdoutExitOneWithAnError) {
  train_model("m.dcn");
  const std::vector<std::vector<std::string>> commands = {
      train({"--model", "t.dcn"}),
      {"eval", "--model", "m.dcn", "--data", "rows.tsv"},
      {"predict", "--model", "m.dcn", "--data", "rows.tsv"},
      {"info", "--model", "m.dcn"},
      {"explain", "--model", "m.dcn"},
      {"train", "--help"},
      {"--help"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(join(args, ' '));
    const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(full, 0);
    Redirected r = run_with_stdout(args, full, dir_);
    close(full);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("deepcross: error: cannot write to standard output"), std::string::npos)
        << r.err;
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    close(fds[0]);  // nobody will read
    r = run_with_stdout(args, fds[1], dir_);
    close(fds[1]);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("Broken pipe"), std::string::npos) << r.err;
  }
}

// --help (for the program and each subcommand) goes to stdout, exit 0 (the GNU convention).
TEST_F(CarelessUse, HelpGoesToStdout) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"train", "--help"}, {"serve", "-h"}}) {
    const CliRun r = run(args);
    EXPECT_TRUE(succeeded(r));
    EXPECT_NE(r.out.find("--"), std::string::npos) << r.describe();
    EXPECT_EQ(r.err, "") << r.describe();
  }
}

// A model path that is a symbolic link (current.dcn -> models/v1.dcn, the usual deployment)
// stays a link; its target receives the model; a report to "-" goes to stdout.
TEST_F(CarelessUse, ASymlinkedModelStaysALinkAndItsTargetIsUpdated) {
  std::filesystem::create_directory(dir_.file("models"));
  write_file(dir_.file("models/v1.dcn"), "old");
  std::filesystem::create_symlink("models/v1.dcn", dir_.file("current.dcn"));
  const CliRun r = run(train({"--model", "current.dcn", "--report", "-"}));
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(std::filesystem::is_symlink(dir_.file("current.dcn")));
  EXPECT_GT(std::filesystem::file_size(dir_.file("models/v1.dcn")), 1000u);
  EXPECT_TRUE(succeeded(run({"info", "--model", "current.dcn"})));
  // The report (indented JSON) and then the final JSON line, both on stdout.
  EXPECT_NE(r.out.find("{\n  \"best_epoch\""), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("-")));
}

// Every output is checked before any work: a mistake fails at once (no data read, no model
// written), naming the flag and the path.
TEST_F(CarelessUse, OutputPathsAreCheckedBeforeAnyWork) {
  write_file(dir_.file("a_file"), "x");
  std::filesystem::create_directory(dir_.file("a_folder"));
  struct Case {
    std::vector<std::string> flags;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"--model", "no/such/m.dcn"}, "--model"},
      {{"--model", "m.dcn", "--history", "no/such/h.csv"}, "--history"},
      {{"--model", "m.dcn", "--curves", "a_file/c.svg"}, "--curves"},
      {{"--model", "m.dcn", "--report", "a_folder"}, "--report"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(join(c.flags, ' '));
    const CliRun r = run(train(c.flags));
    EXPECT_TRUE(failed_with(r, 1, c.expect));
    EXPECT_EQ(r.err.find("data: "), std::string::npos) << "the data was read first";
    EXPECT_FALSE(file_exists(dir_.file("m.dcn")));
  }
  // The data cache only saves time: one that cannot be written is a warning, said first.
  const CliRun c = run(train({"--model", "m.dcn", "--cache", "a_file"}));
  ASSERT_TRUE(succeeded(c));
  const size_t warning = c.err.find("warning: could not write the data cache: cannot use --cache");
  EXPECT_NE(warning, std::string::npos) << c.err;
  EXPECT_LT(warning, c.err.find("data: ")) << c.err;
  const CliRun p = run({"predict", "--model", "m.dcn", "--data", "rows.tsv", "--output",
                        "a_folder"});
  EXPECT_TRUE(failed_with(p, 1, "--output"));
  EXPECT_EQ(p.err.find("scored"), std::string::npos);
}

// A FIFO named as an output is written straight through (its reader gets the report), not
// replaced by a regular file.
TEST_F(CarelessUse, AReportToAFifoReachesItsReader) {
  const std::string fifo = dir_.file("report.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = read_file(fifo); });
  const CliRun r = run(train({"--report", "report.fifo"}));
  reader.join();
  EXPECT_TRUE(succeeded(r));
  EXPECT_NE(got.find("\"test_auc\""), std::string::npos) << got;
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

// Flags that would size memory or threads by themselves: workspaces follow the rows there are
// (under an 8 GiB address-space limit, where 10 million rows of workspace would not fit), and
// a thread count far above the cores is capped with a warning.
TEST_F(CarelessUse, HugeBatchSizesAndThreadCountsAreBoundedByTheWork) {
  train_model("m.dcn");
  // An 8 GiB address-space limit: a workspace sized by the flag instead of the rows fails to
  // allocate. AddressSanitizer reserves terabytes of shadow address space at start-up, so the
  // sanitizer build runs without the limit (the Release build enforces it).
#if defined(__SANITIZE_ADDRESS__)
  const std::string limited = "exec " + std::string(DEEPCROSS_BINARY);
#else
  const std::string limited = "ulimit -v 8388608 && exec " + std::string(DEEPCROSS_BINARY);
#endif
  auto run_limited = [&](const std::string& args) {
    return std::system(("cd '" + dir_.path() + "' && " + limited + " " + args +
                        " > out.txt 2> err.txt")
                           .c_str());
  };
  EXPECT_EQ(run_limited("train --data rows.tsv --epochs 1 --mlp 16 --threads 1 --batch-size "
                        "10000000 --eval-batch-size 10000000 --model big.dcn"),
            0)
      << read_file(dir_.file("err.txt"));
  EXPECT_EQ(run_limited("predict --model m.dcn --data rows.tsv --threads 1 --eval-batch-size "
                        "10000000"),
            0)
      << read_file(dir_.file("err.txt"));
  EXPECT_EQ(split_lines(read_file(dir_.file("out.txt"))).size(), 400u);
  const CliRun r = run({"predict", "--model", "m.dcn", "--data", "rows.tsv", "--threads", "1024"});
  ASSERT_TRUE(succeeded(r));
  EXPECT_NE(r.err.find("--threads 1024 is far above"), std::string::npos) << r.err;
}

// Training that goes wrong says so.
TEST_F(CarelessUse, ADivergingRunStopsAtItsFirstBadStepAndKeepsTheModelFile) {
  write_file(dir_.file("m.dcn"), "the last good checkpoint");
  const CliRun r = run(train({"--model", "m.dcn", "--lr", "1e30", "--epochs", "3"}));
  EXPECT_TRUE(failed_with(r, 1, "training diverged in epoch 1, step "));
  EXPECT_EQ(read_file(dir_.file("m.dcn")), "the last good checkpoint");
}

TEST_F(CarelessUse, PatienceZeroNeverStopsEarly) {
  const CliRun r = run(train({"--epochs", "3", "--patience", "0"}));
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(parse_json_object(r.out).value("epochs_run", 0), 3) << r.out;
}

// An undefined validation AUC (here: a third class no row has) is said, and early stopping
// monitors the validation log loss instead of silently keeping epoch 1.
TEST_F(CarelessUse, AnUndefinedValidationAucSwitchesToTheLoss) {
  const CliRun r = run(train({"--classes", "3", "--epochs", "3", "--model", "m.dcn"}));
  ASSERT_TRUE(succeeded(r));
  EXPECT_NE(r.err.find("the validation AUC is undefined (class 2 of --classes 3 has no "
                       "validation rows): early stopping monitors the validation log loss"),
            std::string::npos)
      << r.err;
  const std::vector<std::string> history = split_lines(read_file(dir_.file("m.dcn.history.csv")));
  ASSERT_EQ(history.size(), 4u);
  // The best epoch is the one of the lowest validation loss (column 4).
  double best_loss = 1e300;
  int best = 0;
  for (int e = 1; e <= 3; ++e) {
    const double loss = *parse_double(split(history[static_cast<size_t>(e)], ',')[3]);
    if (loss < best_loss) best_loss = loss, best = e;
  }
  EXPECT_EQ(parse_json_object(r.out).value("best_epoch", 0), best) << r.out;
}

// The history and curves are written with every epoch, so that they always describe the
// model file's run (here: a run that diverges in its second epoch keeps epoch 1's set).
TEST_F(CarelessUse, HistoryAndCurvesAreWrittenWithEachCheckpoint) {
  const CliRun r = run(train({"--model", "m.dcn", "--epochs", "2"}));
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(split_lines(read_file(dir_.file("m.dcn.history.csv"))).size(), 3u);
  EXPECT_TRUE(file_exists(dir_.file("m.dcn.curves.svg")));
}

// eval --bad-lines skip (in its --help) is honoured over the model's training layout.
TEST_F(CarelessUse, EvalBadLinesSkipIsHonoured) {
  train_model("m.dcn");
  std::vector<std::string> rows = split_lines(sample_head(30));
  rows[4] = "not\ta\trow";
  write_file(dir_.file("bad.tsv"), join_lines(rows));
  EXPECT_TRUE(failed_with(run({"eval", "--model", "m.dcn", "--data", "bad.tsv"}), 1, "bad.tsv:5"));
  const CliRun r = run({"eval", "--model", "m.dcn", "--data", "bad.tsv", "--bad-lines", "skip"});
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(parse_json_object(r.out).value("rows", 0), 29) << r.out;
  EXPECT_NE(r.err.find("skipped 1 malformed line"), std::string::npos) << r.err;
}

// A model without cross layers has no learned crosses: explain says so instead of printing
// every pair with strength 0.
TEST_F(CarelessUse, ExplainRefusesAModelWithoutCrossLayers) {
  ASSERT_TRUE(succeeded(run(train({"--model", "flat.dcn", "--cross-layers", "0"}))));
  const CliRun r = run({"explain", "--model", "flat.dcn"});
  EXPECT_TRUE(failed_with(r, 1, "no cross layers"));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("flat.dcn.explain.svg")));
}

// ---- reading data as users have it ----

// A small CSV model: id (ignored), click (label), a, b (categorical), x (numeric).
class CsvModel : public CarelessUse {
 protected:
  void SetUp() override {
    CarelessUse::SetUp();
    std::string csv = "id,click,a,b,x\n";
    for (int i = 0; i < 300; ++i) {
      csv += std::to_string(i) + "," + std::to_string((i * 7) % 3 == 0) + "," +
             std::string(1, "pqrs"[i % 4]) + "," + std::string(1, "uv"[i % 2]) + "," +
             std::to_string((i % 10) / 10.0) + "\n";
    }
    write_file(dir_.file("c.csv"), csv);
    ASSERT_TRUE(succeeded(run({"train", "--data", "c.csv", "--format", "csv", "--label", "click",
                               "--ignore", "id", "--categorical", "a,b", "--numeric", "x",
                               "--model", "c.dcn", "--epochs", "1", "--mlp", "8", "--threads",
                               "1"})));
    const CliRun p = run({"predict", "--model", "c.dcn", "--data", "c.csv"});
    ASSERT_TRUE(succeeded(p));
    reference_ = split_lines(p.out);
  }
  std::vector<std::string> reference_;  // the predictions of c.csv's rows
};

// Rows arrive as users have them: with or without the ignored columns, with extra columns
// (named in one warning), with a byte-order mark, another delimiter, through stdin. Each gives
// the predictions of the original file's first rows.
TEST_F(CsvModel, PredictReadsTheRowsUsersHave) {
  struct Case {
    std::string name, text;
    std::vector<std::string> flags;
    std::string warning;  // expected on stderr ("" = none)
  };
  const std::string rows = "0,1,p,u,0\n1,0,q,v,0.1\n2,0,r,u,0.2\n";
  const std::vector<Case> cases = {
      {"as trained", "id,click,a,b,x\n" + rows, {}, ""},
      {"without the ignored id", "click,a,b,x\n1,p,u,0\n0,q,v,0.1\n0,r,u,0.2\n", {}, ""},
      {"without the label either", "a,x,b\np,0,u\nq,0.1,v\nr,0.2,u\n", {}, ""},
      {"labels ignored whatever they hold", "id,click,a,b,x\n0,yes,p,u,0\n1,,q,v,0.1\n2,7,r,u,0.2\n", {}, ""},
      {"extra columns", "id,click,a,b,x,z,w\n0,1,p,u,0,9,9\n1,0,q,v,0.1,9,9\n2,0,r,u,0.2,9,9\n",
       {}, "warning: ignoring columns z, w of rows.csv: the model does not use them"},
      {"a byte-order mark", "\xEF\xBB\xBFid,click,a,b,x\n" + rows, {}, ""},
      {"semicolons", "id;click;a;b;x\n0;1;p;u;0\n1;0;q;v;0.1\n2;0;r;u;0.2\n", {"--delimiter", ";"}, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    write_file(dir_.file("rows.csv"), c.text);
    std::vector<std::string> args = {"predict", "--model", "c.dcn", "--data", "rows.csv"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const CliRun r = run(args);
    ASSERT_TRUE(succeeded(r));
    EXPECT_EQ(split_lines(r.out),
              std::vector<std::string>(reference_.begin(), reference_.begin() + 3));
    if (!c.warning.empty()) EXPECT_NE(r.err.find(c.warning), std::string::npos) << r.err;
    if (c.warning.empty()) EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  }
}

// Files in another layout: one clear line, not the whole line echoed as a column name.
TEST_F(CsvModel, AFileInAnotherLayoutIsNamedAsSuch) {
  write_file(dir_.file("crit.tsv"), sample_head(3));
  const CliRun r = run({"predict", "--model", "c.dcn", "--data", "crit.tsv"});
  EXPECT_TRUE(failed_with(r, 1, "the header line has no ',' between its columns but has tab"));
  EXPECT_LT(error_line(r).size(), 200u) << error_line(r);
  write_file(dir_.file("less.csv"), "id,click,a\n0,1,p\n");
  EXPECT_TRUE(failed_with(run({"predict", "--model", "c.dcn", "--data", "less.csv"}), 1,
                          "the model's "));
}

// Criteo rows: a byte-order mark is stripped (not reported as an invisible character in the
// label), the label's value is ignored by predict, an empty file predicts nothing, and "-"
// reads standard input.
TEST_F(CarelessUse, CriteoRowsAsUsersHaveThem) {
  train_model("m.dcn");
  const CliRun ref = run({"predict", "--model", "m.dcn", "--data", "rows.tsv"});
  ASSERT_TRUE(succeeded(ref));
  const std::vector<std::string> expected = split_lines(ref.out);
  write_file(dir_.file("bom.tsv"), "\xEF\xBB\xBF" + sample_head(400));
  for (const char* sub : {"predict", "eval"}) {
    SCOPED_TRACE(sub);
    EXPECT_TRUE(succeeded(run({sub, "--model", "m.dcn", "--data", "bom.tsv"})));
  }
  EXPECT_EQ(split_lines(run({"predict", "--model", "m.dcn", "--data", "bom.tsv"}).out), expected);
  std::vector<std::string> lines = split_lines(sample_head(400));
  lines[0] = with_field(lines[0], 0, "clicked");
  write_file(dir_.file("labels.tsv"), join_lines(lines));
  EXPECT_EQ(split_lines(run({"predict", "--model", "m.dcn", "--data", "labels.tsv"}).out), expected);
  write_file(dir_.file("empty.tsv"), "");
  const CliRun empty = run({"predict", "--model", "m.dcn", "--data", "empty.tsv"});
  EXPECT_TRUE(succeeded(empty));
  EXPECT_EQ(empty.out, "");
  EXPECT_TRUE(failed_with(run({"eval", "--model", "m.dcn", "--data", "empty.tsv"}), 1, "(empty.tsv)"));
  const std::string piped = dir_.file("piped.txt");
  ASSERT_EQ(std::system(("cd '" + dir_.path() + "' && " + DEEPCROSS_BINARY +
                         " predict --model m.dcn --data - < rows.tsv > piped.txt 2>/dev/null")
                            .c_str()),
            0);
  EXPECT_EQ(split_lines(read_file(piped)), expected);
}

}  // namespace
}  // namespace deepcross::e2e
