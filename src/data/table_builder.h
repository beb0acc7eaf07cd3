// TableBuilder: assembles a Table from parsed chunks (data/chunk_parser.h), in file order,
// over one or more sources. It owns the table-wide categorical dictionaries, the label
// decision and the bad-line accounting; the readers (data/reader.h) drive it.
//
//   TableBuilder b(/*has_label=*/true, &bad_lines);
//   b.set_columns({"I1", ...}, {"C14", ...});
//   b.begin_source("train.tsv");
//   b.check_label(true, "train.tsv:1", "label");
//   b.append(chunk);            // chunk-local codes become table codes
//   Table t = b.finish(sha256_hex);
//
// Codes stay in order of first appearance in the input: a chunk's dictionary lists its values
// in the chunk's first-appearance order and chunks are appended in file order, so the values
// new to the table get their codes in file order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/chunk_parser.h"
#include "data/interner.h"
#include "data/reader.h"
#include "data/table.h"

namespace deepcross {

class TableBuilder {
 public:
  // `has_label`: fixed up front (labels required: true; never: false), or decided by the first
  // source (nullopt). `bad_lines`, if given, receives the first kMaxReportedBadLines notes.
  TableBuilder(std::optional<bool> has_label, std::vector<BadLine>* bad_lines);

  Table& table() { return table_; }
  bool columns_set() const { return columns_set_; }
  // Names the table's columns (once).
  void set_columns(const std::vector<std::string>& numeric,
                   const std::vector<std::string>& categorical);
  void begin_source(std::string name);

  // A source's rows have (or lack) the label: the first decides, the others must agree
  // (DataError at `where` otherwise).
  void check_label(bool has_label, const std::string& where, const std::string& label_name);

  // Makes room for `rows` rows in all, so columns do not grow by repeated copying.
  void reserve(size_t rows);

  void skip(size_t count) { table_.skipped_lines += count; }
  void note(std::string what, std::string where);

  // Appends a chunk's rows to the current source.
  void append(const ParsedChunk& chunk);
  // The same in parts: the row counts, labels and numeric columns, then each categorical
  // column. Chunks' rows must be appended in file order, and each column's chunks in file
  // order too; different columns may be appended at the same time, on different threads
  // (`scratch` is the caller's), also while later chunks' rows are appended.
  void append_rows(const ParsedChunk& chunk);
  void append_column(const ParsedChunk& chunk, size_t column, std::vector<uint32_t>& scratch);

  Table finish(std::string sha256);

 private:
  std::optional<bool> has_label_;
  std::vector<BadLine>* bad_lines_;
  Table table_;
  std::vector<StringInterner> dictionaries_;  // per categorical column
  std::vector<uint32_t> global_;              // scratch: chunk code -> table code
  bool columns_set_ = false;
};

}  // namespace deepcross
