#include "data_options.h"

#include "commands.h"
#include "deepcross/error.h"

namespace deepcross {

DataSpec data_spec_from_options(const Options& options) {
  DataSpec d;
  d.train = {options.get_string("data")};
  if (options.is_set("valid")) d.valid = {options.get_string("valid")};
  if (options.is_set("test")) d.test = {options.get_string("test")};
  d.format = options.get_string("format");
  d.label = options.get_string("label");
  d.numeric = options.get_string_list("numeric");
  d.categorical = options.get_string_list("categorical");
  d.ignore = options.get_string_list("ignore");
  d.bad_lines = options.get_string("bad-lines");
  if (options.accepts("delimiter") && options.is_set("delimiter")) {
    d.delimiter = options.get_string("delimiter");
  }
  if (options.is_set("cache") && options.get_string("cache") != "none") {
    d.cache_dir = options.get_string("cache");
  }
  return d;
}

std::string flag_of_field(const Options& options, const std::string& field) {
  std::string name = field.substr(field.find('.') == std::string::npos ? 0 : field.find('.') + 1);
  if (name.empty() || name.starts_with("-")) return std::string();
  if (field == "data.train") name = "data";
  if (field == "data.cache_dir") name = "cache";
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return options.accepts(name) ? "--" + name : std::string();
}

}  // namespace deepcross
