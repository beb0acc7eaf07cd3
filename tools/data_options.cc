#include "data_options.h"

#include "commands.h"
#include "deepcross/error.h"

namespace deepcross {

ReadOptions layout_from_options(const Options& options) {
  ReadOptions o;
  o.format = parse_format(options.get_string("format"));
  o.label = options.get_string("label");
  o.numeric = options.get_string_list("numeric");
  o.categorical = options.get_string_list("categorical");
  o.ignore = options.get_string_list("ignore");
  o.classes = options.get_int("classes");
  o.bad_lines = parse_bad_lines(options.get_string("bad-lines"));
  o.threads = thread_count(options);
  o.delimiter = delimiter_option(options);
  if (o.delimiter != 0 && o.format == Format::kCriteo) {
    throw UsageError("--delimiter is for --format csv or tsv (Criteo files are tab separated)",
                     "--delimiter");
  }
  return o;
}

char delimiter_option(const Options& options) {
  if (!options.accepts("delimiter") || !options.is_set("delimiter")) return 0;
  const std::string& d = options.get_string("delimiter");
  if (d == "\\t" || d == "tab" || d == "\t") return '\t';
  if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
    throw UsageError("--delimiter '" + d + "': expected one character other than a quote or a "
                     "line break (\\t or tab for a tab)",
                     "--delimiter");
  }
  return d[0];
}

Table read_checked(const std::vector<std::string>& paths, const ReadOptions& layout,
                   const std::string& what, std::vector<std::string>* warnings) {
  std::vector<BadLine> bad;
  Table t = read_table(paths, layout, &bad);
  if (t.skipped_lines > 0) {
    std::string msg = "skipped " + std::to_string(t.skipped_lines) + " malformed line" +
                      (t.skipped_lines == 1 ? "" : "s") + " of the " + what;
    if (!bad.empty()) msg += " (first: " + bad.front().what + " (" + bad.front().where + "))";
    if (warnings) {
      warnings->push_back(msg);
    } else {
      warn(msg);
    }
  }
  return t;
}

}  // namespace deepcross
