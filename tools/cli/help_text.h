// --help for each subcommand and for deepcross as a whole, rendered from the parameter table
// (cli/option_table.h): usage with the required flags, then every flag the subcommand accepts,
// grouped, with its default and help text, wrapped at 100 columns.
//
//   std::vector<std::string> args(argv + 2, argv + argc);
//   if (wants_help(args)) std::fputs(help_text("train").c_str(), stderr);
//   // usage: deepcross train --data F [flags]
//   // ...
//   //   --dropout P               dropout probability after each MLP layer (default: 0.25)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

// Usage line, summary and every flag of `subcommand` with its default and help, grouped.
// Throws UsageError for an unknown subcommand.
std::string help_text(std::string_view subcommand);
// `deepcross --help`: the subcommands with their summaries.
std::string overview_text();
// The subcommand names, in overview order.
std::vector<std::string> subcommands();
// True when args contain -h or --help.
bool wants_help(const std::vector<std::string>& args);

}  // namespace deepcross
