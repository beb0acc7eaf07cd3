// The request decoder of `deepcross serve`: turns a POST /v1/predict body (JSON or TSV) into
// the same parsed Table (data/table.h) the file readers build for the same rows, so one
// encoding path serves files and requests. It trusts nothing in the body: whatever the bytes,
// it returns a Table or throws RequestError (an HTTP status and a message), never crashes,
// never recurses on the body's nesting, and uses memory linear in the body's size and in
// rows x fields (rows <= max_rows).
//
//   RequestSchema schema;
//   schema.fields = {{"I1", false}, {"C14", true}};  // the model's fields, in its order
//   schema.label_name = "label";                     // accepted in a row and ignored
//   schema.layout.label_policy = LabelPolicy::kOptional;  // TSV: the training file layout
//   const RequestDecoder decoder(schema, RequestLimits{});  // once: the field-name index
//   try {
//     Table t = decoder.decode("application/json", R"({"rows": [{"I1": 3}]})");
//   } catch (const RequestError& e) {
//     reply(e.status, error_body(e).dump());  // {"error": {"message", "row", "field"}}
//   }
//
// A RequestDecoder builds what does not depend on the body once (the name -> column index of
// the JSON fields, the TSV reader options) and is then used by any number of threads at once
// (decode is const and keeps no state between calls). decode_request and friends are the same
// decoding with a decoder built for the one call.
//
// JSON (application/json): {"rows": [{"I1": 3, "C14": "68fd1e64", ...}, ...]}
// - The top level is an object whose only key is "rows", an array of objects (rows). Each
//   row's keys are the model's field names, plus the label name (any scalar, ignored).
// - Numeric field: a JSON number, or a string holding a number in the file readers' syntax
//   (data/text_fields.h: no spaces, finite, within float range), correctly rounded to float
//   exactly as the readers round the same text. "" and null are missing (NaN).
// - Categorical field: a string (opaque bytes after JSON unescaping; "" = missing), or a
//   number read as its decimal text: an integer as its canonical decimal ("12"; -0 reads as
//   "0"), any other number as written in the body ("1.5", "1e3", "1.0" are three values,
//   the bytes a TSV line would carry). null is missing ("").
// - Absent fields are missing. Zero rows ({"rows": []}) give a Table with zero rows.
// - 400: malformed JSON (the message gives the byte offset), invalid UTF-8 in a string, a
//   raw NUL byte anywhere (nlohmann's lexer would take it for the end), a top level that
//   is not an object, "rows" missing, repeated or not an array, any other top-level key, a
//   row that is not an object, an unknown or repeated key in a row, an object/array/boolean
//   where a value belongs, a bad numeric value, nesting deeper than max_depth (checked as
//   each '{' or '[' opens, before it is parsed; valid requests nest 3 deep).
// - 413: a body over max_body_bytes (checked first), or more than max_rows rows (checked
//   as each row opens, so an oversized request is refused before its rows are stored).
// The first problem in byte order is the one reported; row numbers are 0-based indexes
// into "rows" (the index of the row's prediction).
//
// TSV (text/tab-separated-values): lines in the training file's layout (`layout`, as given
// to the file readers; Criteo: 40 fields with the label, 39 without, under
// LabelPolicy::kOptional), parsed by data/reader.h's parse_table as a file named "request",
// always with BadLines::kError and one thread. A body without data lines (empty, blank
// lines, or only the header for csv/tsv layouts) gives a Table with zero rows whose columns
// are the layout's (Criteo I1..I13, C14..C39; otherwise --numeric then --categorical; a
// header is then not checked). More than max_rows non-blank data lines: 413. The readers'
// errors become 400 with their message; row = the 0-based data row (line - 1, or line - 2
// after a header), field = the column name when known.
//
// CSV models: the text rows are text/csv instead (the training file's layout: a header line
// naming the columns, the model's --delimiter or ','); a csv or tsv body must begin with its
// header line, checked even when no rows follow (a row sent without a header is refused as a
// header that lacks the model's columns: 400). Header columns the model does not use are
// skipped, and its --ignore columns may be absent.
//
// Content types: "application/json" (a charset parameter, if given, must be utf-8) and
// "text/tab-separated-values" (Criteo and TSV models) or "text/csv" (CSV models),
// case-insensitive, parameters allowed; the other text type, or anything else: 415 naming the
// one the model reads.
//
// The Table: columns in the model's field order (numeric and categorical columns each keep
// the order of `fields`), categorical values interned per column in row order with "" for
// missing, NaN for a missing number; sources = {"request"}, source_rows = {rows}; sha256
// empty (request bodies are not fingerprinted: ReadOptions::compute_sha256 = false). JSON
// tables have no labels; TSV tables keep the labels the reader found.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "data/reader.h"
#include "data/table.h"

namespace deepcross {

inline constexpr int kStatusBadRequest = 400;
inline constexpr int kStatusPayloadTooLarge = 413;
inline constexpr int kStatusUnsupportedMediaType = 415;

// One model input field, as the request names it.
struct FieldSpec {
  std::string name;  // e.g. "I1", "C14"
  bool categorical = false;
};

struct RequestLimits {
  size_t max_rows = 10000;                   // --max-rows
  size_t max_body_bytes = size_t{16} << 20;  // --max-body-bytes
  int max_depth = 8;                         // JSON nesting ('{' and '[' open at once)
};

// What the model accepts: the JSON field list and the TSV layout.
struct RequestSchema {
  std::vector<FieldSpec> fields;  // the model's fields, in its order
  std::string label_name;         // JSON key accepted and ignored ("" = none)
  ReadOptions layout;             // TSV bodies: the training file's layout
};

// A request the server refuses: the HTTP status, a message, and where (row -1 and field ""
// when unknown).
class RequestError : public std::exception {
 public:
  RequestError(int status_code, std::string what, long row_index = -1, std::string field_name = {})
      : status(status_code),
        message(std::move(what)),
        row(row_index),
        field(std::move(field_name)) {}
  const char* what() const noexcept override { return message.c_str(); }

  int status;
  std::string message;
  long row;
  std::string field;
};

// The decoder of one schema (see above). Copies share the index.
class RequestDecoder {
 public:
  // DC_CHECKs that the field names and the label name are distinct.
  RequestDecoder(RequestSchema schema, RequestLimits limits);

  // Dispatches on the Content-Type header value; 415 for anything but JSON and TSV.
  Table decode(std::string_view content_type, std::string_view body) const;
  // JSON body -> Table with one column per field. Throws RequestError.
  Table decode_json(std::string_view body) const;
  // TSV body in the schema's layout -> Table. Throws RequestError; UsageError for options the
  // readers refuse (a server bug, not a request problem).
  Table decode_tsv(std::string_view body) const;

  const RequestSchema& schema() const { return schema_; }
  const RequestLimits& limits() const { return limits_; }

  struct Index;  // opaque (request.cc): the field-name index

 private:
  RequestSchema schema_;
  RequestLimits limits_;
  std::shared_ptr<const Index> index_;
};

// JSON body -> Table with one column per field (see above). Throws RequestError.
Table decode_json_request(std::string_view body, const std::vector<FieldSpec>& fields,
                          std::string_view label_name, const RequestLimits& limits);

// TSV body in `layout` -> Table (see above). Throws RequestError; UsageError for options
// the readers refuse (a server bug, not a request problem).
Table decode_tsv_request(std::string_view body, const ReadOptions& layout,
                         const RequestLimits& limits);

// Dispatches on the Content-Type header value; 415 for anything but JSON and TSV.
Table decode_request(std::string_view content_type, std::string_view body,
                     const RequestSchema& schema, const RequestLimits& limits);

// {"error": {"message": ..., "row": i, "field": "C7"}}, row and field only when known.
// Invalid UTF-8 in the strings (e.g. echoed TSV bytes) becomes U+FFFD, so dump() never
// throws.
nlohmann::json error_body(const RequestError& error);

}  // namespace deepcross
