#include "cli/help_text.h"

#include <algorithm>

#include "cli/option_table.h"

namespace deepcross {
namespace {

constexpr std::size_t kHelpWidth = 100;  // --help wraps at this column
constexpr std::size_t kHelpIndent = 28;  // column where help text starts

// Word-wraps `text` to `width` columns, indenting continuation lines by `indent`.
std::string wrap(std::string_view text, std::size_t first_column, std::size_t indent) {
  std::string out;
  std::size_t column = first_column;
  bool line_start = true;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    if (word.empty()) continue;
    if (!line_start && column + 1 + word.size() > kHelpWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_start = false;
  }
  return out;
}

// "--cross vector|matrix|mix|lowrank", "--lr X", "--no-label".
std::string flag_synopsis(const OptionSpec& spec) {
  std::string text = "--" + spec.name;
  if (spec.type == OptionType::kEnum) {
    for (std::size_t i = 0; i < spec.choices.size(); ++i) {
      text += (i ? "|" : " ") + spec.choices[i];
    }
  } else if (spec.type != OptionType::kFlag) {
    text += " " + spec.metavar;
  }
  return text;
}

// The default as --help and describe() show it; "" when there is none to show.
std::string shown_default(const OptionSpec& spec) {
  if (!spec.default_shown.empty()) return spec.default_shown;
  if (spec.type == OptionType::kFlag) return "";
  return spec.default_value;
}

}  // namespace

std::string help_text(std::string_view subcommand) {
  const SubcommandSpec& sub = require_subcommand(subcommand);
  const std::vector<const OptionSpec*> specs = options_of(sub.bit);
  std::string usage = "usage: deepcross " + std::string(sub.name);
  for (const OptionSpec* spec : specs) {
    if ((spec->required_by & sub.bit) != 0) usage.append(" ").append(flag_synopsis(*spec));
  }
  std::string out = usage + " [flags]\n" + std::string(sub.summary) + "\n";
  for (OptionGroup group :
       {OptionGroup::kInput, OptionGroup::kModel, OptionGroup::kTraining, OptionGroup::kOutput,
        OptionGroup::kServing, OptionGroup::kGenerator, OptionGroup::kGeneral}) {
    bool heading = false;
    for (const OptionSpec* spec : specs) {
      if (spec->group != group) continue;
      if (!heading) out.append("\n").append(group_heading(group)).append(":\n");
      heading = true;
      std::string line = spec->name == "help" ? "  -h, " : "  ";
      line += flag_synopsis(*spec);
      if (line.size() + 2 > kHelpIndent) {
        line += "\n" + std::string(kHelpIndent, ' ');
      } else {
        line += std::string(kHelpIndent - line.size(), ' ');
      }
      std::string help = spec->help;
      if ((spec->required_by & sub.bit) != 0) {
        help += " (required)";
      } else if (const std::string shown = shown_default(*spec); !shown.empty()) {
        help += " (default: " + shown + ")";
      }
      out += line + wrap(help, kHelpIndent, kHelpIndent) + "\n";
    }
  }
  return out;
}

std::string overview_text() {
  std::string out =
      "usage: deepcross SUBCOMMAND [flags]   (deepcross SUBCOMMAND --help for its flags)\n\n"
      "subcommands:\n";
  for (const SubcommandSpec& s : subcommand_table()) {
    out += "  " + std::string(s.name) + std::string(10 - s.name.size(), ' ') +
           std::string(s.summary) + "\n";
  }
  return out;
}

std::vector<std::string> subcommands() {
  std::vector<std::string> names;
  for (const SubcommandSpec& s : subcommand_table()) names.emplace_back(s.name);
  return names;
}

bool wants_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(),
                     [](const std::string& a) { return a == "-h" || a == "--help"; });
}

}  // namespace deepcross
