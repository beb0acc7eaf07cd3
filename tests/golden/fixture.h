// Reader for the golden fixtures written by tests/golden/make_fixtures.py (format in
// tests/golden/README.md). Header-only, for tests.
//
//   using namespace deepcross::testing;
//   Fixture fx = Fixture::load(golden_path("mix_stacked_c1.bin"));
//   int cross_layers = fx.config()["cross_layers"];
//   const auto& w = fx.at("param.cross.0.U");   // w.shape == {K, D, r}, w.values row-major
//   const auto& g = fx.at("grad.cross.0.U");
//
// File layout (all little-endian):
//   magic "DCFIXT1\n" (8 bytes), then records to the end of the file, each
//   u32 name_len | name (UTF-8) | u8 dtype | u32 ndim | i64 dims[ndim] | data
//   dtype 0 = float32, 1 = int64, 2 = float64 (product(dims) elements each), 3 = raw bytes
//   (dims = [n_bytes]).
// The loader distrusts every length: each is checked against the bytes that remain, and any
// problem throws std::runtime_error naming the path and the byte offset.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace deepcross::testing {

// One record. Numeric data (float32, int64, float64) is widened to double in `values`
// (row-major); raw bytes (dtype 3) are kept in `bytes` and `values` stays empty.
struct FixtureTensor {
  static constexpr int kFloat32 = 0;
  static constexpr int kInt64 = 1;
  static constexpr int kFloat64 = 2;
  static constexpr int kBytes = 3;

  int dtype = kFloat32;
  std::vector<int64_t> shape;
  std::vector<double> values;
  std::string bytes;

  // product(shape); 1 for a scalar (ndim 0).
  size_t numel() const {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return n;
  }
};

class Fixture {
 public:
  // Reads and validates a whole fixture file. Throws std::runtime_error ("path: byte N: ...")
  // on a missing file, a bad magic, a truncated or inconsistent record, or a repeated name.
  static Fixture load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open fixture file");
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error(path + ": read error");
    Fixture fx;
    Cursor c{path, data, 0};
    static constexpr char kMagic[] = "DCFIXT1\n";
    if (data.size() < 8 || std::memcmp(data.data(), kMagic, 8) != 0) {
      c.fail("bad magic, expected \"DCFIXT1\\n\" (not a deepcross fixture, or truncated)");
    }
    c.pos = 8;
    while (c.pos < data.size()) {
      const size_t record_start = c.pos;
      const uint32_t name_len = c.u32("name length");
      const std::string name = c.take(name_len, "record name");
      FixtureTensor t;
      t.dtype = c.u8("dtype of '" + name + "'");
      if (t.dtype < FixtureTensor::kFloat32 || t.dtype > FixtureTensor::kBytes) {
        c.pos -= 1;
        c.fail("record '" + name + "': unknown dtype " + std::to_string(t.dtype) +
               " (expected 0..3)");
      }
      const uint32_t ndim = c.u32("ndim of '" + name + "'");
      if (ndim > kMaxDims) {
        c.pos -= 4;
        c.fail("record '" + name + "': ndim " + std::to_string(ndim) + " exceeds " +
               std::to_string(kMaxDims));
      }
      const std::string file_bytes = std::to_string(data.size()) + "-byte file";
      size_t count = 1;
      for (uint32_t i = 0; i < ndim; ++i) {
        const int64_t dim = c.i64("dim " + std::to_string(i) + " of '" + name + "'");
        if (dim < 0) {
          c.pos -= 8;
          c.fail("record '" + name + "': dim " + std::to_string(i) + " = " + std::to_string(dim) +
                 " is negative");
        }
        if (static_cast<uint64_t>(dim) > data.size()) {
          c.pos -= 8;
          c.fail("record '" + name + "': dim " + std::to_string(i) + " = " + std::to_string(dim) +
                 " cannot fit in the " + file_bytes + " (truncated or corrupt)");
        }
        t.shape.push_back(dim);
        count *= static_cast<size_t>(dim);
        if (count > data.size()) {
          c.pos -= 8;
          c.fail("record '" + name + "': " + std::to_string(count) +
                 "+ elements cannot fit in the " + file_bytes + " (truncated or corrupt)");
        }
      }
      if (t.dtype == FixtureTensor::kBytes) {
        if (ndim != 1)
          c.fail("record '" + name + "': raw bytes need ndim 1, found " + std::to_string(ndim));
        t.bytes = c.take(count, "bytes of '" + name + "'");
      } else {
        const size_t width = t.dtype == FixtureTensor::kFloat32 ? 4 : 8;
        const std::string raw = c.take(count * width, "data of '" + name + "'");
        t.values.resize(count);
        for (size_t i = 0; i < count; ++i) t.values[i] = decode(raw.data() + i * width, t.dtype);
      }
      if (!fx.records_.emplace(name, std::move(t)).second) {
        c.pos = record_start;
        c.fail("duplicate record '" + name + "'");
      }
      fx.order_.push_back(name);
    }
    fx.path_ = path;
    return fx;
  }

  bool has(const std::string& name) const { return records_.count(name) != 0; }

  // The record called `name`; throws std::runtime_error naming it and the file if absent.
  const FixtureTensor& at(const std::string& name) const {
    auto it = records_.find(name);
    if (it == records_.end()) {
      throw std::runtime_error(path_ + ": no record named '" + name + "'");
    }
    return it->second;
  }

  // Record names in file order.
  std::vector<std::string> names() const { return order_; }

  // The "config" record parsed as JSON; throws std::runtime_error if absent or not JSON.
  nlohmann::json config() const {
    const FixtureTensor& t = at("config");
    if (t.dtype != FixtureTensor::kBytes) {
      throw std::runtime_error(path_ + ": record 'config' is not raw bytes (dtype 3)");
    }
    try {
      return nlohmann::json::parse(t.bytes);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path_ + ": record 'config' is not valid JSON: " + e.what());
    }
  }

  const std::string& path() const { return path_; }

 private:
  static constexpr uint32_t kMaxDims = 8;

  // A read position over the file's bytes; every read checks the bytes that remain.
  struct Cursor {
    const std::string& path;
    const std::string& data;
    size_t pos;

    [[noreturn]] void fail(const std::string& what) const {
      throw std::runtime_error(path + ": byte " + std::to_string(pos) + ": " + what);
    }
    std::string take(size_t n, const std::string& what) {
      if (n > data.size() - pos) {
        fail("truncated: " + what + " needs " + std::to_string(n) + " bytes, " +
             std::to_string(data.size() - pos) + " remain");
      }
      std::string out = data.substr(pos, n);
      pos += n;
      return out;
    }
    uint64_t little(size_t n, const std::string& what) {
      const std::string b = take(n, what);
      uint64_t v = 0;
      for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
      return v;
    }
    uint8_t u8(const std::string& what) { return static_cast<uint8_t>(little(1, what)); }
    uint32_t u32(const std::string& what) { return static_cast<uint32_t>(little(4, what)); }
    int64_t i64(const std::string& what) { return static_cast<int64_t>(little(8, what)); }
  };

  // One little-endian element of the given dtype, widened to double.
  static double decode(const char* p, int dtype) {
    uint64_t bits = 0;
    const size_t width = dtype == FixtureTensor::kFloat32 ? 4 : 8;
    for (size_t i = 0; i < width; ++i) {
      bits |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
    if (dtype == FixtureTensor::kFloat32) {
      return std::bit_cast<float>(static_cast<uint32_t>(bits));
    }
    if (dtype == FixtureTensor::kInt64) return static_cast<double>(static_cast<int64_t>(bits));
    return std::bit_cast<double>(bits);
  }

  std::string path_;
  std::map<std::string, FixtureTensor> records_;
  std::vector<std::string> order_;
};

// DEEPCROSS_TESTDATA_DIR "/golden/" + file.
inline std::string golden_path(const std::string& file) {
  return std::string(DEEPCROSS_TESTDATA_DIR) + "/golden/" + file;
}

}  // namespace deepcross::testing
