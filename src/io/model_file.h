// The model file container: JSON metadata plus named, typed, 64-byte-aligned tensors, with a
// trailing checksum, written atomically and read by a parser that distrusts every byte.
//
// What a DeepCross model stores in it (configuration, vocabularies, transforms, weights) is
// decided by the caller; this file only knows bytes, names, dtypes and shapes.
//
//   ModelFile m;
//   m.metadata = {{"cross", "matrix"}, {"layers", 2}};
//   m.tensors.push_back(NamedTensor::f32("cross.0.w", {4, 4}, weights));  // span of 16 floats
//   put_strings(m, "vocab.C14", {"68fd1e64", "05db9164"});
//   write_model_file("model.dcn", m);                  // temp file, fsync, rename, fsync dir
//   ModelFile back = read_model_file("model.dcn");     // DataError("...", "model.dcn at byte N")
//   std::vector<float> w = back.tensor("cross.0.w").as_f32();
//   std::vector<std::string> vocab = get_strings(back, "vocab.C14");
//
// Byte layout, format version 1. All integers little-endian; offsets count from the file start.
//
//   offset    size     field
//   0         8        magic: the bytes "DEEPCRS" followed by 0x00
//   8         4        u32 format version (kModelFormatVersion = 1)
//   12        4        u32 flags: reserved, must be 0
//   16        8        u64 file size in bytes, this field and the checksum included
//   24        8        u64 metadata length M
//   32        M        metadata: UTF-8 JSON text (any JSON value; `null` when unset)
//   32+M      8        u64 tensor count T
//   ...                T directory entries, back to back, each:
//                        u32 name length L, then L bytes of name (UTF-8, non-empty, unique)
//                        u8  dtype: 0 f32, 1 f64, 2 i32, 3 i64, 4 u8
//                        u32 ndim (0..8; 0 = a scalar with one element)
//                        i64 dims[ndim], each >= 0
//                        u64 data offset: a multiple of 64, at or after the end of the directory
//                        u64 data length: product(dims) * size(dtype)
//   ...                zero padding up to the first data offset
//   ...                tensor data, in directory order, each at its 64-aligned offset, zero padding
//                      between them; the ranges never overlap (the writer never shares bytes)
//   size-4    4        u32 CRC-32 (zlib's crc32) of bytes [0, size-4)
//
// The reader checks, in order: the magic (a text, JSON or gzip file gets "not a deepcross model
// file"); the version (another one gets "model format version V is not supported by this
// deepcross (reads version 1)"); the flags; the file size field against the real size
// (truncation); the checksum ("model file is corrupt (checksum mismatch)"); then, as if the
// checksum proved nothing, every count and length against the bytes that remain before anything
// is allocated, names, dtypes, ndim, dims and their product without overflow, offsets inside the
// data area, aligned and non-overlapping, and the metadata as JSON (nesting at most 256 deep).
// Every error is a DataError whose where() is "PATH at byte N".
// Big-endian hosts are not supported (static_assert in model_file.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

constexpr uint32_t kModelFormatVersion = 1;
constexpr size_t kModelMaxDims = 8;      // ndim limit of a tensor
constexpr size_t kModelAlignment = 64;   // tensor data offsets are multiples of this
constexpr int kModelMaxJsonDepth = 256;  // deepest nesting accepted in the metadata

enum class DType : uint8_t { kF32 = 0, kF64 = 1, kI32 = 2, kI64 = 3, kU8 = 4 };

// Bytes per element: 4, 8, 4, 8, 1.
size_t dtype_size(DType t);
// "f32", "f64", "i32", "i64", "u8".
std::string_view dtype_name(DType t);

struct NamedTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty = a 0-d tensor (one element)
  std::vector<uint8_t> bytes;  // numel() * dtype_size(dtype) bytes, little-endian
  // Where the data began in the file it was read from (0 when built in memory); used to say
  // "PATH at byte N" in errors about its contents.
  uint64_t file_offset = 0;

  // Product of shape (1 for a 0-d tensor). The shape must be valid (dims >= 0, no overflow).
  int64_t numel() const;

  // Build from typed values; values.size() must equal product(shape) (checked, DC_CHECK).
  static NamedTensor f32(std::string name, std::vector<int64_t> shape, std::span<const float> v);
  static NamedTensor f64(std::string name, std::vector<int64_t> shape, std::span<const double> v);
  static NamedTensor i32(std::string name, std::vector<int64_t> shape, std::span<const int32_t> v);
  static NamedTensor i64(std::string name, std::vector<int64_t> shape, std::span<const int64_t> v);
  static NamedTensor u8(std::string name, std::vector<int64_t> shape, std::span<const uint8_t> v);

  // Copy the values out; a DataError ("tensor NAME has dtype i64, expected f32") when the
  // stored dtype differs, since that means the model file does not hold what its reader expects.
  std::vector<float> as_f32() const;
  std::vector<double> as_f64() const;
  std::vector<int32_t> as_i32() const;
  std::vector<int64_t> as_i64() const;
  std::vector<uint8_t> as_u8() const;
};

struct ModelFile {
  nlohmann::json metadata;           // configuration, field descriptions, data fingerprint, ...
  std::vector<NamedTensor> tensors;  // unique names, written in this order
  std::string source;                // the path or name it was read from; empty if built

  // The tensor called `name`; DataError naming it (and the file) when there is none.
  const NamedTensor& tensor(std::string_view name) const;
  // The tensor called `name`, or nullptr.
  const NamedTensor* find(std::string_view name) const;
};

// Writes atomically: a new temporary file "PATH.tmp-PID-RANDOM" in the same directory, written,
// fsynced and closed, renamed over `path`, then the directory fsynced. DataError on any invalid
// tensor (naming it) or I/O failure (naming the path and the OS reason); the temporary file is
// removed on failure, and `path` then keeps its old contents (or stays absent).
void write_model_file(const std::string& path, const ModelFile& m);
// The same, calling `before_rename(temp_path)` once the temporary file is complete and synced,
// just before the rename. For tests: to look at the temp file, or to throw and simulate a crash.
void write_model_file(const std::string& path, const ModelFile& m,
                      const std::function<void(const std::string& temp_path)>& before_rename);

// The exact bytes write_model_file puts on disk; `name` is used in error messages.
std::vector<uint8_t> serialize_model_file(const ModelFile& m, std::string_view name = "<memory>");

// Reads the whole file and parses it. DataError("...", "PATH at byte N") on any problem;
// DataError naming the path and the OS reason when it cannot be opened or read.
ModelFile read_model_file(const std::string& path);
// The same checks on bytes in memory (the fuzzing entry point); errors say "NAME at byte N".
ModelFile parse_model_file(std::span<const uint8_t> bytes, std::string_view name);

// A list of byte strings (e.g. a 300k-entry vocabulary) as two tensors:
//   NAME.offsets  i64 [n + 1]   offsets[0] = 0, non-decreasing, offsets[n] = total bytes
//   NAME.bytes    u8  [total]   the strings concatenated; string i = bytes[offsets[i],
//   offsets[i+1])
// Strings are opaque bytes (no UTF-8 requirement). put_strings replaces tensors of those names.
void put_strings(ModelFile& m, const std::string& name, const std::vector<std::string>& values);
// Reads them back, checking dtypes, ranks and every offset; DataError naming the tensor and,
// for a file that was read, "PATH at byte N" of the offending offset.
std::vector<std::string> get_strings(const ModelFile& m, const std::string& name);

}  // namespace deepcross
