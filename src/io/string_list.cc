// put_strings / get_strings (declared in io/model_file.h): a list of byte strings stored as
// two tensors, NAME.offsets (i64 [n+1]) and NAME.bytes (u8 [total]); string i is
// bytes[offsets[i], offsets[i+1]). The reader checks every offset before slicing.
#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "deepcross/error.h"
#include "io/model_file.h"

namespace deepcross {

void put_strings(ModelFile& m, const std::string& name, const std::vector<std::string>& values) {
  std::vector<int64_t> offsets;
  offsets.reserve(values.size() + 1);
  offsets.push_back(0);
  uint64_t total = 0;
  for (const std::string& v : values) offsets.push_back(static_cast<int64_t>(total += v.size()));
  NamedTensor bytes;
  bytes.name = name + ".bytes";
  bytes.dtype = DType::kU8;
  bytes.shape = {static_cast<int64_t>(total)};
  bytes.bytes.reserve(total);
  for (const std::string& v : values) bytes.bytes.insert(bytes.bytes.end(), v.begin(), v.end());
  NamedTensor offs =
      NamedTensor::i64(name + ".offsets", {static_cast<int64_t>(offsets.size())}, offsets);
  for (NamedTensor* t : {&offs, &bytes}) {
    auto same = [&](const NamedTensor& x) { return x.name == t->name; };
    if (auto it = std::find_if(m.tensors.begin(), m.tensors.end(), same); it != m.tensors.end()) {
      *it = std::move(*t);
    } else {
      m.tensors.push_back(std::move(*t));
    }
  }
}

std::vector<std::string> get_strings(const ModelFile& m, const std::string& name) {
  const NamedTensor& offs = m.tensor(name + ".offsets");
  const NamedTensor& data = m.tensor(name + ".bytes");
  auto where = [&](const NamedTensor& t, uint64_t index) {
    return m.source.empty() ? "tensor " + t.name
                            : m.source + " at byte " + std::to_string(t.file_offset + index * 8);
  };
  auto fail = [&](const NamedTensor& t, uint64_t index, const std::string& what) {
    throw DataError("string list \"" + name + "\": " + what, where(t, index));
  };
  if (offs.dtype != DType::kI64 || offs.shape.size() != 1 || offs.shape[0] < 1) {
    fail(offs, 0,
         "tensor " + offs.name + " must be i64 of shape [n+1], found " +
             std::string(dtype_name(offs.dtype)) + " of rank " + std::to_string(offs.shape.size()));
  }
  if (data.dtype != DType::kU8 || data.shape.size() != 1) {
    fail(data, 0,
         "tensor " + data.name + " must be u8 of shape [bytes], found " +
             std::string(dtype_name(data.dtype)) + " of rank " + std::to_string(data.shape.size()));
  }
  const uint64_t n = static_cast<uint64_t>(offs.shape[0]) - 1;
  DC_CHECK(offs.bytes.size() == (n + 1) * 8);
  auto offset_at = [&](uint64_t i) {
    int64_t v;
    std::memcpy(&v, offs.bytes.data() + i * 8, 8);
    return v;
  };
  if (offset_at(0) != 0) {
    fail(offs, 0, "first offset is " + std::to_string(offset_at(0)) + ", expected 0");
  }
  const int64_t total = static_cast<int64_t>(data.bytes.size());
  std::vector<std::string> out;
  out.reserve(n);
  const char* base = reinterpret_cast<const char*>(data.bytes.data());
  for (uint64_t i = 0; i < n; ++i) {
    const int64_t a = offset_at(i), b = offset_at(i + 1);
    if (b < a || b > total) {
      fail(offs, i + 1,
           "offset " + std::to_string(i + 1) + " is " + std::to_string(b) + ", expected between " +
               std::to_string(a) + " and " + std::to_string(total));
    }
    out.emplace_back(base + a, static_cast<size_t>(b - a));
  }
  if (offset_at(n) != total) {
    fail(offs, n,
         "last offset is " + std::to_string(offset_at(n)) + ", but " + data.name + " holds " +
             std::to_string(total) + " bytes");
  }
  return out;
}

}  // namespace deepcross
