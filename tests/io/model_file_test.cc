// Tests for the model file container: round trips, the documented byte layout, a reader that
// survives every truncation, bit flip and hostile length, and atomic writes.
#include "io/model_file.h"
#include "io/temp_folder_test_support.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <optional>

#include "deepcross/error.h"

// Allocation tracker: a hostile length field must not make the reader allocate gigabytes.
// Replaces the global operator new for this test binary; it only records sizes while enabled.
namespace {
std::atomic<bool> g_track_alloc{false};
std::atomic<size_t> g_max_alloc{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_track_alloc.load(std::memory_order_relaxed)) {
    size_t seen = g_max_alloc.load();
    while (n > seen && !g_max_alloc.compare_exchange_weak(seen, n)) {
    }
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// noinline: so that GCC does not see free() meet a pointer from operator new at call sites.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace deepcross {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh directory per test, removed afterwards.
class ModelFileTest : public TempFolderTest {
 protected:
  std::string path(const std::string& leaf) const { return file(leaf); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

void write_bytes(const std::string& p, std::string_view s) {
  std::ofstream f(p, std::ios::binary);
  f.write(s.data(), static_cast<std::streamsize>(s.size()));
}
std::string read_text(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Runs `fn`, expects a DataError, returns it.
template <typename Fn>
DataError expect_data_error(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DataError, got: " << e.what();
    return DataError("wrong exception type");
  }
  ADD_FAILURE() << "expected DataError, nothing thrown";
  return DataError("nothing thrown");
}

ModelFile sample() {
  ModelFile m;
  m.metadata = {{"cross", "matrix"}, {"layers", 2}, {"fields", {"I1", "C14"}}, {"名前", "ü"}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> f = {1.5f, -0.0f, nan, inf, -inf, 1e-40f};  // incl. a subnormal
  std::vector<double> d = {3.25, -1e300, 5e-324};
  std::vector<int32_t> i = {std::numeric_limits<int32_t>::min(), -1, 0, 7};
  std::vector<int64_t> l = {std::numeric_limits<int64_t>::max(), -2};
  std::vector<uint8_t> u = {0, 255, 128};
  m.tensors.push_back(NamedTensor::f32("cross.0.w", {2, 3}, f));
  m.tensors.push_back(NamedTensor::f64("bn.mean", {3}, d));
  m.tensors.push_back(NamedTensor::i32("ids", {2, 2}, i));
  m.tensors.push_back(NamedTensor::i64("counts", {2}, l));
  m.tensors.push_back(NamedTensor::u8("flags", {3, 1, 1}, u));
  return m;
}

void expect_same(const ModelFile& a, const ModelFile& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t k = 0; k < a.tensors.size(); ++k) {
    EXPECT_EQ(a.tensors[k].name, b.tensors[k].name);
    EXPECT_EQ(a.tensors[k].dtype, b.tensors[k].dtype);
    EXPECT_EQ(a.tensors[k].shape, b.tensors[k].shape);
    EXPECT_EQ(a.tensors[k].bytes, b.tensors[k].bytes);  // bit-exact, NaN and -0 included
  }
}

// An independent encoder of the documented layout, for golden and hostile files.
struct Raw {
  Bytes b;
  Raw& raw(std::string_view s) {
    const size_t at = b.size();
    b.resize(at + s.size());
    if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
    return *this;
  }
  template <typename T>
  Raw& put(T v) {
    uint8_t x[sizeof(T)];
    std::memcpy(x, &v, sizeof(T));
    b.insert(b.end(), x, x + sizeof(T));
    return *this;
  }
  Raw& u8(uint8_t v) { return put(v); }
  Raw& u32(uint32_t v) { return put(v); }
  Raw& u64(uint64_t v) { return put(v); }
  Raw& i64(int64_t v) { return put(v); }
  Raw& pad_to(size_t n) {
    EXPECT_GE(n, b.size()) << "pad_to would cut the file";
    b.resize(n, 0);
    return *this;
  }
  // Patches the file-size field and appends the CRC-32, as a correct writer would.
  Bytes finish() const {
    Bytes out = b;
    uint64_t size = out.size() + 4;
    if (out.size() >= 24) std::memcpy(out.data() + 16, &size, 8);
    uint32_t crc = static_cast<uint32_t>(crc32(0, out.data(), static_cast<uInt>(out.size())));
    uint8_t x[4];
    std::memcpy(x, &crc, 4);
    out.insert(out.end(), x, x + 4);
    return out;
  }
};

Raw header(uint32_t version = 1) {
  Raw r;
  r.raw(std::string_view("DEEPCRS\0", 8)).u32(version).u32(0).u64(0);
  return r;
}

// A file with metadata "null" and one directory entry whose fields can be made hostile.
// Offsets: count at 36, the entry at 44, name length 1 => dtype at 49, ndim at 50, dims at 54.
struct EntrySpec {
  std::string name = "w";
  std::optional<uint32_t> name_len;
  uint8_t dtype = 0;
  std::optional<uint32_t> ndim;
  std::vector<int64_t> dims = {2};
  uint64_t offset = 128;
  uint64_t length = 8;
  uint64_t count = 1;
};
Bytes one_tensor(const EntrySpec& s) {
  Raw r = header();
  r.u64(4).raw("null").u64(s.count);
  r.u32(s.name_len.value_or(static_cast<uint32_t>(s.name.size()))).raw(s.name).u8(s.dtype);
  r.u32(s.ndim.value_or(static_cast<uint32_t>(s.dims.size())));
  for (int64_t d : s.dims) r.i64(d);
  r.u64(s.offset).u64(s.length);
  r.pad_to(128).raw(std::string(8, '\x01'));
  return r.finish();
}

DataError parse_error(const Bytes& b) {
  return expect_data_error([&] { parse_model_file(b, "crafted"); });
}

// ---- Round trips -----------------------------------------------------------------------------

TEST_F(ModelFileTest, RoundTripsEveryDtypeBitExactly) {
  ModelFile m = sample();
  write_model_file(path("m.dcn"), m);
  ModelFile back = read_model_file(path("m.dcn"));
  expect_same(m, back);
  EXPECT_EQ(back.source, path("m.dcn"));
  for (const NamedTensor& t : back.tensors) EXPECT_EQ(t.file_offset % kModelAlignment, 0u);
  EXPECT_EQ(back.tensor("bn.mean").as_f64(), (std::vector<double>{3.25, -1e300, 5e-324}));
  EXPECT_EQ(back.tensor("ids").as_i32()[0], std::numeric_limits<int32_t>::min());
  EXPECT_EQ(back.tensor("counts").as_i64()[0], std::numeric_limits<int64_t>::max());
  EXPECT_EQ(back.tensor("flags").as_u8(), (std::vector<uint8_t>{0, 255, 128}));
  std::vector<float> f = back.tensor("cross.0.w").as_f32();
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_TRUE(std::signbit(f[1]));
  EXPECT_EQ(back.tensor("flags").numel(), 3);
}

TEST_F(ModelFileTest, EmptyAndZeroDimTensorsRoundTrip) {
  ModelFile m;  // metadata left null
  m.tensors.push_back(NamedTensor::f32("empty", {0}, {}));
  m.tensors.push_back(NamedTensor::f32("empty3d", {3, 0, 2}, {}));
  const double pi = 3.141592653589793;
  m.tensors.push_back(NamedTensor::f64("scalar", {}, std::span<const double>(&pi, 1)));
  m.tensors.push_back(NamedTensor::u8("empty_after", {0}, {}));
  ModelFile back = parse_model_file(serialize_model_file(m), "mem");
  expect_same(m, back);
  EXPECT_TRUE(back.metadata.is_null());
  EXPECT_EQ(back.tensor("scalar").numel(), 1);
  EXPECT_EQ(back.tensor("scalar").as_f64(), std::vector<double>{pi});
  EXPECT_EQ(back.tensor("empty3d").numel(), 0);
  EXPECT_TRUE(back.tensor("empty").as_f32().empty());
}

TEST_F(ModelFileTest, NoTensorsAtAll) {
  ModelFile m;
  m.metadata = nlohmann::json::object();
  ModelFile back = parse_model_file(serialize_model_file(m), "mem");
  EXPECT_EQ(back.metadata, nlohmann::json::object());
  EXPECT_TRUE(back.tensors.empty());
}

TEST_F(ModelFileTest, UnicodeNamesAndMetadataRoundTrip) {
  ModelFile m;
  m.metadata = {{"field", "Größe 🙂"}, {"nested", {{"a", {1, 2.5, nullptr, true}}}}};
  std::vector<int32_t> v = {1, 2};
  m.tensors.push_back(NamedTensor::i32("emb/Größe/表/🙂", {2}, v));
  write_model_file(path("ü.dcn"), m);
  ModelFile back = read_model_file(path("ü.dcn"));
  expect_same(m, back);
  EXPECT_NE(back.find("emb/Größe/表/🙂"), nullptr);
}

TEST_F(ModelFileTest, LayoutMatchesTheDocumentedBytes) {
  ModelFile m;
  m.metadata = {{"a", 1}};  // dumps as {"a":1}, 7 bytes
  std::vector<float> w = {1.0f, 2.0f};
  int64_t seven = 7;
  m.tensors.push_back(NamedTensor::f32("w", {2}, w));
  m.tensors.push_back(NamedTensor::i64("ids", {}, std::span<const int64_t>(&seven, 1)));
  // header 0..24, metadata length 24, JSON 32..39, count 39, entry "w" 47..81, entry "ids"
  // 81..109, padding to 128, w at 128..136, padding to 192, ids at 192..200, CRC at 200.
  Raw r = header();
  r.u64(7).raw(R"({"a":1})").u64(2);
  r.u32(1).raw("w").u8(0).u32(1).i64(2).u64(128).u64(8);
  r.u32(3).raw("ids").u8(3).u32(0).u64(192).u64(8);
  r.pad_to(128).put(1.0f).put(2.0f).pad_to(192).i64(7);
  Bytes expected = r.finish();
  EXPECT_EQ(expected.size(), 204u);
  EXPECT_EQ(serialize_model_file(m), expected);
  write_model_file(path("m.dcn"), m);
  std::string on_disk = read_text(path("m.dcn"));
  EXPECT_EQ(Bytes(on_disk.begin(), on_disk.end()), expected);
}

// ---- Accessors -------------------------------------------------------------------------------

TEST_F(ModelFileTest, LookupAndDtypeErrorsAreDataErrors) {
  ModelFile m = parse_model_file(serialize_model_file(sample()), "mem.dcn");
  EXPECT_EQ(m.find("nope"), nullptr);
  DataError e = expect_data_error([&] { m.tensor("nope"); });
  EXPECT_NE(std::string(e.what()).find("\"nope\""), std::string::npos) << e.what();
  EXPECT_EQ(e.where(), "mem.dcn");
  e = expect_data_error([&] { m.tensor("counts").as_f32(); });
  EXPECT_STREQ(e.what(), "tensor \"counts\" has dtype i64, expected f32");
  expect_data_error([&] { m.tensor("cross.0.w").as_f64(); });
  expect_data_error([&] { m.tensor("cross.0.w").as_i32(); });
  expect_data_error([&] { m.tensor("cross.0.w").as_i64(); });
  expect_data_error([&] { m.tensor("cross.0.w").as_u8(); });
  EXPECT_EQ(dtype_size(DType::kF64), 8u);
  EXPECT_EQ(dtype_name(DType::kU8), "u8");
}

// ---- String lists ----------------------------------------------------------------------------

TEST_F(ModelFileTest, StringListsRoundTrip) {
  ModelFile m;
  put_strings(m, "empty", {});
  put_strings(m, "blanks", {"", "", "x", ""});
  put_strings(m, "bytes", {std::string("a\0b", 3), "\xff\xfe", "Größe"});
  write_model_file(path("s.dcn"), m);
  ModelFile back = read_model_file(path("s.dcn"));
  EXPECT_TRUE(get_strings(back, "empty").empty());
  EXPECT_EQ(get_strings(back, "blanks"), (std::vector<std::string>{"", "", "x", ""}));
  EXPECT_EQ(get_strings(back, "bytes"),
            (std::vector<std::string>{std::string("a\0b", 3), "\xff\xfe", "Größe"}));
  EXPECT_EQ(back.tensor("blanks.offsets").as_i64(), (std::vector<int64_t>{0, 0, 0, 1, 1}));
  // Putting again replaces rather than duplicating.
  put_strings(m, "blanks", {"new"});
  EXPECT_EQ(m.tensors.size(), 6u);
  EXPECT_EQ(get_strings(m, "blanks"), std::vector<std::string>{"new"});
}

TEST_F(ModelFileTest, ThreeHundredThousandStrings) {
  std::vector<std::string> values;
  uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1664525u + 1013904223u;
    values.push_back(std::to_string(x).substr(0, (x >> 28) % 11));  // lengths 0..10
  }
  ModelFile m;
  put_strings(m, "vocab.C14", values);
  write_model_file(path("v.dcn"), m);
  EXPECT_EQ(get_strings(read_model_file(path("v.dcn")), "vocab.C14"), values);
}

TEST_F(ModelFileTest, StringListOffsetsAreValidated) {
  auto with_offsets = [](std::vector<int64_t> offs, size_t nbytes) {
    ModelFile m;
    m.tensors.push_back(NamedTensor::i64("v.offsets", {static_cast<int64_t>(offs.size())}, offs));
    std::vector<uint8_t> data(nbytes, 'a');
    m.tensors.push_back(NamedTensor::u8("v.bytes", {static_cast<int64_t>(nbytes)}, data));
    return parse_model_file(serialize_model_file(m), "f.dcn");
  };
  DataError e = expect_data_error([&] { get_strings(with_offsets({1, 2}, 2), "v"); });
  EXPECT_NE(std::string(e.what()).find("first offset is 1"), std::string::npos) << e.what();
  EXPECT_NE(e.where().find("f.dcn at byte "), std::string::npos);
  e = expect_data_error([&] { get_strings(with_offsets({0, 2, 1}, 2), "v"); });
  EXPECT_NE(std::string(e.what()).find("offset 2 is 1"), std::string::npos) << e.what();
  ModelFile bad = with_offsets({0, 2, 1}, 2);
  // The where names the byte of offsets[2]: 16 bytes into the offsets tensor's data.
  EXPECT_EQ(e.where(), "f.dcn at byte " + std::to_string(bad.tensor("v.offsets").file_offset + 16));
  e = expect_data_error([&] { get_strings(with_offsets({0, 9}, 2), "v"); });
  EXPECT_NE(std::string(e.what()).find("between 0 and 2"), std::string::npos) << e.what();
  e = expect_data_error([&] { get_strings(with_offsets({0, 1}, 2), "v"); });
  EXPECT_NE(std::string(e.what()).find("last offset is 1"), std::string::npos) << e.what();
  expect_data_error([&] { get_strings(with_offsets({0, -1}, 2), "v"); });
  expect_data_error([&] { get_strings(with_offsets({}, 0), "v"); });  // shape [0]: no n+1
  // Missing or mistyped tensors.
  ModelFile m;
  e = expect_data_error([&] { get_strings(m, "v"); });
  EXPECT_NE(std::string(e.what()).find("v.offsets"), std::string::npos);
  std::vector<int32_t> i32 = {0};
  m.tensors.push_back(NamedTensor::i32("v.offsets", {1}, i32));
  m.tensors.push_back(NamedTensor::u8("v.bytes", {0}, {}));
  e = expect_data_error([&] { get_strings(m, "v"); });
  EXPECT_EQ(e.where(), "tensor v.offsets");
  ModelFile m2;
  put_strings(m2, "v", {"a"});
  m2.tensors[1] = NamedTensor::i32("v.bytes", {1}, std::vector<int32_t>{97});
  expect_data_error([&] { get_strings(m2, "v"); });
}

// ---- Distrustful reader: the error table -----------------------------------------------------

TEST_F(ModelFileTest, MissingFileNamesPathAndReason) {
  DataError e = expect_data_error([&] { read_model_file(path("absent.dcn")); });
  EXPECT_EQ(e.where(), path("absent.dcn"));
  EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  e = expect_data_error([&] { read_model_file(dir_.string()); });
  EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
}

TEST_F(ModelFileTest, EmptyTextJsonAndGzipFilesAreNotModels) {
  write_bytes(path("empty"), "");
  DataError e = expect_data_error([&] { read_model_file(path("empty")); });
  EXPECT_STREQ(e.what(), "model file is empty");
  EXPECT_EQ(e.where(), path("empty") + " at byte 0");
  write_bytes(path("text"), "0\t1\t2\tabc\n");
  e = expect_data_error([&] { read_model_file(path("text")); });
  EXPECT_STREQ(e.what(), "not a deepcross model file");
  write_bytes(path("short"), "hi\n");
  e = expect_data_error([&] { read_model_file(path("short")); });
  EXPECT_STREQ(e.what(), "not a deepcross model file");
  write_bytes(path("json"), R"({"format_version": 1, "cross": "matrix"})");
  e = expect_data_error([&] { read_model_file(path("json")); });
  EXPECT_STREQ(e.what(), "not a deepcross model file");
  // A real gzip file, and a gzipped model file.
  Bytes model = serialize_model_file(sample());
  gzFile gz = gzopen(path("m.dcn.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, model.data(), static_cast<unsigned>(model.size()));
  gzclose(gz);
  e = expect_data_error([&] { read_model_file(path("m.dcn.gz")); });
  EXPECT_NE(std::string(e.what()).find("not a deepcross model file"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("gzip"), std::string::npos);
}

TEST_F(ModelFileTest, EveryTruncationIsADataError) {
  Bytes good = serialize_model_file(sample());
  ASSERT_NO_THROW(parse_model_file(good, "t"));
  for (size_t n = 0; n < good.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    DataError e = parse_error(Bytes(good.begin(), good.begin() + n));
    EXPECT_EQ(e.where().rfind("crafted at byte ", 0), 0u) << e.where();
    if (n > 0) {
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
  }
  // On disk as well.
  write_bytes(path("cut.dcn"), std::string(good.begin(), good.begin() + 100));
  DataError e = expect_data_error([&] { read_model_file(path("cut.dcn")); });
  EXPECT_EQ(e.where(), path("cut.dcn") + " at byte 100");
  // Bytes appended after a complete file are refused too.
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_NE(std::string(parse_error(longer).what()).find("unexpected bytes"), std::string::npos);
}

TEST_F(ModelFileTest, EverySingleByteFlipIsDetected) {
  ModelFile m = sample();
  put_strings(m, "vocab", {"a", "bc"});
  Bytes good = serialize_model_file(m);
  size_t checksum_errors = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(i) + " xor " + std::to_string(mask));
      Bytes bad = good;
      bad[i] ^= mask;
      DataError e = parse_error(bad);
      checksum_errors += std::string(e.what()) == "model file is corrupt (checksum mismatch)";
    }
  }
  // Outside the header (24 bytes), a flip is reported as a checksum mismatch.
  EXPECT_EQ(checksum_errors, 3 * (good.size() - 24));
}

// A fuzzer with a good checksum: every byte after the header changed, every body cut short,
// each with the size and CRC repaired. Each parse must succeed or throw DataError, nothing else
// (run under the sanitizer build this also shows no out-of-bounds read).
TEST_F(ModelFileTest, MutationsWithRepairedChecksumParseOrFailCleanly) {
  ModelFile m = sample();
  put_strings(m, "vocab", {"a", "bc"});
  const Bytes good = serialize_model_file(m);
  const Bytes body(good.begin(), good.end() - 4);
  auto attempt = [](const Bytes& without_crc) {
    try {
      parse_model_file(Raw{without_crc}.finish(), "fuzz");
      return 0;
    } catch (const DataError&) {
      return 1;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a DataError: " << e.what();
      return 2;
    }
  };
  int refused = 0;
  for (size_t i = 24; i < body.size(); ++i) {
    for (uint8_t mask : {0x01, 0x10, 0x80, 0xff}) {
      Bytes bad = body;
      bad[i] ^= mask;
      refused += attempt(bad);
    }
  }
  EXPECT_GT(refused, 0);
  for (size_t n = 24; n < body.size(); ++n) {
    EXPECT_EQ(attempt(Bytes(body.begin(), body.begin() + n)), 1) << "body cut at " << n;
  }
}

TEST_F(ModelFileTest, OtherFormatVersionNamesBothVersions) {
  Bytes v2 = header(2).u64(4).raw("null").u64(0).finish();
  DataError e = parse_error(v2);
  EXPECT_STREQ(e.what(),
               "model format version 2 is not supported by this deepcross (reads version 1)");
  EXPECT_EQ(e.where(), "crafted at byte 8");
  write_bytes(path("v2.dcn"), std::string(v2.begin(), v2.end()));
  e = expect_data_error([&] { read_model_file(path("v2.dcn")); });
  EXPECT_EQ(e.where(), path("v2.dcn") + " at byte 8");
  Bytes v1 = header(1).u64(4).raw("null").u64(0).finish();
  EXPECT_NO_THROW(parse_model_file(v1, "v1"));
  Bytes flags = v1;
  flags[12] = 1;
  flags = Raw{Bytes(flags.begin(), flags.end() - 4)}.finish();
  EXPECT_EQ(parse_error(flags).where(), "crafted at byte 12");
}

// Crafted files with a correct checksum and size: the structural checks must hold on their own.
TEST_F(ModelFileTest, HostileLengthsAreRefusedWithoutGiantAllocations) {
  struct Case {
    const char* label;
    Bytes file;
    const char* expect;  // substring of what()
    uint64_t at;         // where: "crafted at byte AT"
  };
  auto spec = [](auto edit) {
    EntrySpec s;
    edit(s);
    return one_tensor(s);
  };
  const uint64_t huge = uint64_t{1} << 62;
  std::vector<Case> cases = {
      {"metadata length", header().u64(huge).raw("null").u64(0).finish(), "only 12 bytes remain",
       24},
      {"tensor count", spec([](EntrySpec& s) { s.count = uint64_t{1} << 40; }), "tensor count", 36},
      {"two entries, one present", spec([](EntrySpec& s) { s.count = 2; }), "", 0},
      {"name length", spec([](EntrySpec& s) { s.name_len = 0xffffffffu; }), "tensor name is", 44},
      {"ndim 1000", spec([](EntrySpec& s) { s.ndim = 1000; }), "1000 dimensions", 50},
      {"ndim 9", spec([](EntrySpec& s) { s.ndim = 9; }), "9 dimensions", 50},
      {"negative dim", spec([](EntrySpec& s) { s.dims = {-2}; }), "invalid shape [-2]", 54},
      {"product overflow", spec([](EntrySpec& s) {
         s.dims = {int64_t{1} << 40, int64_t{1} << 40};
       }),
       "invalid shape", 54},
      {"length mismatch", spec([](EntrySpec& s) { s.length = huge; }), "needs 8", 70},
      {"offset overflow", spec([](EntrySpec& s) { s.offset = ~uint64_t{63}; }), "outside", 62},
      {"offset past end", spec([](EntrySpec& s) { s.offset = 192; }), "outside", 62},
      {"offset in header", spec([](EntrySpec& s) { s.offset = 0; }), "outside", 62},
      {"misaligned", spec([](EntrySpec& s) { s.offset = 129; }), "not a multiple of 64", 62},
      {"dtype", spec([](EntrySpec& s) { s.dtype = 5; }), "unknown dtype 5", 49},
      {"empty name", spec([](EntrySpec& s) { s.name = ""; }), "tensor name is empty", 44},
      {"bad utf-8 name", spec([](EntrySpec& s) { s.name = "\xc0"; }), "not valid UTF-8", 48},
      {"bad json", header().u64(6).raw(R"({"a":})").u64(0).finish(), "not valid JSON", 37},
      {"json nesting",
       header().u64(600).raw(std::string(300, '[') + std::string(300, ']')).u64(0).finish(),
       "nests deeper", 32},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    g_max_alloc = 0;
    g_track_alloc = true;
    DataError e("");
    try {
      parse_model_file(c.file, "crafted");
      ADD_FAILURE() << "accepted";
    } catch (const DataError& err) {
      e = err;
    } catch (const std::exception& err) {
      ADD_FAILURE() << "wrong exception: " << err.what();
    }
    g_track_alloc = false;
    EXPECT_LT(g_max_alloc.load(), size_t{64} << 10) << "allocated " << g_max_alloc.load();
    EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    if (c.at != 0) {
      EXPECT_EQ(e.where(), "crafted at byte " + std::to_string(c.at)) << e.what();
    }
  }
}

TEST_F(ModelFileTest, DuplicateAndOverlappingTensorsAreRefused) {
  // Two entries named "w" (each 34 bytes: directory 44..112), data at 128 and 192.
  Raw r = header();
  r.u64(4).raw("null").u64(2);
  r.u32(1).raw("w").u8(0).u32(1).i64(2).u64(128).u64(8);
  r.u32(1).raw("w").u8(0).u32(1).i64(2).u64(192).u64(8);
  r.pad_to(200);
  DataError e = parse_error(r.finish());
  EXPECT_STREQ(e.what(), "tensor name \"w\" appears twice");
  EXPECT_EQ(e.where(), "crafted at byte 78");
  // Distinct names sharing bytes.
  Raw o = header();
  o.u64(4).raw("null").u64(2);
  o.u32(1).raw("a").u8(0).u32(1).i64(2).u64(128).u64(8);
  o.u32(1).raw("b").u8(0).u32(1).i64(1).u64(128).u64(4);
  o.pad_to(136);
  e = parse_error(o.finish());
  EXPECT_NE(std::string(e.what()).find("overlaps"), std::string::npos) << e.what();
  // Data placed inside the directory.
  Raw d = header();
  d.u64(4).raw("null").u64(1);
  d.u32(1).raw("a").u8(4).u32(1).i64(8).u64(64).u64(8);  // the directory ends at 78
  d.pad_to(128);
  EXPECT_NE(std::string(parse_error(d.finish()).what()).find("outside"), std::string::npos);
  // Empty tensors may share an offset.
  Raw z = header();
  z.u64(4).raw("null").u64(2);
  z.u32(1).raw("a").u8(0).u32(1).i64(0).u64(128).u64(0);
  z.u32(1).raw("b").u8(0).u32(1).i64(0).u64(128).u64(0);
  z.pad_to(128);
  EXPECT_EQ(parse_model_file(z.finish(), "z").tensors.size(), 2u);
}

// ---- Writer ----------------------------------------------------------------------------------

TEST_F(ModelFileTest, WriterRefusesInvalidModelsAndLeavesNothing) {
  auto refused = [&](const ModelFile& m, const char* expect) {
    DataError e = expect_data_error([&] { write_model_file(path("bad.dcn"), m); });
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), path("bad.dcn"));
    EXPECT_TRUE(listing().empty());
  };
  ModelFile dup = sample();
  dup.tensors.push_back(dup.tensors[0]);
  refused(dup, "appears twice");
  ModelFile mismatch = sample();
  mismatch.tensors[0].bytes.pop_back();
  refused(mismatch, "needs 24");
  ModelFile unnamed = sample();
  unnamed.tensors[0].name = "";
  refused(unnamed, "empty name");
  // Invalid UTF-8: a stray continuation, a bad lead, overlong NUL, a surrogate, above U+10FFFF,
  // a cut sequence.
  for (const char* bad :
       {"\x80", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xe2\x82"}) {
    ModelFile badname = sample();
    badname.tensors[0].name = bad;
    refused(badname, "UTF-8");
  }
  ModelFile fine = sample();  // 1- to 4-byte sequences at the edges of their ranges
  fine.tensors[0].name =
      "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  EXPECT_NO_THROW(serialize_model_file(fine));
  ModelFile baddtype = sample();
  baddtype.tensors[0].dtype = static_cast<DType>(9);
  refused(baddtype, "dtype");
  ModelFile rank = sample();
  rank.tensors[0].shape.assign(9, 1);
  refused(rank, "9 dimensions");
  ModelFile negative = sample();
  negative.tensors[0].shape = {-6};
  refused(negative, "invalid shape");
  ModelFile badjson;
  badjson.metadata = {{"s", "\xff"}};
  refused(badjson, "metadata");
}

// ---- Atomic writes ---------------------------------------------------------------------------

TEST_F(ModelFileTest, OverwriteReplacesAndLeavesNoTempFiles) {
  ModelFile old_model;
  old_model.metadata = "old";
  write_model_file(path("m.dcn"), old_model);
  ModelFile new_model = sample();
  write_model_file(path("m.dcn"), new_model);
  expect_same(read_model_file(path("m.dcn")), new_model);
  EXPECT_EQ(listing(), std::vector<std::string>{"m.dcn"});
}

TEST_F(ModelFileTest, TempFileIsCompleteInTheSameDirectoryBeforeTheRename) {
  ModelFile old_model;
  old_model.metadata = "old";
  write_model_file(path("m.dcn"), old_model);
  const std::string old_bytes = read_text(path("m.dcn"));
  ModelFile m = sample();
  const Bytes want = serialize_model_file(m);
  int calls = 0;
  write_model_file(path("m.dcn"), m, [&](const std::string& temp) {
    ++calls;
    EXPECT_EQ(fs::path(temp).parent_path(), dir_);
    EXPECT_NE(temp, path("m.dcn"));
    std::string t = read_text(temp);
    EXPECT_EQ(Bytes(t.begin(), t.end()), want);      // complete before it becomes visible
    EXPECT_EQ(read_text(path("m.dcn")), old_bytes);  // the old file still in place
    EXPECT_EQ(listing().size(), 2u);
  });
  EXPECT_EQ(calls, 1);
  std::string now = read_text(path("m.dcn"));
  EXPECT_EQ(Bytes(now.begin(), now.end()), want);
  EXPECT_EQ(listing(), std::vector<std::string>{"m.dcn"});
}

TEST_F(ModelFileTest, FailureBeforeRenameKeepsOldFileAndRemovesTemp) {
  ModelFile old_model;
  old_model.metadata = "old";
  write_model_file(path("m.dcn"), old_model);
  const std::string old_bytes = read_text(path("m.dcn"));
  EXPECT_THROW(write_model_file(path("m.dcn"), sample(),
                                [](const std::string&) { throw std::runtime_error("crash"); }),
               std::runtime_error);
  EXPECT_EQ(read_text(path("m.dcn")), old_bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"m.dcn"});
}

TEST_F(ModelFileTest, WriteErrorMidFileKeepsOldFileAndRemovesTemp) {
  ModelFile old_model;
  old_model.metadata = "old";
  write_model_file(path("m.dcn"), old_model);
  const std::string old_bytes = read_text(path("m.dcn"));
  ModelFile big;
  std::vector<float> v(16384, 1.0f);  // 64 KiB of data
  big.tensors.push_back(NamedTensor::f32("big", {16384}, v));
  // Cap the file size so the write fails with EFBIG halfway (SIGXFSZ ignored meanwhile).
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit capped = saved;
  capped.rlim_cur = 4096;
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &capped), 0);
  DataError e = expect_data_error([&] { write_model_file(path("m.dcn"), big); });
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  EXPECT_NE(std::string(e.what()).find("cannot write temporary file"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.where(), path("m.dcn"));
  EXPECT_EQ(read_text(path("m.dcn")), old_bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"m.dcn"});
}

TEST_F(ModelFileTest, MissingDirectoryOrDirectoryTargetIsADataError) {
  DataError e = expect_data_error([&] { write_model_file(path("no/such/dir/m.dcn"), sample()); });
  EXPECT_EQ(e.where(), path("no/such/dir/m.dcn"));
  EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  EXPECT_TRUE(listing().empty());
  // The target is a non-empty directory: refused before any temporary file is made.
  fs::create_directory(path("taken"));
  write_bytes(path("taken/keep"), "x");
  e = expect_data_error([&] { write_model_file(path("taken"), sample()); });
  EXPECT_NE(std::string(e.what()).find("it is a directory"), std::string::npos) << e.what();
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
  EXPECT_EQ(read_text(path("taken/keep")), "x");
}

}  // namespace
}  // namespace deepcross
