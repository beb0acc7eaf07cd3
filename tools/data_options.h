// Reading data files the way the flags (train) or the model (eval, predict) say.
#pragma once

#include <string>
#include <vector>

#include "cli/options.h"
#include "data/reader.h"
#include "data/table.h"

namespace deepcross {

// The layout flags of `train`: --format --label --numeric --categorical --ignore --classes.
ReadOptions layout_from_options(const Options& options);
// --delimiter as a character (0 when not given); UsageError naming the flag when it is not one
// character (or \t, tab).
char delimiter_option(const Options& options);
// Reads `paths`, reporting skipped lines (under --bad-lines skip) as a warning naming `what`:
// printed at once, or appended to `warnings` when given.
Table read_checked(const std::vector<std::string>& paths, const ReadOptions& layout,
                   const std::string& what, std::vector<std::string>* warnings = nullptr);

}  // namespace deepcross
