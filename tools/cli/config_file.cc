#include "cli/config_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepcross/error.h"

namespace deepcross {
namespace {

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const std::size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<ConfigEntry> parse_config_text(std::string_view text, const std::string& path) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  std::vector<ConfigEntry> entries;
  int line_number = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t equals = line.find('=');
    const std::string where = path + ":" + std::to_string(line_number);
    if (equals == std::string_view::npos) {
      throw UsageError("expected 'key = value', found '" + std::string(line) + "'", where);
    }
    const std::string_view key = trim(line.substr(0, equals));
    if (key.empty()) {
      throw UsageError("expected 'key = value', found no key before '='", where);
    }
    std::string_view value = trim(line.substr(equals + 1));
    // A value in matching quotes ("C1,C2" or 'a b') is what is between them, as in the
    // shells and INI dialects people copy from; the quotes are not part of any value.
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    entries.push_back({std::string(key), std::string(value), line_number});
  }
  return entries;
}

std::vector<ConfigEntry> read_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw DataError("cannot open config file: it is a directory", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError(std::string("cannot open config file: ") + std::strerror(errno), path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    throw DataError(std::string("cannot read config file: ") + std::strerror(errno), path);
  }
  return parse_config_text(content.str(), path);
}

}  // namespace deepcross
