// libFuzzer target for the whole model-loading path: io/model_file.h's parse_model_file (the
// container), then io/model_io.h's trained_model_from_file (metadata, configuration, field
// list, quantiles, vocabularies, every tensor's presence, dtype and shape), then what `info`
// and `predict` do with a model that loaded: model_info() as JSON text, and two rows encoded
// and scored in eval mode.
//
// A flipped byte almost always fails the checksum, so each input is tried twice: as it is
// (the envelope checks: magic, version, flags, size, checksum) and, when that differs,
// repaired (header's file-size field set to the real size, trailing CRC-32 recomputed), which
// takes mutations past the checksum to the JSON, dtype, shape and vocabulary checks.
//
// Anything but success or DataError is a bug: a crash, a sanitizer report, another exception
// type, a DC_CHECK abort, an allocation beyond libFuzzer's -malloc_limit_mb (a small file must
// not make the loader allocate without bound).
//
//   scripts/fuzz.sh 60      # builds with clang into build-fuzz and runs every target 60 s
//   build-fuzz/fuzz/model_fuzz -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=512 \
//     CORPUS_DIR tests/testdata/fuzz/model
#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "deepcross/error.h"
#include "io/model_file.h"
#include "io/data_cache.h"
#include "io/model_io.h"

namespace {

constexpr size_t kSizeField = 16;  // u64 file size (io/model_file.h, "Byte layout")
constexpr size_t kHeaderSize = 24;
constexpr size_t kChecksumSize = 4;

// The bytes with the size field and the checksum made consistent with the rest; false when
// the input is too short to have them or already had them right.
bool repair(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (in.size() < kHeaderSize + kChecksumSize) return false;
  out.assign(in.begin(), in.end());
  const uint64_t size = out.size();
  std::memcpy(out.data() + kSizeField, &size, sizeof size);
  const uint32_t crc = static_cast<uint32_t>(crc32_z(0, out.data(), out.size() - kChecksumSize));
  std::memcpy(out.data() + out.size() - kChecksumSize, &crc, sizeof crc);
  return !std::equal(out.begin(), out.end(), in.begin());
}

// Two rows in the model's own field names: missing values, and values that the vocabulary
// holds (its first kept value) or not.
deepcross::Table rows_for(const deepcross::Preprocessor& pre) {
  deepcross::Table t;
  t.rows = 2;
  for (const std::string& name : pre.numeric_names()) {
    t.numeric.push_back({name, {std::numeric_limits<float>::quiet_NaN(), 1.5f}});
  }
  for (size_t j = 0; j < pre.categorical_names().size(); ++j) {
    const auto& values = pre.vocabularies()[j].values();
    t.categorical.push_back(
        {pre.categorical_names()[j], {"", values.empty() ? "x" : values.front()}, {0, 1}});
  }
  t.sources = {"fuzz"};
  t.source_rows = {2};
  return t;
}

// A data cache entry (io/data_cache.h, the same container): checked against the key it
// carries; one that is accepted must hold nothing the trainer could not use.
void load_cache(const deepcross::ModelFile& f) {
  if (!f.metadata.is_object() || !f.metadata.contains("key")) return;
  std::string why;
  const auto d = deepcross::data_cache_from_file(f, f.metadata["key"], &why);
  if (!d) return;
  const std::vector<int> vocab = d->preprocessor.vocab_sizes();
  for (const deepcross::EncodedData* e : {&d->train, &d->valid, &d->test}) {
    if (e->x_num.size() != e->rows * d->preprocessor.numeric_names().size() ||
        e->x_cat.size() != e->rows * vocab.size() || (e->has_labels && e->labels.size() != e->rows)) {
      std::abort();
    }
    for (size_t i = 0; i < e->x_cat.size(); ++i) {
      if (e->x_cat[i] < 0 || e->x_cat[i] >= vocab[i % vocab.size()]) std::abort();
    }
  }
}

void load(std::span<const uint8_t> bytes) {
  deepcross::TrainedModel tm;
  try {
    const deepcross::ModelFile f = deepcross::parse_model_file(bytes, "fuzz");
    load_cache(f);
    tm = deepcross::trained_model_from_file(f, "fuzz");
  } catch (const deepcross::DataError&) {
    return;
  }
  // Loaded: what `info` prints must be writable JSON, and the model must score rows.
  (void)deepcross::model_info(tm).dump();
  const deepcross::EncodedData x = tm.preprocessor.encode(rows_for(tm.preprocessor));
  if (x.rows != 2 || x.x_num.size() != 2 * tm.preprocessor.numeric_names().size() ||
      x.x_cat.size() != 2 * tm.preprocessor.categorical_names().size()) {
    std::abort();
  }
  for (size_t j = 0; j < tm.preprocessor.categorical_names().size(); ++j) {
    for (size_t r = 0; r < 2; ++r) {
      const int32_t id = x.x_cat[r * tm.preprocessor.categorical_names().size() + j];
      if (id < 0 || id >= tm.preprocessor.vocabularies()[j].size()) std::abort();
    }
  }
  for (float v : x.x_num) {
    if (!std::isfinite(v)) std::abort();  // missing becomes the mean, then a quantile
  }
  tm.model->reserve(2);
  deepcross::Batch<float> batch;
  batch.size = 2;
  batch.x_num = x.x_num.data();
  batch.x_cat = x.x_cat.data();
  const auto logits = tm.model->forward(batch, deepcross::Mode::kEval);
  if (logits.rows != 2 || logits.cols != tm.model->outputs()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  load(in);
  std::vector<uint8_t> repaired;
  if (repair(in, repaired)) load(repaired);
  return 0;
}
