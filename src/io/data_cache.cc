#include "io/data_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "data/sha256.h"
#include "deepcross/error.h"
#include "io/model_file.h"
#include "io/model_io.h"

namespace deepcross {
namespace {

constexpr const char* kCacheFormat = "deepcross-data-cache";
constexpr const char* kParts[] = {"train", "valid", "test"};

EncodedData& part(IngestedData& d, int i) { return i == 0 ? d.train : i == 1 ? d.valid : d.test; }
const EncodedData& part(const IngestedData& d, int i) {
  return i == 0 ? d.train : i == 1 ? d.valid : d.test;
}

// Raised for anything wrong inside an entry; turned into `why_not`.
struct BadEntry {
  std::string what;
};

void require(bool ok, const std::string& what) {
  if (!ok) throw BadEntry{what};
}

const NamedTensor& tensor_of(const ModelFile& f, const std::string& name, DType dtype,
                             const std::vector<int64_t>& shape) {
  const NamedTensor* t = f.find(name);
  require(t != nullptr, "no tensor " + name);
  require(t->dtype == dtype && t->shape == shape, "tensor " + name + " has the wrong type or shape");
  return *t;
}

EncodedData read_part(const ModelFile& f, const std::string& name, const nlohmann::json& meta,
                      const Preprocessor& pre, int classes) {
  EncodedData d;
  const int64_t rows = meta.at("rows").get<int64_t>();
  require(rows >= 0 && rows <= INT32_MAX, name + ": row count out of range");
  d.rows = static_cast<size_t>(rows);
  d.has_labels = meta.at("has_labels").get<bool>();
  d.num_numeric = static_cast<int>(pre.numeric_names().size());
  d.num_categorical = static_cast<int>(pre.categorical_names().size());
  d.x_num = tensor_of(f, name + ".x_num", DType::kF32, {rows, d.num_numeric}).as_f32();
  d.x_cat = tensor_of(f, name + ".x_cat", DType::kI32, {rows, d.num_categorical}).as_i32();
  d.labels = tensor_of(f, name + ".labels", DType::kF32, {d.has_labels ? rows : 0}).as_f32();
  d.oov_rows =
      tensor_of(f, name + ".oov_rows", DType::kI64, {static_cast<int64_t>(d.num_categorical)})
          .as_i64();
  // Everything the model will index or trust: ids inside their vocabulary, finite transformed
  // values, labels among the classes.
  const std::vector<int> vocab = pre.vocab_sizes();
  for (size_t r = 0; d.num_categorical > 0 && r < d.rows; ++r) {
    const int32_t* ids = d.x_cat.data() + r * d.num_categorical;
    for (int j = 0; j < d.num_categorical; ++j) {
      if (ids[j] < 0 || ids[j] >= vocab[j]) throw BadEntry{name + ": an id outside its vocabulary"};
    }
  }
  for (float v : d.x_num) {
    if (!std::isfinite(v)) throw BadEntry{name + ": a non-finite numeric value"};
  }
  const float top = static_cast<float>(std::max(1, classes - 1));
  for (float y : d.labels) {
    if (!(y >= 0 && y <= top && y == std::floor(y))) throw BadEntry{name + ": a label outside the classes"};
  }
  return d;
}

}  // namespace

std::optional<DataCacheKey> data_cache_key(
    const std::string& dir, const std::vector<std::pair<std::string, std::string>>& sources,
    const ReadOptions& layout, const PreprocessOptions& preprocess) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [role, path] : sources) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    if (ec) return std::nullopt;
    files.push_back({{"role", role},
                     {"path", absolute.lexically_normal().string()},
                     {"size", static_cast<int64_t>(st.st_size)},
                     {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                                      st.st_mtim.tv_nsec},
                     {"ctime_ns", static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 +
                                      st.st_ctim.tv_nsec},
                     {"device", static_cast<uint64_t>(st.st_dev)},
                     {"inode", static_cast<uint64_t>(st.st_ino)}});
  }
  nlohmann::json layout_json = layout_to_json(layout);
  layout_json["bad_lines"] = layout.bad_lines == BadLines::kSkip ? "skip" : "error";
  DataCacheKey k;
  k.key = {{"version", kDataCacheVersion},
           {"sources", files},
           {"layout", layout_json},
           {"preprocess",
            {{"min_count", preprocess.min_count},
             {"quantiles", preprocess.quantiles},
             {"quantile_sample", preprocess.quantile_sample},
             {"seed", preprocess.seed}}}};
  Sha256 h;
  h.update(k.key.dump());
  const std::string name =
      sources.empty() ? std::string("data")
                      : std::filesystem::path(sources.front().second).filename().string();
  k.path = (std::filesystem::path(dir) / (name + "." + h.hex_digest().substr(0, 16) + ".dcache"))
               .string();
  return k;
}

std::optional<IngestedData> load_data_cache(const DataCacheKey& key, std::string* why_not) {
  std::error_code ec;
  if (!std::filesystem::exists(key.path, ec)) {
    *why_not = "no entry";
    return std::nullopt;
  }
  try {
    return data_cache_from_file(read_model_file(key.path), key.key, why_not);
  } catch (const Error& e) {
    // The container is the model file's; the user knows this file as a cache entry.
    std::string what = e.what();
    for (size_t at = what.find("model file"); at != std::string::npos;
         at = what.find("model file", at)) {
      what.replace(at, 10, "data cache entry");
    }
    *why_not = what + " (" + e.where() + ")";
  }
  return std::nullopt;
}

std::optional<IngestedData> data_cache_from_file(const ModelFile& f, const nlohmann::json& key,
                                                 std::string* why_not) {
  const std::string where = f.source.empty() ? std::string("data cache") : f.source;
  try {
    const nlohmann::json& meta = f.metadata;
    require(meta.is_object() && meta.value("format", "") == kCacheFormat,
            "not a deepcross data cache");
    require(meta.at("key") == key, "its key differs (another ingest)");
    IngestedData d;
    d.preprocessor = get_preprocessor(f, where);
    const int classes = key.at("layout").at("classes").get<int>();
    require(classes >= 1, "bad class count in its key");
    for (int i = 0; i < 3; ++i) {
      part(d, i) = read_part(f, kParts[i], meta.at("parts").at(kParts[i]), d.preprocessor, classes);
    }
    d.data = meta.at("data");
    d.warnings = meta.at("warnings").get<std::vector<std::string>>();
    return d;
  } catch (const BadEntry& e) {
    *why_not = e.what;
  } catch (const Error& e) {
    *why_not = std::string(e.what()) + " (" + e.where() + ")";
  } catch (const nlohmann::json::exception& e) {
    *why_not = std::string("bad metadata: ") + e.what();
  }
  return std::nullopt;
}

void save_data_cache(const DataCacheKey& key, const IngestedData& d) {
  ModelFile f;
  nlohmann::json parts = nlohmann::json::object();
  for (int i = 0; i < 3; ++i) {
    const EncodedData& e = part(d, i);
    const auto rows = static_cast<int64_t>(e.rows);
    const std::string name = kParts[i];
    parts[name] = {{"rows", e.rows}, {"has_labels", e.has_labels}};
    f.tensors.push_back(NamedTensor::f32(name + ".x_num", {rows, e.num_numeric}, e.x_num));
    f.tensors.push_back(NamedTensor::i32(name + ".x_cat", {rows, e.num_categorical}, e.x_cat));
    f.tensors.push_back(NamedTensor::f32(name + ".labels", {e.has_labels ? rows : 0}, e.labels));
    f.tensors.push_back(NamedTensor::i64(name + ".oov_rows",
                                         {static_cast<int64_t>(e.oov_rows.size())}, e.oov_rows));
  }
  f.metadata = {{"format", kCacheFormat},
                {"key", key.key},
                {"parts", parts},
                {"data", d.data},
                {"warnings", d.warnings}};
  put_preprocessor(f, d.preprocessor, ModelConfig{}.embed_max);
  const std::filesystem::path dir = std::filesystem::path(key.path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw DataError("cannot create the data cache folder: " + ec.message(), dir.string());
  }
  write_model_file(key.path, f);
}

}  // namespace deepcross
