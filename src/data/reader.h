// The data readers: Criteo TSV, CSV or TSV with a header, plain or gzip-compressed, parsed
// in parallel into a Table (data/table.h). The contract is INTERFACE.md, "Data files".
//
//   ReadOptions opts;                      // Criteo, labels required, stop at a bad line
//   opts.threads = 2;
//   Table t = read_table({"train.tsv.gz"}, opts);
//
//   ReadOptions csv;
//   csv.format = Format::kCsv;
//   csv.label = "click";
//   csv.ignore = {"id"};
//   csv.categorical = {"hour", "C1", "banner_pos", "site_id"};
//   csv.bad_lines = BadLines::kSkip;
//   std::vector<BadLine> bad;
//   Table a = read_table({"avazu.csv"}, csv, &bad);  // a.skipped_lines, bad[0].what, ...
//
// Formats
// - Criteo: tab separated, no header. 40 fields = label, I1..I13, C14..C39; 39 fields = the
//   same without the label (under kOptional the label's value is not read), accepted when
//   label_policy is kOptional or kAbsent (kAbsent
//   accepts only 39). Each file's width is decided by its first row (under BadLines::kSkip,
//   its first row with an acceptable width); a row of another width is a bad line. Column
//   names: label, I1..I13, C14..C39. The role lists in ReadOptions are ignored.
// - CSV / TSV: the first line is the header (a UTF-8 BOM before it is dropped). Every header
//   column needs exactly one role (label, numeric, categorical, ignore) and every named
//   column must be in the header; duplicate or empty header names are errors. Under
//   kOptional the label column may be absent, and its values are not read (labels 0: predict
//   and serve use none, whatever the column holds); under kAbsent it is ignored if present. The
//   table's columns follow the first file's header order; later files may order their
//   columns differently but must have the same ones. CSV: comma separated, RFC 4180 quotes
//   (see data/text_fields.h); a quoted field may not span lines. TSV: no quoting.
//
// Fields: numeric values are finite decimals (`-2`, `+4`, `3.5`, `.5`, `1e3`); empty =
// missing (NaN); `nan`, `inf`, text or a magnitude above FLT_MAX is a bad line (tiny values
// round to 0). Categorical values are opaque bytes, empty = missing (""). Labels: `0`/`1`
// when classes is 1 (or 2), integers 0..classes-1 otherwise (`1.0` reads as 1); a missing
// label is a bad line. A trailing '\r' on any line is dropped (CRLF files).
//
// Lines: 1-based, counted from the first line of each file (the header is line 1). Blank
// lines at the end of a file are ignored; a blank line followed by more data is a bad line
// ("empty line"). A file without data rows is an error ("no data rows").
//
// Errors: DataError(WHAT, "FILE:LINE:column N (NAME)"), or "FILE:LINE" for a whole-line
// problem such as "expected 40 fields, found 39", or "FILE" for a file that cannot be opened
// or read, or holds corrupt gzip data. Under BadLines::kSkip a bad line is skipped instead,
// counted in Table::skipped_lines, and the first kMaxReportedBadLines are described in the
// optional `bad_lines` out-parameter; header problems are still errors. Bad options throw
// UsageError naming the ReadOptions field (the command line retells it as its flag).
//
// Threads: the bytes are read (and decompressed and hashed, unless compute_sha256 is false) in
// blocks of whole lines by the calling thread; up to `threads` blocks are parsed at once, each
// into its own dictionaries, then merged in file order. The Table is identical for every thread
// count and block size, and so are error messages and line numbers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/table.h"

namespace deepcross {

enum class Format { kCriteo, kCsv, kTsv };
enum class BadLines { kError, kSkip };
// kRequired: train/eval; kOptional: predict (rows with or without the label);
// kAbsent: rows never carry a label.
enum class LabelPolicy { kRequired, kOptional, kAbsent };

struct ReadOptions {
  Format format = Format::kCriteo;
  std::string label;                                      // csv/tsv: the label column
  std::vector<std::string> numeric, categorical, ignore;  // csv/tsv roles by header name
  BadLines bad_lines = BadLines::kError;
  LabelPolicy label_policy = LabelPolicy::kRequired;
  int classes = 1;                       // labels 0/1 (classes 1) or integers 0..classes-1
  int threads = 1;                       // blocks parsed at once (>= 1)
  size_t block_bytes = size_t{4} << 20;  // bytes per parsed block (tests use tiny blocks)
  // Table::sha256 of the bytes read; false leaves it empty and skips the hashing (HTTP request
  // bodies, serve/request.h: no fingerprint is kept for them).
  bool compute_sha256 = true;
  // csv/tsv read for a trained model (predict, eval, explain, serve): a header column with no
  // role is skipped (and named in Table::unused_columns) rather than an error, and the
  // --ignore columns may be absent.
  bool unknown_columns_ignored = false;
  // The separator of csv/tsv fields (--delimiter); 0: ',' for csv, tab for tsv.
  char delimiter = 0;
};

// One skipped line, described as the error it would have been.
struct BadLine {
  std::string what;   // e.g. "invalid numeric value 'abc'"
  std::string where;  // e.g. "train.tsv:17:column 3 (I2)"
};
inline constexpr size_t kMaxReportedBadLines = 10;

// "criteo" | "csv" | "tsv"; UsageError (naming the field "format") otherwise.
Format parse_format(std::string_view name);
// "error" | "skip"; UsageError (naming the field "bad_lines") otherwise.
BadLines parse_bad_lines(std::string_view name);

// Reads and concatenates the files, in order. Throws DataError / UsageError (see above).
// When `bad_lines` is given, it receives the first skipped lines (at most
// kMaxReportedBadLines).
Table read_table(const std::vector<std::string>& paths, const ReadOptions& opts,
                 std::vector<BadLine>* bad_lines = nullptr);

// Parses in-memory text (e.g. an HTTP request body) as one file named `source` in errors.
Table parse_table(std::string_view text, std::string_view source, const ReadOptions& opts,
                  std::vector<BadLine>* bad_lines = nullptr);

}  // namespace deepcross
