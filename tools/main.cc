// deepcross: train, evaluate, serve and explain Deep & Cross Network CTR models.
// main parses the subcommand and its flags, dispatches, and is the one place that catches
// errors: "deepcross: error: WHAT (WHERE)" on stderr, exit 1 (data, files, models) or 2 (usage).
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "cli/options.h"
#include "deepcross/suggest.h"
#include "commands.h"
#include "data_options.h"
#include "deepcross/error.h"
#include "deepcross/runtime.h"

namespace {

using Command = int (*)(const deepcross::Options&);

int dispatch(int argc, char** argv) {
  using namespace deepcross;
  const std::map<std::string, Command> commands = {
      {"train", run_train}, {"eval", run_eval},   {"predict", run_predict},
      {"info", run_info},   {"synth", run_synth}, {"explain", run_explain},
      {"serve", run_serve}, {"export", run_export},
  };
  if (argc < 2) {
    std::fputs(overview_text().c_str(), stderr);
    return 2;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    write_stdout(overview_text());
    return 0;
  }
  if (sub == "--version") {
    std::printf("deepcross 0.1.0\n");
    return 0;
  }
  auto it = commands.find(sub);
  if (it == commands.end()) {
    std::vector<std::string_view> names;
    for (const auto& [name, fn] : commands) names.push_back(name);
    std::string what = "unknown subcommand '" + sub + "'";
    const std::string near = closest_name(sub, names);
    what += near.empty() ? " (try deepcross --help)" : " (did you mean " + near + "?)";
    throw UsageError(what, sub);
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  if (wants_help(args)) {
    write_stdout(help_text(sub));
    return 0;
  }
  const Options options = parse_options(sub, args);
  // The library names configuration fields in its errors; the user typed flags.
  return with_flag_names(options, [&] { return it->second(options); });
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits it (deepcross/runtime.h).
  deepcross::flush_subnormals_to_zero();
  // A closed pipe on stdout is a write error (EPIPE) that is reported, not a silent death.
  ::signal(SIGPIPE, SIG_IGN);
  try {
    const int rc = dispatch(argc, argv);
    // What is still buffered for stdout, and any earlier failed write to it (a full disk, a
    // closed pipe): reported, exit 1, for every subcommand.
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      const int err = errno;
      std::fprintf(stderr, "deepcross: error: cannot write to standard output%s%s (stdout)\n",
                   err != 0 ? ": " : "", err != 0 ? std::strerror(err) : "");
      return 1;
    }
    return rc;
  } catch (const deepcross::Error& e) {
    std::fprintf(stderr, "deepcross: error: %s\n", e.message().c_str());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "deepcross: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deepcross: error: %s\n", e.what());
    return 1;
  }
}
