// What the public API's predictor and training run share (internal to src/api/): the thread
// count of an option, and reading files with skipped lines reported as one warning.
//
//   Table t = read_reporting({"train.tsv"}, layout, "training data", warn);
//   // under BadLines::kSkip: warn("skipped 3 malformed lines of the training data (first: ...)")
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/reader.h"
#include "data/table.h"

namespace deepcross {

// `requested`, or every core when it is 0 (or less).
int resolve_threads(int requested);

// A delimiter field ("data.delimiter") as a character: 0 for "", '\t' for "\\t" or "tab";
// UsageError naming the field when it is not one character other than a quote or line break.
char delimiter_of(const std::string& d);

// read_table, then one warning naming `what` when lines were skipped.
Table read_reporting(const std::vector<std::string>& paths, const ReadOptions& layout,
                     const std::string& what, const std::function<void(const std::string&)>& warn);

}  // namespace deepcross
