#include "io/model_file.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_set>

#include "core/check.h"
#include "core/text.h"
#include "deepcross/error.h"
#include "io/whole_file.h"

namespace deepcross {

static_assert(std::endian::native == std::endian::little,
              "the model file is little-endian and read by memcpy; big-endian hosts are not "
              "supported");

namespace {

constexpr uint8_t kMagic[8] = {'D', 'E', 'E', 'P', 'C', 'R', 'S', 0};
constexpr uint64_t kHeaderSize = 24;                   // magic, version, flags, file size
constexpr uint64_t kChecksumSize = 4;                  // trailing CRC-32
constexpr uint64_t kMinEntrySize = 4 + 1 + 4 + 8 + 8;  // empty name, ndim 0
// Header, metadata length, tensor count, checksum: the smallest file that can be valid.
constexpr uint64_t kMinFileSize = kHeaderSize + 8 + 8 + kChecksumSize;
// Largest element count accepted: keeps numel * 8 bytes inside int64.
constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / 8;

bool valid_dtype(uint8_t t) { return t <= static_cast<uint8_t>(DType::kU8); }

// CRC-32 continued over `data`; start from 0. zlib's crc32_z takes a size_t length, and resets
// to its initial value when given a null buffer, so empty pieces are skipped.
uint32_t crc32_of(uint32_t crc, std::span<const uint8_t> data) {
  if (data.empty()) return crc;
  return static_cast<uint32_t>(crc32_z(crc, data.data(), data.size()));
}

// product(dims), or nullopt when a dim is negative or the product exceeds kMaxElements.
std::optional<uint64_t> checked_numel(std::span<const int64_t> dims) {
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > kMaxElements / static_cast<uint64_t>(d)) return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

std::string shape_text(std::span<const int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

uint64_t align_up(uint64_t x) {
  return (x + kModelAlignment - 1) / kModelAlignment * kModelAlignment;
}

template <typename T>
void put_le(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

template <typename T>
NamedTensor make_tensor(std::string name, DType dtype, std::vector<int64_t> shape,
                        std::span<const T> v) {
  std::optional<uint64_t> n = checked_numel(shape);
  DC_CHECK(n.has_value() && *n == v.size() && shape.size() <= kModelMaxDims);
  NamedTensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(v.size_bytes());
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), v.size_bytes());
  return t;
}

template <typename T>
std::vector<T> copy_as(const NamedTensor& t, DType want) {
  if (t.dtype != want) {
    throw DataError("tensor \"" + t.name + "\" has dtype " + std::string(dtype_name(t.dtype)) +
                        ", expected " + std::string(dtype_name(want)),
                    "tensor " + t.name);
  }
  DC_CHECK(t.bytes.size() == static_cast<uint64_t>(t.numel()) * sizeof(T));
  std::vector<T> out(t.bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

// ---- Writing -------------------------------------------------------------------------------

// The file as pieces: `head` (header through directory and first padding), then for each
// tensor its padding and its bytes, then the checksum. Tensor bytes are referenced, not copied.
struct Encoded {
  std::vector<uint8_t> head;
  std::vector<uint8_t> checksum;
  std::vector<std::span<const uint8_t>> pieces;
};

constexpr uint8_t kZeros[kModelAlignment] = {};

void check_for_writing(const ModelFile& m, std::string_view name) {
  const std::string where(name);
  std::unordered_set<std::string_view> seen;
  for (const NamedTensor& t : m.tensors) {
    const std::string what = "cannot write model file: tensor \"" + t.name + "\" ";
    if (t.name.empty())
      throw DataError("cannot write model file: a tensor has an empty name", where);
    if (!valid_utf8(t.name) || t.name.size() > std::numeric_limits<uint32_t>::max()) {
      throw DataError(what + "has a name that is not valid UTF-8", where);
    }
    if (!seen.insert(t.name).second) throw DataError(what + "appears twice", where);
    if (!valid_dtype(static_cast<uint8_t>(t.dtype)))
      throw DataError(what + "has no valid dtype", where);
    if (t.shape.size() > kModelMaxDims) {
      throw DataError(what + "has " + std::to_string(t.shape.size()) + " dimensions, at most " +
                          std::to_string(kModelMaxDims) + " are allowed",
                      where);
    }
    std::optional<uint64_t> n = checked_numel(t.shape);
    if (!n) throw DataError(what + "has an invalid shape " + shape_text(t.shape), where);
    if (*n * dtype_size(t.dtype) != t.bytes.size()) {
      throw DataError(what + "holds " + std::to_string(t.bytes.size()) + " bytes, but shape " +
                          shape_text(t.shape) + " of " + std::string(dtype_name(t.dtype)) +
                          " needs " + std::to_string(*n * dtype_size(t.dtype)),
                      where);
    }
  }
}

void encode(const ModelFile& m, std::string_view name, Encoded& e) {
  check_for_writing(m, name);
  std::string json;
  try {
    json = m.metadata.dump();
  } catch (const nlohmann::json::exception& ex) {
    throw DataError(
        std::string("cannot write model file: metadata cannot be written as JSON: ") + ex.what(),
        std::string(name));
  }
  std::vector<uint8_t>& h = e.head;
  h.insert(h.end(), kMagic, kMagic + 8);
  put_le<uint32_t>(h, kModelFormatVersion);
  put_le<uint32_t>(h, 0);  // flags
  put_le<uint64_t>(h, 0);  // file size, patched below
  put_le<uint64_t>(h, json.size());
  h.insert(h.end(), json.begin(), json.end());
  put_le<uint64_t>(h, m.tensors.size());
  uint64_t dir_size = 0;
  for (const NamedTensor& t : m.tensors)
    dir_size += kMinEntrySize + t.name.size() + 8 * t.shape.size();
  uint64_t offset = align_up(h.size() + dir_size);
  std::vector<uint64_t> offsets;
  for (const NamedTensor& t : m.tensors) {
    put_le<uint32_t>(h, static_cast<uint32_t>(t.name.size()));
    h.insert(h.end(), t.name.begin(), t.name.end());
    h.push_back(static_cast<uint8_t>(t.dtype));
    put_le<uint32_t>(h, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) put_le<int64_t>(h, d);
    put_le<uint64_t>(h, offset);
    put_le<uint64_t>(h, t.bytes.size());
    offsets.push_back(offset);
    offset = align_up(offset + t.bytes.size());
  }
  // Data ends after the last tensor, unpadded; the checksum follows.
  uint64_t data_end = offsets.empty() ? h.size() : offsets.back() + m.tensors.back().bytes.size();
  if (!offsets.empty()) h.resize(offsets.front(), 0);
  const uint64_t file_size = data_end + kChecksumSize;
  std::memcpy(h.data() + 16, &file_size, 8);

  e.pieces.push_back(h);
  uint64_t pos = h.size();
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    DC_CHECK(offsets[i] >= pos && offsets[i] - pos < kModelAlignment);
    e.pieces.push_back(std::span<const uint8_t>(kZeros, offsets[i] - pos));
    e.pieces.push_back(m.tensors[i].bytes);
    pos = offsets[i] + m.tensors[i].bytes.size();
  }
  uint32_t crc = 0;
  for (std::span<const uint8_t> p : e.pieces) crc = crc32_of(crc, p);
  put_le<uint32_t>(e.checksum, crc);
  e.pieces.push_back(e.checksum);
}

// ---- Reading -------------------------------------------------------------------------------

// A cursor over [0, end) that refuses to read past `end` and names the byte of every error.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, uint64_t pos, uint64_t end, std::string_view name)
      : bytes_(bytes), pos_(pos), end_(end), name_(name) {}

  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    throw DataError(what, name_ + " at byte " + std::to_string(at));
  }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return end_ - pos_; }

  template <typename T>
  T read(const char* field) {
    if (remaining() < sizeof(T)) {
      fail(pos_, std::string("model file ends inside the ") + field + " (" +
                     std::to_string(sizeof(T)) + " bytes needed, " + std::to_string(remaining()) +
                     " left)");
    }
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  // `n` bytes; `n` came from the file, so it is compared with what remains first.
  std::span<const uint8_t> take(uint64_t n, uint64_t field_pos, const std::string& field) {
    if (n > remaining()) {
      fail(field_pos, field + " is " + std::to_string(n) + " bytes, but only " +
                          std::to_string(remaining()) + " bytes remain");
    }
    std::span<const uint8_t> s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t pos_, end_;
  std::string name_;
};

struct Entry {
  std::string_view name;
  uint8_t dtype;
  std::vector<int64_t> shape;
  uint64_t offset, length;
  uint64_t entry_pos, offset_pos;  // where the entry and its offset field are, for errors
};

// Magic, version, flags, size and checksum: everything before the contents are looked at.
void check_envelope(std::span<const uint8_t> b, const Cursor& c) {
  const uint64_t size = b.size();
  if (size == 0) c.fail(0, "model file is empty");
  if (std::memcmp(b.data(), kMagic, std::min<uint64_t>(size, 8)) != 0) {
    std::string hint = size >= 2 && b[0] == 0x1f && b[1] == 0x8b ? " (it is gzip-compressed)" : "";
    c.fail(0, "not a deepcross model file" + hint);
  }
  auto truncated_header = [&] {
    c.fail(size, "model file is truncated: " + std::to_string(size) +
                     " bytes, its header alone needs " + std::to_string(kHeaderSize));
  };
  if (size < 12) truncated_header();
  uint32_t version;
  std::memcpy(&version, b.data() + 8, 4);
  if (version != kModelFormatVersion) {
    c.fail(8, "model format version " + std::to_string(version) +
                  " is not supported by this deepcross (reads version " +
                  std::to_string(kModelFormatVersion) + ")");
  }
  if (size < kHeaderSize) truncated_header();
  uint32_t flags;
  uint64_t declared;
  std::memcpy(&flags, b.data() + 12, 4);
  std::memcpy(&declared, b.data() + 16, 8);
  if (flags != 0)
    c.fail(12, "model file has unknown flags " + std::to_string(flags) + " (expected 0)");
  if (declared > size) {
    c.fail(size, "model file is truncated: its header says " + std::to_string(declared) +
                     " bytes, the file has " + std::to_string(size));
  }
  if (declared < size) {
    c.fail(declared, "model file has " + std::to_string(size - declared) +
                         " unexpected bytes after its end (its header says " +
                         std::to_string(declared) + " bytes)");
  }
  if (size < kMinFileSize) {
    c.fail(16, "model file size " + std::to_string(size) + " is below the minimum of " +
                   std::to_string(kMinFileSize) + " bytes");
  }
  uint32_t stored;
  std::memcpy(&stored, b.data() + size - kChecksumSize, 4);
  if (stored != crc32_of(0, b.first(size - kChecksumSize))) {
    c.fail(size - kChecksumSize, "model file is corrupt (checksum mismatch)");
  }
}

nlohmann::json parse_metadata(std::span<const uint8_t> text, uint64_t at, const Cursor& c) {
  bool too_deep = false;
  auto limit_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kModelMaxJsonDepth) too_deep = true;
    return !too_deep;
  };
  const char* first = reinterpret_cast<const char*>(text.data());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(first, first + text.size(), limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    std::string why = e.what();
    if (size_t p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    c.fail(at + (e.byte > 0 ? e.byte - 1 : 0), "model metadata is not valid JSON: " + why);
  } catch (const nlohmann::json::exception& e) {
    // The parser's other errors, e.g. out_of_range 406 "number overflow parsing '1e999'":
    // a number beyond double's range. The byte is that of the quoted text, when found.
    std::string why = e.what();
    if (size_t p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    uint64_t byte = at;
    const size_t q = why.find('\'');
    const size_t q2 = q == std::string::npos ? q : why.find('\'', q + 1);
    if (q2 != std::string::npos && q2 > q + 1) {
      const size_t hit = std::string_view(first, text.size()).find(why.substr(q + 1, q2 - q - 1));
      if (hit != std::string_view::npos) byte = at + hit;
    }
    c.fail(byte, "model metadata is not valid JSON: " + why);
  }
  if (too_deep) {
    c.fail(at,
           "model metadata nests deeper than " + std::to_string(kModelMaxJsonDepth) + " levels");
  }
  return j;
}

Entry read_entry(Cursor& c) {
  Entry e;
  e.entry_pos = c.pos();
  const uint32_t name_len = c.read<uint32_t>("tensor name length");
  std::span<const uint8_t> name = c.take(name_len, e.entry_pos, "tensor name");
  e.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());
  const std::string who = "tensor \"" + std::string(e.name) + "\" ";
  if (e.name.empty()) c.fail(e.entry_pos, "tensor name is empty");
  if (!valid_utf8(e.name)) c.fail(e.entry_pos + 4, "tensor name is not valid UTF-8");
  const uint64_t dtype_pos = c.pos();
  e.dtype = c.read<uint8_t>("tensor dtype");
  if (!valid_dtype(e.dtype))
    c.fail(dtype_pos, who + "has unknown dtype " + std::to_string(e.dtype));
  const uint64_t ndim_pos = c.pos();
  const uint32_t ndim = c.read<uint32_t>("tensor rank");
  if (ndim > kModelMaxDims) {
    c.fail(ndim_pos, who + "has " + std::to_string(ndim) + " dimensions, at most " +
                         std::to_string(kModelMaxDims) + " are allowed");
  }
  for (uint32_t i = 0; i < ndim; ++i) e.shape.push_back(c.read<int64_t>("tensor dimensions"));
  std::optional<uint64_t> n = checked_numel(e.shape);
  if (!n) c.fail(ndim_pos + 4, who + "has an invalid shape " + shape_text(e.shape));
  e.offset_pos = c.pos();
  e.offset = c.read<uint64_t>("tensor data offset");
  const uint64_t length_pos = c.pos();
  e.length = c.read<uint64_t>("tensor data length");
  const uint64_t want = *n * dtype_size(static_cast<DType>(e.dtype));
  if (e.length != want) {
    c.fail(length_pos, who + "has " + std::to_string(e.length) + " data bytes, but shape " +
                           shape_text(e.shape) + " of " +
                           std::string(dtype_name(static_cast<DType>(e.dtype))) + " needs " +
                           std::to_string(want));
  }
  return e;
}

// Offsets aligned, inside [data_start, data_end), lengths within, no two ranges overlapping.
void check_placement(std::vector<Entry>& entries, uint64_t data_start, uint64_t data_end,
                     const Cursor& c) {
  for (const Entry& e : entries) {
    const std::string who = "tensor \"" + std::string(e.name) + "\" ";
    if (e.offset % kModelAlignment != 0) {
      c.fail(e.offset_pos, who + "data offset " + std::to_string(e.offset) +
                               " is not a multiple of " + std::to_string(kModelAlignment));
    }
    if (e.offset < data_start || e.offset > data_end || e.length > data_end - e.offset) {
      c.fail(e.offset_pos, who + "data [" + std::to_string(e.offset) + ", +" +
                               std::to_string(e.length) + ") lies outside the data area [" +
                               std::to_string(data_start) + ", " + std::to_string(data_end) + ")");
    }
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& a = *by_offset[i - 1];
    const Entry& b = *by_offset[i];
    if (a.length > 0 && b.length > 0 && a.offset + a.length > b.offset) {
      c.fail(b.offset_pos, "tensor \"" + std::string(b.name) + "\" data overlaps tensor \"" +
                               std::string(a.name) + "\"");
    }
  }
}

}  // namespace

// ---- Public API ----------------------------------------------------------------------------

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI32:
      return 4;
    case DType::kI64:
      return 8;
    case DType::kU8:
      return 1;
  }
  DC_CHECK(false && "invalid DType");
  return 0;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kI32:
      return "i32";
    case DType::kI64:
      return "i64";
    case DType::kU8:
      return "u8";
  }
  return "invalid";
}

int64_t NamedTensor::numel() const {
  std::optional<uint64_t> n = checked_numel(shape);
  DC_CHECK(n.has_value());
  return static_cast<int64_t>(*n);
}

NamedTensor NamedTensor::f32(std::string name, std::vector<int64_t> shape,
                             std::span<const float> v) {
  return make_tensor(std::move(name), DType::kF32, std::move(shape), v);
}
NamedTensor NamedTensor::f64(std::string name, std::vector<int64_t> shape,
                             std::span<const double> v) {
  return make_tensor(std::move(name), DType::kF64, std::move(shape), v);
}
NamedTensor NamedTensor::i32(std::string name, std::vector<int64_t> shape,
                             std::span<const int32_t> v) {
  return make_tensor(std::move(name), DType::kI32, std::move(shape), v);
}
NamedTensor NamedTensor::i64(std::string name, std::vector<int64_t> shape,
                             std::span<const int64_t> v) {
  return make_tensor(std::move(name), DType::kI64, std::move(shape), v);
}
NamedTensor NamedTensor::u8(std::string name, std::vector<int64_t> shape,
                            std::span<const uint8_t> v) {
  return make_tensor(std::move(name), DType::kU8, std::move(shape), v);
}

std::vector<float> NamedTensor::as_f32() const { return copy_as<float>(*this, DType::kF32); }
std::vector<double> NamedTensor::as_f64() const { return copy_as<double>(*this, DType::kF64); }
std::vector<int32_t> NamedTensor::as_i32() const { return copy_as<int32_t>(*this, DType::kI32); }
std::vector<int64_t> NamedTensor::as_i64() const { return copy_as<int64_t>(*this, DType::kI64); }
std::vector<uint8_t> NamedTensor::as_u8() const { return copy_as<uint8_t>(*this, DType::kU8); }

const NamedTensor* ModelFile::find(std::string_view name) const {
  for (const NamedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const NamedTensor& ModelFile::tensor(std::string_view name) const {
  if (const NamedTensor* t = find(name)) return *t;
  throw DataError("model file has no tensor \"" + std::string(name) + "\"", source);
}

std::vector<uint8_t> serialize_model_file(const ModelFile& m, std::string_view name) {
  Encoded e;
  encode(m, name, e);
  std::vector<uint8_t> out;
  for (std::span<const uint8_t> p : e.pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void write_model_file(const std::string& path, const ModelFile& m) {
  write_model_file(path, m, nullptr);
}

void write_model_file(const std::string& path, const ModelFile& m,
                      const std::function<void(const std::string& temp_path)>& before_rename) {
  Encoded e;
  encode(m, path, e);
  write_whole_file_atomically(path, e.pieces, before_rename);
}

ModelFile read_model_file(const std::string& path) {
  std::vector<uint8_t> bytes = read_whole_file(path, "model file");
  return parse_model_file(bytes, path);
}

ModelFile parse_model_file(std::span<const uint8_t> bytes, std::string_view name) {
  const uint64_t size = bytes.size();
  check_envelope(bytes, Cursor(bytes, 0, size, name));
  // From here on the checksum is good, but a crafted file can have a good checksum too: every
  // length is still compared with what remains before it is used.
  const uint64_t data_end = size - kChecksumSize;
  Cursor c(bytes, kHeaderSize, data_end, name);
  const uint64_t meta_pos = c.pos();
  const uint64_t meta_len = c.read<uint64_t>("metadata length");
  std::span<const uint8_t> meta = c.take(meta_len, meta_pos, "metadata");
  ModelFile m;
  m.source = std::string(name);
  m.metadata = parse_metadata(meta, meta_pos + 8, c);

  const uint64_t count_pos = c.pos();
  const uint64_t count = c.read<uint64_t>("tensor count");
  if (count > c.remaining() / kMinEntrySize) {
    c.fail(count_pos, "tensor count " + std::to_string(count) + " needs at least " +
                          std::to_string(kMinEntrySize) + " bytes each, but only " +
                          std::to_string(c.remaining()) + " bytes remain");
  }
  std::vector<Entry> entries;
  entries.reserve(count);
  std::unordered_set<std::string_view> names;
  for (uint64_t i = 0; i < count; ++i) {
    entries.push_back(read_entry(c));
    if (!names.insert(entries.back().name).second) {
      c.fail(entries.back().entry_pos,
             "tensor name \"" + std::string(entries.back().name) + "\" appears twice");
    }
  }
  check_placement(entries, c.pos(), data_end, c);

  m.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    NamedTensor t;
    t.name = std::string(e.name);
    t.dtype = static_cast<DType>(e.dtype);
    t.shape = e.shape;
    t.bytes.assign(bytes.begin() + e.offset, bytes.begin() + e.offset + e.length);
    t.file_offset = e.offset;
    m.tensors.push_back(std::move(t));
  }
  return m;
}

}  // namespace deepcross
