#include "data/input_file.h"

#include <gtest/gtest.h>

#include <string>

#include "core/rng.h"
#include "data/reader_test_support.h"
#include "data/sha256.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

using reader_testing::gzip_bytes;
using reader_testing::ReaderTempDir;

std::string random_bytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

std::string read_all(ByteSource& in, size_t piece) {
  std::string out, buf(piece, '\0');
  while (size_t n = in.read(buf.data(), buf.size())) out.append(buf, 0, n);
  EXPECT_EQ(in.read(buf.data(), buf.size()), 0u);  // stays at the end
  return out;
}

TEST(InputFileTest, ReadsPlainFilesOfAnySize) {
  ReaderTempDir dir;
  for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{1} << 20, (size_t{1} << 20) + 1,
                      size_t{3} << 20}) {
    const std::string bytes = random_bytes(size, size);
    // Not starting with the gzip magic.
    const std::string content = size > 0 ? std::string("x").append(bytes, 1) : bytes;
    InputFile in(dir.write("plain" + std::to_string(size), content));
    EXPECT_FALSE(in.compressed());
    EXPECT_EQ(read_all(in, 77777), content) << size;
  }
}

TEST(InputFileTest, ReadsGzipMembersTransparently) {
  ReaderTempDir dir;
  const std::string text = "0\t1\t2\nhello\n";
  InputFile small(dir.write("a.tsv.gz", gzip_bytes(text)));
  EXPECT_TRUE(small.compressed());
  EXPECT_EQ(read_all(small, 5), text);
  // Large and incompressible: several refills of the compressed buffer.
  const std::string big = random_bytes(size_t{3} << 20, 7);
  InputFile large(dir.write("big.gz", gzip_bytes(big)));
  EXPECT_EQ(read_all(large, 1 << 16), big);
  // Concatenated members read as one stream (cat a.gz b.gz); the name does not matter.
  InputFile multi(
      dir.write("multi.bin", gzip_bytes("first\n") + gzip_bytes("") + gzip_bytes("second\n")));
  EXPECT_EQ(read_all(multi, 3), "first\nsecond\n");
}

TEST(InputFileTest, GuessesTheSizeForReserving) {
  ReaderTempDir dir;
  const std::string text(5000, 'a');
  EXPECT_EQ(InputFile(dir.write("p.tsv", text)).size_hint(), 5000u);
  EXPECT_EQ(InputFile(dir.write("p.tsv.gz", gzip_bytes(text))).size_hint(), 5000u);
  EXPECT_EQ(MemorySource(text, "m").size_hint(), 5000u);
}

TEST(InputFileTest, MissingFileNamesPathAndReason) {
  ReaderTempDir dir;
  const std::string path = dir.file("nope.tsv");
  try {
    InputFile in(path);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "cannot open file: No such file or directory");
    EXPECT_EQ(e.where(), path);
    EXPECT_EQ(e.exit_code(), 1);
  }
}

TEST(InputFileTest, DirectoryIsAReadError) {
  ReaderTempDir dir;
  try {
    InputFile in(dir.path());
    std::string buf(10, '\0');
    in.read(buf.data(), buf.size());
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "cannot read file: Is a directory");
    EXPECT_EQ(e.where(), dir.path());
  }
}

std::string gzip_error(const std::string& path) {
  try {
    InputFile in(path);
    read_all(in, 1000);
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), path);
    return e.what();
  }
  return "no error";
}

TEST(InputFileTest, CorruptOrTruncatedGzipIsAnError) {
  ReaderTempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += std::to_string(i * 37) + "\tabc\n";
  const std::string gz = gzip_bytes(text);
  std::string flipped = gz;
  for (size_t i = 20; i < 40; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  EXPECT_EQ(gzip_error(dir.write("flipped.gz", flipped)).rfind("corrupt gzip data: ", 0), 0u);
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 1;
  EXPECT_EQ(gzip_error(dir.write("crc.gz", bad_crc)),
            "corrupt gzip data: incorrect data check near compressed byte " +
                std::to_string(gz.size() - 4));
  EXPECT_EQ(gzip_error(dir.write("cut.gz", gz.substr(0, gz.size() - 10))),
            "truncated gzip data (the file ends inside a compressed member)");
  EXPECT_EQ(gzip_error(dir.write("head.gz", gz.substr(0, 2))),
            "truncated gzip data (the file ends inside a compressed member)");
  EXPECT_EQ(gzip_error(dir.write("trail.gz", gz + "garbage")).rfind("corrupt gzip data: ", 0), 0u);
}

TEST(InputFileTest, MemorySourceHandsOutTheText) {
  MemorySource m("abc\ndef", "request body");
  EXPECT_EQ(m.name(), "request body");
  EXPECT_EQ(read_all(m, 2), "abc\ndef");
}

TEST(Sha256Test, MatchesKnownDigests) {
  Sha256 h;
  EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.update("abc");
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  h.update("a");  // reusable after a digest; incremental equals whole
  h.update("");
  h.update("bc");
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace deepcross
