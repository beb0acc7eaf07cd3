// Test helpers for the data readers: a private temporary directory and gzip encoding.
//
//   ReaderTempDir dir;                                  // mkdtemp, removed at the end
//   std::string path = dir.write("a.tsv", "0\t1\n");
//   std::string gz = dir.write("a.tsv.gz", gzip_bytes("0\t1\n"));
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

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

}  // namespace deepcross::reader_testing
