#include "serve/request.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "core/check.h"
#include "core/text.h"
#include "data/interner.h"
#include "data/text_fields.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr std::string_view kSource = "request";  // the "file name" in TSV error messages
constexpr size_t kMaxEchoedBytes = 200;          // of a key or parser detail in a message
constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

// At most kMaxEchoedBytes of `s` (cut at a UTF-8 boundary, then "..."), for messages.
std::string truncated(std::string_view s) {
  if (s.size() <= kMaxEchoedBytes) return std::string(s);
  size_t n = kMaxEchoedBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// What a JSON body is decoded against, built once per decoder: each key a row may hold (the
// fields and the label) with its column, and the table's column names.
struct RequestDecoder::Index {
  struct Slot {
    bool categorical;
    uint32_t field;   // index into the schema's fields (fields.size() for the label)
    uint32_t column;  // index into Table::numeric or Table::categorical (unused for the label)
  };
  Index(const std::vector<FieldSpec>& fields, std::string_view label_name) {
    field_count = fields.size();
    entries.reserve(fields.size() + 1);
    for (size_t i = 0; i < fields.size(); ++i) {
      Slot slot{fields[i].categorical, static_cast<uint32_t>(i), 0};
      if (slot.categorical) {
        slot.column = static_cast<uint32_t>(categorical_names.size());
        categorical_names.push_back(fields[i].name);
        categorical_fields.push_back(slot.field);
      } else {
        slot.column = static_cast<uint32_t>(numeric_names.size());
        numeric_names.push_back(fields[i].name);
      }
      entries.emplace_back(fields[i].name, slot);
    }
    if (!label_name.empty()) {
      entries.emplace_back(std::string(label_name),
                           Slot{false, static_cast<uint32_t>(field_count), 0});
    }
    // Open addressing, linear probing, at most a quarter full.
    size_t capacity = 16;
    while (capacity < 4 * entries.size()) capacity *= 2;
    table.assign(capacity, 0);
    mask = capacity - 1;
    for (size_t e = 0; e < entries.size(); ++e) {
      DC_CHECK(find(entries[e].first) == nullptr);  // the names (and the label) are distinct
      size_t i = hash(entries[e].first) & mask;
      while (table[i] != 0) i = (i + 1) & mask;
      table[i] = static_cast<uint32_t>(e + 1);
    }
  }

  // FNV-1a: names are a few bytes long.
  static uint64_t hash(std::string_view s) {
    uint64_t h = 14695981039346656037ull;
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }

  const Slot* find(std::string_view key) const {
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      const uint32_t e = table[i];
      if (e == 0) return nullptr;
      if (entries[e - 1].first == key) return &entries[e - 1].second;
    }
  }

  std::vector<std::pair<std::string, Slot>> entries;  // every key a row may hold
  std::vector<uint32_t> table;                        // entry + 1 per slot; 0 = empty
  size_t mask = 0;
  std::vector<std::string> numeric_names, categorical_names;  // the columns, in field order
  std::vector<uint32_t> categorical_fields;  // the field of each categorical column
  size_t field_count = 0;
};

namespace {

using Slot = RequestDecoder::Index::Slot;

// A categorical column's dictionary as it fills: codes in order of first appearance, as
// StringInterner gives them. Most requests carry a few rows, so values are looked up by a
// linear scan until there are kLinear of them, and through a StringInterner after that.
class ColumnDictionary {
 public:
  uint32_t intern(std::string_view value) {
    if (values_.size() <= kLinear) {
      for (size_t c = 0; c < values_.size(); ++c) {
        if (values_[c] == value) return static_cast<uint32_t>(c);
      }
      if (values_.size() < kLinear) {
        values_.emplace_back(value);
        return static_cast<uint32_t>(values_.size() - 1);
      }
      interner_.emplace();
      for (const std::string& v : values_) interner_->intern(v);  // the same codes
    }
    const uint32_t code = interner_->intern(value);
    if (code == values_.size()) values_.emplace_back(value);
    return code;
  }
  // The values in code order (the dictionary of a Table column).
  std::vector<std::string> take() { return std::move(values_); }

 private:
  static constexpr size_t kLinear = 16;
  std::vector<std::string> values_;
  std::optional<StringInterner> interner_;  // beyond kLinear values (it allocates when built)
};

// Streams a JSON body into the Table through nlohmann's SAX interface. The parser is
// iterative (its own stack of open containers); this handler refuses each container as it
// opens when it is deeper than the limit or where the schema has no container, so that
// stack stays at most max_depth deep. Problems throw RequestError from the callbacks.
class JsonRowHandler : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonRowHandler(const std::vector<FieldSpec>& fields, const std::string& label_name,
                 const RequestLimits& limits, const RequestDecoder::Index& index)
      : fields_(fields),
        label_name_(label_name),
        limits_(limits),
        index_(index),
        stamp_(fields.size() + 1, 0) {
    table_.numeric.reserve(index.numeric_names.size());
    for (const std::string& name : index.numeric_names) table_.numeric.push_back({name, {}});
    table_.categorical.reserve(index.categorical_names.size());
    for (const std::string& name : index.categorical_names) {
      table_.categorical.push_back({name, {}, {}});
    }
    dictionaries_.resize(table_.categorical.size());
  }

  Table finish() {
    DC_CHECK(state_ == State::kDone);
    for (size_t j = 0; j < dictionaries_.size(); ++j) {
      table_.categorical[j].dictionary = dictionaries_[j].take();
    }
    return std::move(table_);
  }

  bool null() override {
    return scalar(
        "null", [] {}, [&] { set_categorical(""); });  // missing
  }
  bool boolean(bool) override {
    if (state_ == State::kRowValue && !slot_is_label()) wrong_type("a boolean");
    return scalar(
        "a boolean", [] {}, [] {});
  }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return integer(v); }
  bool number_float(number_float_t, const string_t& raw) override {
    // Non-integers and integers beyond 64 bits: the number's text, parsed like a file field.
    return scalar(
        "a number", [&] { set_numeric_text(raw); }, [&] { set_categorical(raw); });
  }
  bool string(string_t& s) override {
    return scalar(
        "a string",
        [&] {
          if (s.empty()) return;  // "" = missing, as an empty file field
          set_numeric_text(s);
        },
        [&] { set_categorical(s); });
  }
  bool binary(binary_t&) override {
    DC_CHECK(false);  // the JSON text parser never produces binary values
    return false;
  }

  bool start_object(std::size_t) override {
    open();
    switch (state_) {
      case State::kTop:
        state_ = State::kTopObject;
        break;
      case State::kRowsValue:
        fail("\"rows\" must be an array of row objects, found an object");
      case State::kRows:
        begin_row();
        state_ = State::kRow;
        break;
      case State::kRowValue:
        wrong_type("an object");
      default:
        DC_CHECK(false);  // an object cannot start where the parser expects a key
    }
    return true;
  }
  bool start_array(std::size_t) override {
    open();
    switch (state_) {
      case State::kTop:
        fail(top_level_problem("an array"));
      case State::kRowsValue:
        state_ = State::kRows;
        break;
      case State::kRows:
        fail("row " + std::to_string(rows_) + " is not an object (found an array)", rows_);
      case State::kRowValue:
        wrong_type("an array");
      default:
        DC_CHECK(false);
    }
    return true;
  }
  bool end_array() override {
    DC_CHECK(state_ == State::kRows);
    --depth_;
    state_ = State::kTopObject;
    return true;
  }
  bool end_object() override {
    --depth_;
    if (state_ == State::kRow) {
      finish_row();
      state_ = State::kRows;
      return true;
    }
    DC_CHECK(state_ == State::kTopObject);
    if (!rows_seen_) fail("the body has no \"rows\" key (expected {\"rows\": [...]})");
    state_ = State::kDone;
    return true;
  }
  bool key(string_t& k) override {
    if (state_ == State::kTopObject) {
      if (k != "rows") {
        fail("unknown top-level key \"" + truncated(k) + "\" (the only key is \"rows\")");
      }
      if (rows_seen_) fail("duplicate top-level key \"rows\"");
      rows_seen_ = true;
      state_ = State::kRowsValue;
      return true;
    }
    DC_CHECK(state_ == State::kRow);
    const long row = rows_ - 1;
    slot_ = index_.find(k);
    if (slot_ == nullptr) {
      fail("unknown field \"" + truncated(k) + "\" in row " + std::to_string(row), row,
           truncated(k));
    }
    long& stamp = stamp_[slot_->field];
    if (stamp == rows_) {
      fail("duplicate field \"" + k + "\" in row " + std::to_string(row), row, k);
    }
    stamp = rows_;
    state_ = State::kRowValue;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column
    // 7: syntax error while parsing ..."; position counts the bytes read, the bad one last.
    std::string_view detail = ex.what();
    const size_t bracket = detail.find("] ");
    if (bracket != std::string_view::npos) detail.remove_prefix(bracket + 2);
    const size_t offset = position > 0 ? position - 1 : 0;
    fail("malformed JSON at byte offset " + std::to_string(offset) + ": " + truncated(detail));
  }

 private:
  enum class State { kTop, kTopObject, kRowsValue, kRows, kRow, kRowValue, kDone };

  [[noreturn]] void fail(std::string message, long row = -1, std::string field = {}) const {
    throw RequestError(kStatusBadRequest, std::move(message), row, std::move(field));
  }

  static std::string top_level_problem(std::string_view found) {
    return "the body must be a JSON object {\"rows\": [...]}, found " + std::string(found);
  }

  bool slot_is_label() const { return slot_->field == fields_.size(); }
  const std::string& slot_name() const { return fields_[slot_->field].name; }

  [[noreturn]] void wrong_type(std::string_view found) const {
    const long row = rows_ - 1;
    if (slot_is_label()) {
      fail("the label \"" + label_name_ + "\" in row " + std::to_string(row) +
               " must be a number, a string or null (it is ignored), found " + std::string(found),
           row, label_name_);
    }
    const char* expected = fields_[slot_->field].categorical
                               ? "a string, a number or null (categorical field)"
                               : "a number, a numeric string or null (numeric field)";
    fail("field \"" + slot_name() + "\" in row " + std::to_string(row) + " must be " + expected +
             ", found " + std::string(found),
         row, slot_name());
  }

  void open() {
    if (++depth_ > limits_.max_depth) {
      fail("JSON nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
  }

  // A scalar value: a row value (stored by `numeric` or `categorical`), or a misplaced one.
  template <typename Numeric, typename Categorical>
  bool scalar(std::string_view found, Numeric numeric, Categorical categorical) {
    switch (state_) {
      case State::kTop:
        fail(top_level_problem(found));
      case State::kRowsValue:
        fail("\"rows\" must be an array of row objects, found " + std::string(found));
      case State::kRows:
        fail(
            "row " + std::to_string(rows_) + " is not an object (found " + std::string(found) + ")",
            rows_);
      case State::kRowValue:
        if (!slot_is_label()) {
          if (slot_->categorical) {
            categorical();
          } else {
            numeric();
          }
        }
        state_ = State::kRow;
        return true;
      default:
        DC_CHECK(false);
        return false;
    }
  }

  template <typename Int>
  bool integer(Int v) {
    return scalar(
        "a number", [&] { table_.numeric[slot_->column].values.back() = static_cast<float>(v); },
        [&] { set_categorical(std::to_string(v)); });
  }

  // A numeric field's text, with the file readers' syntax and rounding.
  void set_numeric_text(std::string_view text) {
    float v;
    const NumberStatus status = parse_number(text, &v);
    if (status != NumberStatus::kOk) {
      const long row = rows_ - 1;
      fail(number_problem(status, text) + " for field \"" + slot_name() + "\" in row " +
               std::to_string(row),
           row, slot_name());
    }
    table_.numeric[slot_->column].values.back() = v;
  }

  void set_categorical(std::string_view value) {
    table_.categorical[slot_->column].codes.back() = dictionaries_[slot_->column].intern(value);
  }

  void begin_row() {
    if (static_cast<size_t>(rows_) >= limits_.max_rows) {
      throw RequestError(kStatusPayloadTooLarge, "more than " + std::to_string(limits_.max_rows) +
                                                     " rows in one request (--max-rows)");
    }
    ++rows_;  // rows_ - 1 is this row's index; stamps equal to rows_ mark its keys
    for (auto& c : table_.numeric) c.values.push_back(kMissing);
    for (auto& c : table_.categorical) c.codes.push_back(0);
  }

  void finish_row() {
    // Absent categorical fields are missing: "" interned now, in row order like the readers.
    for (size_t j = 0; j < index_.categorical_fields.size(); ++j) {
      if (stamp_[index_.categorical_fields[j]] != rows_) {
        table_.categorical[j].codes.back() = dictionaries_[j].intern("");
      }
    }
    table_.rows = rows_;
  }

  const std::vector<FieldSpec>& fields_;
  const std::string& label_name_;
  const RequestLimits& limits_;
  const RequestDecoder::Index& index_;
  std::vector<long> stamp_;  // per field: the rows_ value of the last row that set it
  std::vector<ColumnDictionary> dictionaries_;
  Table table_;
  State state_ = State::kTop;
  const Slot* slot_ = nullptr;  // the field whose value comes next (kRowValue)
  int depth_ = 0;
  long rows_ = 0;  // rows opened so far
  bool rows_seen_ = false;
};

void check_body_size(std::string_view body, const RequestLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    throw RequestError(kStatusPayloadTooLarge, "request body of " + std::to_string(body.size()) +
                                                   " bytes exceeds the limit of " +
                                                   std::to_string(limits.max_body_bytes) +
                                                   " bytes (--max-body-bytes)");
  }
}

// The provenance of a request's Table (not fingerprinted: Table::sha256 stays empty).
void set_provenance(Table& t) {
  t.sources = {std::string(kSource)};
  t.source_rows = {t.rows};
}

// Non-blank lines of `body` ('\r' alone counts as blank, as in the readers).
size_t count_nonblank_lines(std::string_view body, bool skip_first_line) {
  size_t count = 0;
  size_t pos = 0;
  bool first = true;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    const size_t len = end - pos;
    const bool blank = len == 0 || (len == 1 && body[pos] == '\r');
    if (!blank && !(first && skip_first_line)) ++count;
    first = false;
    pos = end + 1;
  }
  return count;
}

// The Table of a TSV body without data rows: the layout's columns, no rows.
Table empty_tsv_table(const ReadOptions& layout) {
  Table t;
  if (layout.format == Format::kCriteo) {
    for (int i = 1; i <= 13; ++i) t.numeric.push_back({"I" + std::to_string(i), {}});
    for (int i = 14; i <= 39; ++i) t.categorical.push_back({"C" + std::to_string(i), {}, {}});
  } else {
    for (const auto& n : layout.numeric) t.numeric.push_back({n, {}});
    for (const auto& n : layout.categorical) t.categorical.push_back({n, {}, {}});
  }
  return t;
}

// A reader DataError ("request:LINE:column N (NAME)", "request:LINE" or "request") as a 400.
RequestError tsv_error(const DataError& e, bool header) {
  std::string_view where = e.where();
  long row = -1;
  std::string field;
  if (where.substr(0, kSource.size()) == kSource && where.size() > kSource.size() &&
      where[kSource.size()] == ':') {
    where.remove_prefix(kSource.size() + 1);
    size_t line = 0;
    auto [p, ec] = std::from_chars(where.data(), where.data() + where.size(), line);
    if (ec == std::errc() && line >= 1) {
      const size_t first_data_line = header ? 2 : 1;
      if (line >= first_data_line) row = static_cast<long>(line - first_data_line);
      where.remove_prefix(static_cast<size_t>(p - where.data()));
      const size_t open = where.find(" (");
      if (where.substr(0, 8) == ":column " && open != std::string_view::npos &&
          where.back() == ')') {
        field = std::string(where.substr(open + 2, where.size() - open - 3));
      }
    }
  }
  return RequestError(kStatusBadRequest, e.message(), row, std::move(field));
}

}  // namespace

RequestDecoder::RequestDecoder(RequestSchema schema, RequestLimits limits)
    : schema_(std::move(schema)),
      limits_(limits),
      index_(std::make_shared<const Index>(schema_.fields, schema_.label_name)) {
  schema_.layout.bad_lines = BadLines::kError;  // every line gets a prediction, or none does
  schema_.layout.threads = 1;                   // the server parallelises across requests
  schema_.layout.compute_sha256 = false;        // no fingerprint of a request
  schema_.layout.unknown_columns_ignored = true;  // columns the model does not use
}

Table RequestDecoder::decode_json(std::string_view body) const {
  check_body_size(body, limits_);
  // nlohmann's lexer takes a NUL byte for the end of the input (and would ignore what
  // follows); JSON text has no place for a raw NUL, so any is malformed.
  const size_t nul = body.find('\0');
  if (nul != std::string_view::npos) {
    throw RequestError(kStatusBadRequest, "malformed JSON at byte offset " + std::to_string(nul) +
                                              ": a NUL byte (write it as \\u0000 in a string)");
  }
  JsonRowHandler handler(schema_.fields, schema_.label_name, limits_, *index_);
  const bool ok = nlohmann::json::sax_parse(body.begin(), body.end(), &handler,
                                            nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  DC_CHECK(ok);  // every failure throws from the handler
  Table t = handler.finish();
  set_provenance(t);
  return t;
}

Table RequestDecoder::decode_tsv(std::string_view body) const {
  check_body_size(body, limits_);
  const ReadOptions& layout = schema_.layout;
  const bool header = layout.format != Format::kCriteo;
  const size_t rows = count_nonblank_lines(body, header);
  if (rows > limits_.max_rows) {
    throw RequestError(kStatusPayloadTooLarge,
                       std::to_string(rows) + " data lines exceed the limit of " +
                           std::to_string(limits_.max_rows) + " rows in one request (--max-rows)");
  }
  const bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (rows == 0 && (!header || blank)) {
    Table t = empty_tsv_table(layout);
    set_provenance(t);
    return t;
  }
  ReadOptions opts = layout;
  opts.block_bytes = body.size() + 1;  // one block: no 4 MiB buffer for a small body
  try {
    return parse_table(body, kSource, opts);
  } catch (const DataError& e) {
    // A header line alone: checked like any header (a row sent without one is refused
    // here, not taken for a header), then no rows.
    if (rows == 0 && std::string_view(e.what()).starts_with("no data rows")) {
      Table t = empty_tsv_table(layout);
      set_provenance(t);
      return t;
    }
    throw tsv_error(e, header);
  }
}

Table RequestDecoder::decode(std::string_view content_type, std::string_view body) const {
  const size_t semicolon = content_type.find(';');
  const std::string media = lower_trimmed(content_type.substr(0, semicolon));
  // Text rows come in the training file's layout: a Criteo or TSV model reads
  // text/tab-separated-values, a CSV model text/csv (serve/request.h).
  const bool csv_model = schema_.layout.format == Format::kCsv;
  if (media == (csv_model ? "text/csv" : "text/tab-separated-values")) return decode_tsv(body);
  if (media == "text/csv" || media == "text/tab-separated-values") {
    throw RequestError(kStatusUnsupportedMediaType,
                       "this model reads its rows as " +
                           std::string(csv_model ? "text/csv" : "text/tab-separated-values") +
                           (schema_.layout.format == Format::kCriteo
                                ? " (Criteo lines, no header)"
                                : " (a header line naming the columns, then the rows)") +
                           " or application/json, not " + media);
  }
  if (media == "application/json") {
    // Parameters: name=value pairs; a charset, if given, must be UTF-8 (JSON's encoding).
    std::string_view params =
        semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon);
    while (!params.empty()) {
      params.remove_prefix(1);  // the ';'
      const size_t next = params.find(';');
      const std::string_view param = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view() : params.substr(next);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos || lower_trimmed(param.substr(0, eq)) != "charset") {
        continue;
      }
      std::string charset = lower_trimmed(param.substr(eq + 1));
      if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
        charset = charset.substr(1, charset.size() - 2);
      }
      if (charset != "utf-8" && charset != "utf8") {
        throw RequestError(kStatusUnsupportedMediaType,
                           "unsupported charset " + quote_field(charset) +
                               " for application/json (expected utf-8)");
      }
    }
    return decode_json(body);
  }
  throw RequestError(kStatusUnsupportedMediaType,
                     "unsupported content type " + quote_field(content_type) +
                         " (expected application/json or " +
                         (schema_.layout.format == Format::kCsv ? "text/csv" : "text/tab-separated-values") + ")");
}

Table decode_json_request(std::string_view body, const std::vector<FieldSpec>& fields,
                          std::string_view label_name, const RequestLimits& limits) {
  return RequestDecoder(RequestSchema{fields, std::string(label_name), {}}, limits)
      .decode_json(body);
}

Table decode_tsv_request(std::string_view body, const ReadOptions& layout,
                         const RequestLimits& limits) {
  return RequestDecoder(RequestSchema{{}, {}, layout}, limits).decode_tsv(body);
}

Table decode_request(std::string_view content_type, std::string_view body,
                     const RequestSchema& schema, const RequestLimits& limits) {
  return RequestDecoder(schema, limits).decode(content_type, body);
}

nlohmann::json error_body(const RequestError& error) {
  nlohmann::json inner = {{"message", utf8_safe(error.message)}};
  if (error.row >= 0) inner["row"] = error.row;
  if (!error.field.empty()) inner["field"] = utf8_safe(error.field);
  return {{"error", std::move(inner)}};
}

}  // namespace deepcross
