// The data flags of `train` as a DataSpec, and library errors retold in flag names.
#pragma once

#include <string>
#include <utility>

#include "cli/options.h"
#include "deepcross/error.h"
#include "deepcross/training.h"

namespace deepcross {

// --data --valid --test --format --label --numeric --categorical --ignore --bad-lines --cache.
DataSpec data_spec_from_options(const Options& options);

// The flag of a configuration field ("model.embed_max" or "embed_max" -> "--embed-max",
// "data.train" -> "--data"), or "" when `options` has no such flag.
std::string flag_of_field(const Options& options, const std::string& field);

// Runs fn(); a UsageError naming a configuration field is rethrown naming its flag.
template <typename Fn>
auto with_flag_names(const Options& options, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const UsageError& e) {
    const std::string flag = flag_of_field(options, e.where());
    if (flag.empty()) throw;
    throw UsageError(e.what(), flag);
  }
}

}  // namespace deepcross
