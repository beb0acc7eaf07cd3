// The binary data cache of `train --cache DIR`: the fitted preprocessing and the encoded
// training, validation and test rows of one ingest, so that a later run on the same files
// with the same reading and preprocessing options skips reading, parsing, fitting and
// encoding.
//
// A cache entry is one file in DIR, `NAME.HEX.dcache` (NAME: the --data file's name; HEX: 16
// hex digits of the SHA-256 of the key), in the model file container (io/model_file.h:
// checksummed, written atomically). The key names everything the encoded rows depend on:
//   - each source file's absolute path, size, modification time (ns), status-change time
//     (ctime, ns), device and inode — editing, replacing or touching a file changes the key,
//     also an edit that keeps the size and sets the modification time back (the ctime
//     cannot be set back; the contents themselves are not hashed);
//   - the layout (format, label, column roles, classes, bad-lines policy);
//   - the preprocessing (min-count, quantiles, quantile-sample, seed — the seed also draws the
//     split of --data when --valid/--test are absent);
//   - kDataCacheVersion, raised whenever the encoding or this file layout changes.
// Different options give different entries, side by side; nothing is ever evicted (delete DIR
// at any time). A stale key simply names another file. An entry that cannot be read, fails
// its checksum, or holds anything inconsistent (shapes, ids outside a vocabulary, labels
// outside the classes) is reported as a reason and rebuilt, never trusted.
//
//   auto key = data_cache_key("cache", {{"data", "train.tsv"}}, layout, preprocess);
//   std::string why;
//   if (auto hit = load_data_cache(*key, &why)) { ... } else { ...; save_data_cache(*key, d); }
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/preprocess.h"
#include "data/reader.h"
#include "io/model_file.h"

namespace deepcross {

constexpr int kDataCacheVersion = 1;

// What train's ingest produces (and a cache entry holds).
struct IngestedData {
  Preprocessor preprocessor;
  EncodedData train, valid, test;
  nlohmann::json data;                // {"rows", "sha256"} of the --data file(s)
  std::vector<std::string> warnings;  // reported during the ingest; repeated on a cache hit
  size_t parsed_bytes = 0;            // the parsed tables' size at their peak (0 on a hit)
};

struct DataCacheKey {
  nlohmann::json key;  // what the entry depends on (see above)
  std::string path;    // DIR/NAME.HEX.dcache
};

// The key of an ingest of `sources` ((role, path) pairs: "data", "valid", "test"), or nullopt
// when a source cannot be examined (stat fails: the reader then reports it properly).
std::optional<DataCacheKey> data_cache_key(
    const std::string& dir, const std::vector<std::pair<std::string, std::string>>& sources,
    const ReadOptions& layout, const PreprocessOptions& preprocess);

// The entry of `key`, or nullopt with `why_not` saying why ("no entry", or what was wrong
// with it). Never throws for a bad entry.
std::optional<IngestedData> load_data_cache(const DataCacheKey& key, std::string* why_not);

// The checks and decoding of load_data_cache on a container already read or parsed
// (io/model_file.h), against `key` (DataCacheKey::key); the fuzzing entry point.
std::optional<IngestedData> data_cache_from_file(const ModelFile& f, const nlohmann::json& key,
                                                 std::string* why_not);

// Writes the entry (creating DIR if needed), atomically. DataError naming the path on failure.
void save_data_cache(const DataCacheKey& key, const IngestedData& data);

}  // namespace deepcross
