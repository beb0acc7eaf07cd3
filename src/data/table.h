// A parsed (not yet encoded) table: what the readers produce and the preprocessing consumes.
//
// Categorical values are interned per column while parsing: each distinct byte string gets a
// dense code (0, 1, 2, ... in order of first appearance); rows hold codes, the column holds
// the strings once. The missing value (an empty field) is the empty string and gets its own
// code like any other value. Vocabularies are later fitted on the training rows' codes.
// Numeric values are float; a missing numeric value is NaN (the readers reject a literal
// "nan" in the input, so NaN here always means "empty field").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace deepcross {

struct CategoricalColumn {
  std::string name;                     // e.g. "C14"
  std::vector<std::string> dictionary;  // code -> raw bytes ("" = missing)
  std::vector<uint32_t> codes;          // one per row
};

struct NumericColumn {
  std::string name;           // e.g. "I1"
  std::vector<float> values;  // one per row; NaN = missing
};

struct Table {
  size_t rows = 0;
  bool has_label = false;
  std::string label_name;     // "label" for Criteo files
  std::vector<float> labels;  // one per row when has_label (0/1, or 0..n-1 for classes)
  std::vector<NumericColumn> numeric;
  std::vector<CategoricalColumn> categorical;
  // Provenance, for error messages and the data fingerprint stored in the model.
  std::vector<std::string> sources;  // file paths read, in order
  std::vector<size_t> source_rows;   // rows contributed by each source
  size_t skipped_lines = 0;          // malformed lines skipped under --bad-lines skip
  std::string sha256;                // hex SHA-256 of the bytes read (uncompressed), all sources
  // Header columns read past (ReadOptions::unknown_columns_ignored: columns a model does not
  // use), first file's order, for one warning.
  std::vector<std::string> unused_columns;
};

}  // namespace deepcross
