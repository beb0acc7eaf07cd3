#include "train/history.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <system_error>

#include "core/text.h"
#include "deepcross/error.h"
#include "io/whole_file.h"

namespace deepcross {
namespace {

constexpr std::array<std::string_view, 8> kCsvColumns = {
    "epoch", "train_loss", "train_auc", "val_loss", "val_auc", "seconds", "samples_per_s", "best"};

// Shortest text that reads back to the same double; "nan" for every NaN (to_chars may say
// "-nan"), "inf"/"-inf" for infinities.
std::string shortest(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// A rate rounded to an integer with thousands separators: 53210.4 -> "53,210".
std::string grouped(double v) {
  if (!std::isfinite(v) || std::fabs(v) >= 1e15) return fixed(v, 0);
  std::string digits = fixed(std::fabs(v), 0);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 && out != "0") ? "-" + out : out;
}

// Right-aligns `s` in `width` columns (longer text is kept whole, pushing the row right).
std::string right(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// Table columns: header text and width; values are right-aligned under them.
constexpr std::array<std::string_view, 7> kTableHeaders = {
    "epoch", "train loss", "train AUC", "val loss", "val AUC", "seconds", "samples/s"};
constexpr std::array<size_t, 7> kTableWidths = {5, 10, 9, 9, 9, 7, 11};
constexpr std::string_view kBestHeader = "best";

std::string join_columns(const std::array<std::string, 7>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    line += right(cells[i], kTableWidths[i]);
  }
  return line;
}

// Splits `text` at '\n' (a final '\r' of each line is dropped; a final empty line is ignored).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

std::string field_where(const std::string& source, size_t line, size_t column) {
  return source + ":" + std::to_string(line) + ":column " + std::to_string(column + 1) + " (" +
         std::string(kCsvColumns[column]) + ")";
}

double parse_double(std::string_view s, const std::string& where) {
  double v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [end, ec] = std::from_chars(first, last, v);
  if (s.empty() || ec == std::errc::invalid_argument || end != last) {
    throw DataError("expected a number, found '" + std::string(s) + "'", where);
  }
  if (ec == std::errc::result_out_of_range) {
    throw DataError("number out of double range: '" + std::string(s) + "'", where);
  }
  return v;
}

int parse_epoch(std::string_view s, const std::string& where) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 1) {
    throw DataError("expected an epoch number >= 1, found '" + std::string(s) + "'", where);
  }
  return v;
}

}  // namespace

std::optional<size_t> History::best_index() const {
  for (size_t i = epochs_.size(); i-- > 0;) {
    if (epochs_[i].best) return i;
  }
  return std::nullopt;
}

std::string History::to_csv() const {
  std::string out;
  for (size_t i = 0; i < kCsvColumns.size(); ++i) {
    if (i > 0) out += ',';
    out += kCsvColumns[i];
  }
  out += '\n';
  for (const EpochRecord& r : epochs_) {
    out += std::to_string(r.epoch);
    for (double v :
         {r.train_loss, r.train_auc, r.val_loss, r.val_auc, r.seconds, r.samples_per_s}) {
      out += ',';
      out += shortest(v);
    }
    out += r.best ? ",1\n" : ",0\n";
  }
  return out;
}

void History::write_csv(const std::string& path) const {
  const std::string text = to_csv();
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  const std::span<const uint8_t> pieces[] = {bytes};
  try {
    write_whole_file_atomically(path, pieces);
  } catch (const DataError& e) {
    throw DataError(std::string("cannot write the training history CSV: ") + e.what(), e.where());
  }
}

History parse_history_csv(std::string_view text, const std::string& source) {
  const std::vector<std::string_view> lines = split_lines(text);
  if (lines.empty()) throw DataError("empty history CSV, expected a header line", source + ":1");
  const std::vector<std::string_view> header = split_fields(lines[0]);
  for (size_t c = 0; c < kCsvColumns.size(); ++c) {
    if (c >= header.size() || header[c] != kCsvColumns[c]) {
      throw DataError("expected header column '" + std::string(kCsvColumns[c]) + "', found '" +
                          (c < header.size() ? std::string(header[c]) : std::string()) + "'",
                      source + ":1:column " + std::to_string(c + 1));
    }
  }
  if (header.size() != kCsvColumns.size()) {
    throw DataError("expected " + std::to_string(kCsvColumns.size()) + " header columns, found " +
                        std::to_string(header.size()),
                    source + ":1");
  }
  History history;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    const std::vector<std::string_view> f = split_fields(lines[i]);
    if (f.size() != kCsvColumns.size()) {
      throw DataError("expected " + std::to_string(kCsvColumns.size()) + " fields, found " +
                          std::to_string(f.size()),
                      source + ":" + std::to_string(line_no));
    }
    EpochRecord r;
    r.epoch = parse_epoch(f[0], field_where(source, line_no, 0));
    double* numbers[] = {&r.train_loss, &r.train_auc, &r.val_loss,
                         &r.val_auc,    &r.seconds,   &r.samples_per_s};
    for (size_t c = 1; c <= 6; ++c) {
      *numbers[c - 1] = parse_double(f[c], field_where(source, line_no, c));
    }
    if (f[7] != "0" && f[7] != "1") {
      throw DataError("expected 0 or 1, found '" + std::string(f[7]) + "'",
                      field_where(source, line_no, 7));
    }
    r.best = f[7] == "1";
    history.add(r);
  }
  return history;
}

History read_history_csv(const std::string& path) {
  const std::vector<uint8_t> bytes = read_whole_file(path, "history CSV");
  return parse_history_csv(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

std::string format_epoch_header() {
  std::array<std::string, 7> cells;
  for (size_t i = 0; i < cells.size(); ++i) cells[i] = std::string(kTableHeaders[i]);
  return join_columns(cells) + "  " + std::string(kBestHeader);
}

std::string format_epoch_row(const EpochRecord& r) {
  const std::array<std::string, 7> cells = {std::to_string(r.epoch), fixed(r.train_loss, 5),
                                            fixed(r.train_auc, 5),   fixed(r.val_loss, 5),
                                            fixed(r.val_auc, 5),     fixed(r.seconds, 1),
                                            grouped(r.samples_per_s)};
  std::string line = join_columns(cells);
  if (r.best) line += "  " + right("*", kBestHeader.size());
  return line;
}

}  // namespace deepcross
