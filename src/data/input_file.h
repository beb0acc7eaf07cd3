// Byte sources for the readers: a file on disk, plain or gzip-compressed (detected from its
// first two bytes, so a `.gz` name is not required), or text already in memory.
//
//   InputFile in("train.tsv.gz");         // throws DataError("cannot open: ...", path)
//   std::string block(1 << 20, '\0');
//   while (size_t n = in.read(block.data(), block.size())) consume(block.data(), n);
//
// read() returns the decompressed bytes, filling the buffer except at the end of the data;
// 0 means the end. Multi-member gzip files (concatenated .gz) are read as one stream.
// A read error, a corrupt or truncated gzip stream throws DataError naming the path; the bytes
// decoded before the problem are returned first, and the error is thrown by the next read(),
// so a reader can judge every complete line before it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "deepcross/error.h"

namespace deepcross {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Copies up to `capacity` bytes into `dst`; returns the count, 0 only at the end.
  virtual size_t read(char* dst, size_t capacity) = 0;
  // The name used in error messages (the path, or the caller's name for in-memory text).
  virtual const std::string& name() const = 0;
  // A guess of the total bytes read() will return (0: no idea), for reserving memory.
  virtual size_t size_hint() const = 0;
};

class InputFile : public ByteSource {
 public:
  explicit InputFile(std::string path);
  ~InputFile() override;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  size_t read(char* dst, size_t capacity) override;
  const std::string& name() const override { return path_; }
  // Plain: the file size. Gzip: the size its last member's trailer records (modulo 2^32).
  size_t size_hint() const override { return size_hint_; }
  bool compressed() const { return inflater_ != nullptr; }

 private:
  struct Inflater;
  // From the file descriptor, EINTR-safe. Both return what they produced before an error,
  // leaving the error in pending_ (or throw it when they produced nothing).
  size_t read_raw(char* dst, size_t capacity);
  size_t read_gzip(char* dst, size_t capacity);
  size_t fail(DataError error, size_t produced);

  std::string path_;
  int fd_ = -1;
  std::string head_;  // bytes read to sniff the format, not yet handed out (plain files)
  size_t head_pos_ = 0;
  bool head_eof_ = false;  // the whole file fitted in head_
  std::unique_ptr<Inflater> inflater_;
  size_t size_hint_ = 0;
  std::optional<DataError> pending_;  // thrown by the next read()
};

// In-memory text (e.g. an HTTP request body); the view must outlive the source.
class MemorySource : public ByteSource {
 public:
  MemorySource(std::string_view text, std::string name) : text_(text), name_(std::move(name)) {}
  size_t read(char* dst, size_t capacity) override;
  const std::string& name() const override { return name_; }
  size_t size_hint() const override { return text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  std::string name_;
};

}  // namespace deepcross
