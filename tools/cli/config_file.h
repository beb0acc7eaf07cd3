// Config files: `key = value` lines, the flag names without dashes.
//
//   # model.cfg
//   cross = mix
//   mlp = 256,128
//   no-label = true
//
// Blank lines and lines whose first non-blank character is '#' are skipped; the key and the
// value are trimmed of spaces and tabs (a value keeps inner spaces; a value in matching
// double or single quotes is what is between them, and '#' after a value is part of the
// value). CRLF line ends and a UTF-8 byte order mark are
// accepted. Keys are checked against the parameter table by the caller (cli/options.h).
//
//   std::vector<ConfigEntry> entries = read_config_file("model.cfg");
//   entries[0].key;   // "cross"   entries[0].line == 2
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

struct ConfigEntry {
  std::string key;
  std::string value;  // may be empty ("label =")
  int line = 0;       // 1-based
};

// Reads `path`. Throws DataError(WHAT, path) when the file cannot be read, and
// UsageError("expected 'key = value'", "PATH:LINE") for a line without '=' or without a key.
std::vector<ConfigEntry> read_config_file(const std::string& path);

// The same for text already in memory; `path` only names the source in errors.
std::vector<ConfigEntry> parse_config_text(std::string_view text, const std::string& path);

}  // namespace deepcross
