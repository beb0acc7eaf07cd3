// Test helpers for the data readers: a private temporary directory, gzip encoding, table
// comparison and error capture.
//
//   ReaderTempDir dir;                                  // mkdtemp, removed at the end
//   std::string path = dir.write("a.tsv", "0\t1\n");
//   std::string gz = dir.write("a.tsv.gz", gzip_bytes("0\t1\n"));
//   EXPECT_EQ(data_error([&] { read_table({path}, opts); }), "WHAT (WHERE)");
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "data/sha256.h"
#include "data/table.h"
#include "deepcross/error.h"

namespace deepcross::reader_testing {

class ReaderTempDir {
 public:
  ReaderTempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "deepcross_reader_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~ReaderTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ReaderTempDir(const ReaderTempDir&) = delete;
  ReaderTempDir& operator=(const ReaderTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `bytes` to a file in the directory; returns its path.
  std::string write(std::string_view name, std::string_view bytes) const {
    const std::string p = file(name);
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

 private:
  std::string path_;
};

// `text` as one gzip member.
inline std::string gzip_bytes(std::string_view text) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, text.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  s.avail_in = static_cast<uInt>(text.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

inline std::string sha256_of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

// Every value of two tables, NaN equal to NaN.
inline void expect_same_table(const Table& a, const Table& b) {
  ASSERT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.has_label, b.has_label);
  EXPECT_EQ(a.label_name, b.label_name);
  EXPECT_EQ(a.labels, b.labels);
  ASSERT_EQ(a.numeric.size(), b.numeric.size());
  for (size_t j = 0; j < a.numeric.size(); ++j) {
    EXPECT_EQ(a.numeric[j].name, b.numeric[j].name);
    ASSERT_EQ(a.numeric[j].values.size(), b.numeric[j].values.size());
    for (size_t r = 0; r < a.rows; ++r) {
      const float x = a.numeric[j].values[r], y = b.numeric[j].values[r];
      ASSERT_TRUE((std::isnan(x) && std::isnan(y)) || x == y) << j << " " << r;
    }
  }
  ASSERT_EQ(a.categorical.size(), b.categorical.size());
  for (size_t j = 0; j < a.categorical.size(); ++j) {
    EXPECT_EQ(a.categorical[j].name, b.categorical[j].name);
    EXPECT_EQ(a.categorical[j].dictionary, b.categorical[j].dictionary) << j;
    EXPECT_EQ(a.categorical[j].codes, b.categorical[j].codes) << j;
  }
  EXPECT_EQ(a.skipped_lines, b.skipped_lines);
  EXPECT_EQ(a.source_rows, b.source_rows);
}

// The DataError that `f` throws, as "WHAT (WHERE)".
inline std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.message();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "no error";
}

inline std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.message();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "no error";
}

}  // namespace deepcross::reader_testing
