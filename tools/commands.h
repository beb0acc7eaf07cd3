// The deepcross subcommands. Each takes its parsed options and returns the exit code; errors
// are thrown (deepcross::Error) and reported once by main.
#pragma once

#include <string>
#include <string_view>

#include "cli/options.h"
#include "deepcross/runtime.h"  // write_text_file

namespace deepcross {

int run_train(const Options& options);
int run_eval(const Options& options);
int run_predict(const Options& options);
int run_info(const Options& options);
int run_synth(const Options& options);
int run_serve(const Options& options);
int run_explain(const Options& options);
int run_export(const Options& options);

// Shared helpers of the subcommands (tools/commands.cc).
int thread_count(const Options& options);         // --threads, or every core when unset
void warn(const std::string& message);            // "deepcross: warning: ..." on stderr
std::string format_number(double v);              // shortest round-trip form
void write_stdout(std::string_view text);         // flushed; DataError naming the OS reason
void write_json_line(const std::string& json);    // to stdout, flushed

}  // namespace deepcross
