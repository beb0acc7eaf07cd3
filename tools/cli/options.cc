#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cli/config_file.h"
#include "deepcross/suggest.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

std::string join(const std::vector<std::string_view>& items, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) text += separator;
    text += items[i];
  }
  return text;
}

// "unknown flag --lrr (did you mean --lr?)" or "--lr does not apply to eval (only to train)".
// `token` is the argument as given, `name` its name without dashes and "=value".
[[noreturn]] void throw_unknown(const SubcommandSpec& sub, const std::string& token,
                                std::string_view name, const std::string& where, bool config_key) {
  const std::string shown = config_key ? "'" + token + "'" : where;
  const std::string kind = config_key ? "key " : "flag ";
  const bool dashed = config_key || token.rfind("--", 0) == 0;
  const std::vector<std::string_view> others = other_subcommands_accepting(sub.bit, name);
  const OptionSpec* here = find_option(sub.bit, name);
  if (here == nullptr && dashed && !others.empty()) {
    throw UsageError(kind + shown + " does not apply to " + std::string(sub.name) + " (only to " +
                         join(others, ", ") + ")",
                     where);
  }
  std::vector<std::string_view> candidates;
  for (const OptionSpec* spec : options_of(sub.bit)) {
    if (!config_key || !spec->command_line_only) candidates.push_back(spec->name);
  }
  std::string what = "unknown " + kind + shown;
  const std::string suggestion = closest_name(name, candidates);
  if (!suggestion.empty()) {
    what += config_key ? " (did you mean '" + suggestion + "'?)"
                       : " (did you mean --" + suggestion + "?)";
  }
  throw UsageError(what, where);
}

// The name in "--name=value", "--name", "-name": leading dashes and the value removed.
std::string_view flag_name(std::string_view token) {
  while (!token.empty() && token.front() == '-') token.remove_prefix(1);
  return token.substr(0, token.find('='));
}

// A token that looks like a flag rather than a value: "--x", "-x" (but not "-5", "-").
bool looks_like_flag(std::string_view token) {
  if (token.size() < 2 || token[0] != '-') return false;
  if (token[1] == '-') return true;
  return !(std::isdigit(static_cast<unsigned char>(token[1])) || token[1] == '.');
}

}  // namespace

// Builds Options: the command line, config file and JSON readers, defaults and checks.
class OptionsBuilder {
 public:
  using Entry = Options::Entry;
  using Source = Options::Source;

  static Options parse(std::string_view subcommand, const std::vector<std::string>& args);
  static Options from_json(std::string_view subcommand, const nlohmann::json& config,
                           const std::string& where);

 private:
  // One entry per accepted option, all unset.
  static std::vector<Entry> blank_entries(Subcommand subcommand);
  static Entry* find(std::vector<Entry>& entries, std::string_view name);
  static void read_command_line(const SubcommandSpec& sub, const std::vector<std::string>& args,
                                std::vector<Entry>& entries);
  static void read_config(const SubcommandSpec& sub, const std::string& path,
                          std::vector<Entry>& entries);
  static void fill_defaults(std::vector<Entry>& entries);
  static void derive_defaults(const SubcommandSpec& sub, std::vector<Entry>& entries);
  // Checks between options; returns {what, flag} of the first problem, or {"", ""}.
  static std::pair<std::string, std::string> check_consistency(const SubcommandSpec& sub,
                                                               std::vector<Entry>& entries);
};

std::vector<Options::Entry> OptionsBuilder::blank_entries(Subcommand subcommand) {
  std::vector<Entry> entries;
  for (const OptionSpec* spec : options_of(subcommand)) entries.push_back({spec, {}, {}});
  return entries;
}

Options::Entry* OptionsBuilder::find(std::vector<Entry>& entries, std::string_view name) {
  for (Entry& e : entries) {
    if (e.spec->name == name) return &e;
  }
  return nullptr;
}

void OptionsBuilder::read_command_line(const SubcommandSpec& sub,
                                       const std::vector<std::string>& args,
                                       std::vector<Entry>& entries) {
  for (const std::string& token : args) {
    if (token == "--") throw UsageError("unexpected argument '--'", token);
    // CLI11 would read "--lr= 0.1" as "--lr 0.1": an empty "=value" is a missing value here.
    if (token.size() > 3 && token.rfind("--", 0) == 0 && token.find('=') == token.size() - 1) {
      const std::string_view name = flag_name(token);
      if (const Entry* e = find(entries, name);
          e != nullptr && e->spec->type != OptionType::kFlag) {
        throw UsageError(
            "--" + std::string(name) + ": missing value (expected " + expected_text(*e->spec) + ")",
            "--" + std::string(name));
      }
    }
  }

  // CLI11 splits the tokens: every option takes 0 or 1 values (0: a bare flag, or a missing
  // value when the next token is a flag), repeats are all kept, unknown tokens become extras.
  // allow_extra_args(false): else a vector option also swallows later stray tokens.
  CLI::App app;
  app.set_help_flag();
  app.allow_extras();
  std::vector<std::vector<std::string>> given(entries.size());
  std::vector<CLI::Option*> registered(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& name = entries[i].spec->name;
    const bool flag = entries[i].spec->type == OptionType::kFlag;  // only --flag=VALUE
    registered[i] = app.add_option(name == "help" ? "-h,--help" : "--" + name, given[i])
                        ->expected(0, flag ? 0 : 1)
                        ->allow_extra_args(false)
                        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::Error& e) {
    throw UsageError(std::string("cannot parse the command line: ") + e.what(), "");
  }

  const std::vector<std::string> extras = app.remaining();
  if (!extras.empty()) {
    const std::string& token = extras.front();
    if (looks_like_flag(token)) {
      const std::string_view name = flag_name(token);
      throw_unknown(sub, token, name, token.substr(0, token.find('=')), false);
    }
    throw UsageError("unexpected argument '" + token + "' (flags and their values: --name VALUE)",
                     token);
  }

  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (registered[i]->count() == 0) continue;
    const OptionSpec& spec = *entries[i].spec;
    const std::string flag = "--" + spec.name;
    if (given[i].size() > 1) throw UsageError(flag + " given more than once", flag);
    const std::string& text = given[i].front();
    if (text.empty()) {
      if (spec.type == OptionType::kFlag) {
        entries[i].value = true;
        entries[i].source = Source::kCommandLine;
        continue;
      }
      throw UsageError(flag + ": missing value (expected " + expected_text(spec) + ")", flag);
    }
    ParsedValue parsed = parse_option_value(spec, text);
    if (!parsed.ok()) {
      const char* separator = spec.type == OptionType::kFlag ? "=" : " ";
      throw UsageError(flag + separator + text + ": " + parsed.error, flag);
    }
    entries[i].value = std::move(parsed.value);
    entries[i].source = Source::kCommandLine;
  }
}

void OptionsBuilder::read_config(const SubcommandSpec& sub, const std::string& path,
                                 std::vector<Entry>& entries) {
  std::vector<std::pair<std::string, int>> seen;  // key, line
  for (const ConfigEntry& c : read_config_file(path)) {
    const std::string where = path + ":" + std::to_string(c.line);
    Entry* e = find(entries, c.key);
    if (e == nullptr || e->spec->command_line_only) {
      if (e != nullptr) {
        throw UsageError("'" + c.key + "' cannot be set in a config file", where);
      }
      throw_unknown(sub, c.key, flag_name(c.key), where, true);
    }
    for (const auto& [key, line] : seen) {
      if (key == c.key) {
        throw UsageError(
            "'" + c.key + "' given more than once (first at line " + std::to_string(line) + ")",
            where);
      }
    }
    seen.emplace_back(c.key, c.line);
    if (e->source == Source::kCommandLine) continue;  // the command line wins
    if (c.value.empty()) {
      throw UsageError(c.key + ": missing value (expected " + expected_text(*e->spec) + ")", where);
    }
    ParsedValue parsed = parse_option_value(*e->spec, c.value);
    if (!parsed.ok()) throw UsageError(c.key + " = " + c.value + ": " + parsed.error, where);
    e->value = std::move(parsed.value);
    e->source = Source::kConfigFile;
  }
}

void OptionsBuilder::fill_defaults(std::vector<Entry>& entries) {
  for (Entry& e : entries) {
    if (e.source != Source::kDefault || e.spec->default_value.empty()) continue;
    ParsedValue parsed = parse_option_value(*e.spec, e.spec->default_value);
    if (!parsed.ok()) {
      std::fprintf(stderr, "deepcross: internal error: default of --%s: %s\n", e.spec->name.c_str(),
                   parsed.error.c_str());
      std::abort();
    }
    e.value = std::move(parsed.value);
  }
}

void OptionsBuilder::derive_defaults(const SubcommandSpec& sub, std::vector<Entry>& entries) {
  if (sub.bit != kTrain) return;
  const Entry* model = find(entries, "model");
  if (model == nullptr || model->source == Source::kDefault) return;
  const std::string& path = std::get<std::string>(model->value);
  for (const auto& [name, suffix] :
       {std::pair{"history", ".history.csv"}, std::pair{"curves", ".curves.svg"}}) {
    Entry* e = find(entries, name);
    if (e != nullptr && e->source == Source::kDefault) e->value = path + suffix;
  }
}

std::pair<std::string, std::string> OptionsBuilder::check_consistency(const SubcommandSpec& sub,
                                                                      std::vector<Entry>& entries) {
  const Entry* format = find(entries, "format");
  if (format == nullptr) return {};
  const std::string& layout = std::get<std::string>(format->value);
  static constexpr const char* kRoles[] = {"label", "numeric", "categorical", "ignore"};
  if (layout == "criteo") {
    for (const char* role : kRoles) {
      const Entry* e = find(entries, role);
      if (e != nullptr && e->source != Source::kDefault) {
        return {"--" + std::string(role) + " applies only to --format csv or tsv",
                "--" + std::string(role)};
      }
    }
    return {};
  }
  const Entry* label = find(entries, "label");
  if (sub.bit == kTrain && (label == nullptr || label->source == Source::kDefault)) {
    return {"--format " + layout + " needs --label NAME", "--label"};
  }
  // Each column has at most one role.
  std::vector<std::pair<std::string, std::string>> roles;  // column, flag
  for (const char* role : kRoles) {
    const Entry* e = find(entries, role);
    if (e == nullptr || e->source == Source::kDefault) continue;
    const std::string flag = "--" + std::string(role);
    std::vector<std::string> columns;
    if (const auto* one = std::get_if<std::string>(&e->value)) columns.push_back(*one);
    if (const auto* many = std::get_if<std::vector<std::string>>(&e->value)) columns = *many;
    for (const std::string& column : columns) {
      for (const auto& [other_column, other_flag] : roles) {
        if (other_column == column) {
          return {"column '" + column + "' has two roles: " + other_flag + " and " + flag, flag};
        }
      }
      roles.emplace_back(column, flag);
    }
  }
  return {};
}

Options OptionsBuilder::parse(std::string_view subcommand, const std::vector<std::string>& args) {
  const SubcommandSpec& sub = require_subcommand(subcommand);
  std::vector<Entry> entries = blank_entries(sub.bit);
  read_command_line(sub, args, entries);
  if (const Entry* config = find(entries, "config"); config->source != Source::kDefault) {
    read_config(sub, std::get<std::string>(config->value), entries);
  }
  fill_defaults(entries);
  derive_defaults(sub, entries);
  const bool help = std::get<bool>(find(entries, "help")->value);
  if (!help) {
    for (const Entry& e : entries) {
      if ((e.spec->required_by & sub.bit) != 0 && e.source == Source::kDefault) {
        throw UsageError("missing required flag --" + e.spec->name, "--" + e.spec->name);
      }
    }
  }
  const auto [what, flag] = check_consistency(sub, entries);
  if (!what.empty()) throw UsageError(what, flag);
  return Options(std::string(sub.name), std::move(entries));
}

Options OptionsBuilder::from_json(std::string_view subcommand, const nlohmann::json& config,
                                  const std::string& where) {
  const SubcommandSpec* sub = find_subcommand(subcommand);
  if (sub == nullptr) {
    throw DataError("configuration for unknown subcommand '" + std::string(subcommand) + "'",
                    where);
  }
  if (!config.is_object()) throw DataError("configuration is not a JSON object", where);
  std::vector<Entry> entries = blank_entries(sub->bit);
  for (const auto& [key, value] : config.items()) {
    Entry* e = find(entries, key);
    if (e == nullptr || e->spec->command_line_only) {
      throw DataError("unknown configuration key '" + key + "' for " + std::string(sub->name),
                      where);
    }
    if (value.is_null()) continue;
    const OptionType type = e->spec->type;
    std::string text;
    bool typed = false;
    if (type == OptionType::kInt) {
      typed = value.is_number_integer();
      if (typed) text = value.dump();
    } else if (type == OptionType::kFloat) {
      typed = value.is_number();
      if (typed) text = value.dump();
    } else if (type == OptionType::kFlag) {
      typed = value.is_boolean();
      if (typed) text = value.get<bool>() ? "true" : "false";
    } else if (type == OptionType::kIntList || type == OptionType::kStringList) {
      typed = value.is_array() && !value.empty();
      for (std::size_t i = 0; typed && i < value.size(); ++i) {
        const nlohmann::json& item = value[i];
        typed = type == OptionType::kIntList
                    ? item.is_number_integer()
                    : item.is_string() && item.get<std::string>().find(',') == std::string::npos;
        if (typed)
          text += (i ? "," : "") + (item.is_string() ? item.get<std::string>() : item.dump());
      }
    } else {
      typed = value.is_string();
      if (typed) text = value.get<std::string>();
    }
    ParsedValue parsed = typed ? parse_option_value(*e->spec, text) : ParsedValue{};
    if (!typed || !parsed.ok()) {
      throw DataError(
          "configuration " + key + " = " + value.dump() + ": expected " + expected_text(*e->spec),
          where);
    }
    e->value = std::move(parsed.value);
    e->source = Source::kJson;
  }
  fill_defaults(entries);
  const auto [what, flag] = check_consistency(*sub, entries);
  if (!what.empty()) throw DataError("configuration: " + what, where);
  return Options(std::string(sub->name), std::move(entries));
}

// ---- Options ----

const Options::Entry& Options::entry(std::string_view name, const char* getter) const {
  for (const Entry& e : entries_) {
    if (e.spec->name == name) return e;
  }
  std::fprintf(stderr, "deepcross: internal error: Options::%s(\"%.*s\"): %s does not accept it\n",
               getter, static_cast<int>(name.size()), name.data(), subcommand_.c_str());
  std::abort();
}

namespace {

// The value of an entry as T, or T{} when unset; aborts on a type mismatch (a caller's bug).
template <typename T>
const T& typed(const OptionValue& value, std::string_view name, const char* getter) {
  static const T kEmpty{};
  if (std::holds_alternative<std::monostate>(value)) return kEmpty;
  if (const T* x = std::get_if<T>(&value)) return *x;
  std::fprintf(stderr, "deepcross: internal error: Options::%s(\"%.*s\"): wrong type\n", getter,
               static_cast<int>(name.size()), name.data());
  std::abort();
}

nlohmann::json value_to_json(const OptionValue& value) {
  struct ToJson {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(int x) const { return x; }
    nlohmann::json operator()(double x) const { return x; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(const std::vector<int>& xs) const { return xs; }
    nlohmann::json operator()(const std::vector<std::string>& xs) const { return xs; }
    nlohmann::json operator()(bool b) const { return b; }
  };
  return std::visit(ToJson{}, value);
}

}  // namespace

int Options::get_int(std::string_view name) const {
  return typed<int>(entry(name, "get_int").value, name, "get_int");
}
double Options::get_float(std::string_view name) const {
  return typed<double>(entry(name, "get_float").value, name, "get_float");
}
const std::string& Options::get_string(std::string_view name) const {
  return typed<std::string>(entry(name, "get_string").value, name, "get_string");
}
std::vector<int> Options::get_int_list(std::string_view name) const {
  return typed<std::vector<int>>(entry(name, "get_int_list").value, name, "get_int_list");
}
std::vector<std::string> Options::get_string_list(std::string_view name) const {
  return typed<std::vector<std::string>>(entry(name, "get_string_list").value, name,
                                         "get_string_list");
}
bool Options::get_flag(std::string_view name) const {
  return typed<bool>(entry(name, "get_flag").value, name, "get_flag");
}
bool Options::accepts(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.spec->name == name) return true;
  }
  return false;
}

bool Options::is_set(std::string_view name) const {
  return entry(name, "is_set").source != Source::kDefault;
}
Options::Source Options::source(std::string_view name) const {
  return entry(name, "source").source;
}

nlohmann::json Options::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const Entry& e : entries_) {
    if (!e.spec->command_line_only) out[e.spec->name] = value_to_json(e.value);
  }
  return out;
}

nlohmann::json Options::model_config_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const Entry& e : entries_) {
    if (e.spec->in_model) out[e.spec->name] = value_to_json(e.value);
  }
  return out;
}

std::string Options::describe() const {
  std::size_t width = 0;
  for (const Entry& e : entries_) width = std::max(width, e.spec->name.size());
  std::string out =
      subcommand_ + " configuration (* = given on the command line or in --config):\n";
  for (const Entry& e : entries_) {
    if (e.spec->name == "help" || (e.spec->name == "config" && e.source == Source::kDefault)) {
      continue;
    }
    std::string value = format_option_value(e.value);
    if (std::holds_alternative<std::monostate>(e.value)) {
      value = e.spec->default_shown.empty() ? "-" : e.spec->default_shown;
    } else if (e.source == Source::kDefault && !e.spec->default_value.empty() &&
               !e.spec->default_shown.empty()) {
      value += " (" + e.spec->default_shown + ")";  // "0 (available CPUs)"
    }
    out += std::string(e.source == Source::kDefault ? "    " : "  * ") + e.spec->name +
           std::string(width + 2 - e.spec->name.size(), ' ') + value + "\n";
  }
  return out;
}

// ---- free functions ----

Options parse_options(std::string_view subcommand, const std::vector<std::string>& args) {
  return OptionsBuilder::parse(subcommand, args);
}

Options options_from_json(std::string_view subcommand, const nlohmann::json& config,
                          const std::string& where) {
  return OptionsBuilder::from_json(subcommand, config, where);
}

}  // namespace deepcross
