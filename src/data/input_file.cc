#include "data/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/check.h"
#include "deepcross/error.h"

namespace deepcross {
namespace {

constexpr size_t kRawBlock = 1 << 20;  // compressed bytes read per read(2)

std::string os_reason(int err) { return std::generic_category().message(err); }

}  // namespace

// zlib inflate state over the file's compressed bytes. Each gzip member ends with
// Z_STREAM_END; if more bytes follow, the stream is reset and the next member decoded, so
// `cat a.gz b.gz` reads as the concatenation (what gzip -d does). Bytes after a member that
// are not another gzip member are reported as corrupt data.
struct InputFile::Inflater {
  z_stream stream{};
  std::string input;       // compressed bytes; stream.next_in points into it
  size_t consumed = 0;     // compressed bytes handed to zlib before `input` was refilled
  bool raw_eof = false;    // no more compressed bytes in the file
  bool in_member = false;  // a member started and has not reached its end
  bool done = false;

  Inflater() { DC_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK); }
  ~Inflater() { inflateEnd(&stream); }
  size_t offset() const {
    return consumed + (stream.next_in - reinterpret_cast<const Bytef*>(input.data()));
  }
};

InputFile::InputFile(std::string path) : path_(std::move(path)) {
  // "-": standard input (a copy of the descriptor, closed like any other).
  if (path_ == "-") {
    path_ = "stdin";
    fd_ = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  } else {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd_ < 0) throw DataError("cannot open file: " + os_reason(errno), path_);
  // Sniff the gzip magic (1f 8b) from the first bytes.
  head_.resize(kRawBlock);
  size_t n = 0;
  try {
    n = read_raw(head_.data(), head_.size());
  } catch (...) {
    ::close(fd_);
    throw;
  }
  head_.resize(n);
  head_eof_ = n < kRawBlock;
  if (pending_) {  // a read error within the first block: report it now
    ::close(fd_);
    fd_ = -1;
    throw *pending_;
  }
  struct stat info;
  if (::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode)) size_hint_ = info.st_size;
  if (n >= 2 && static_cast<unsigned char>(head_[0]) == 0x1f &&
      static_cast<unsigned char>(head_[1]) == 0x8b) {
    inflater_ = std::make_unique<Inflater>();
    inflater_->input = std::move(head_);
    inflater_->stream.next_in = reinterpret_cast<Bytef*>(inflater_->input.data());
    inflater_->stream.avail_in = static_cast<uInt>(inflater_->input.size());
    inflater_->raw_eof = head_eof_;
    head_.clear();
    // The gzip trailer ends with the member's uncompressed size modulo 2^32, little endian.
    unsigned char isize[4];
    if (size_hint_ >= 18 && ::pread(fd_, isize, 4, size_hint_ - 4) == 4) {
      size_hint_ = isize[0] | isize[1] << 8 | isize[2] << 16 | static_cast<size_t>(isize[3]) << 24;
    } else {
      size_hint_ = 0;
    }
  }
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t InputFile::read_raw(char* dst, size_t capacity) {
  size_t total = 0;
  while (total < capacity) {
    ssize_t n = ::read(fd_, dst + total, capacity - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(DataError("cannot read file: " + os_reason(errno), path_), total);
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  return total;
}

size_t InputFile::fail(DataError error, size_t produced) {
  if (produced == 0) throw error;
  pending_ = std::move(error);
  return produced;
}

size_t InputFile::read(char* dst, size_t capacity) {
  if (pending_) {
    DataError error = std::move(*pending_);
    pending_.reset();
    throw error;
  }
  if (inflater_) return read_gzip(dst, capacity);
  size_t total = 0;
  if (head_pos_ < head_.size()) {
    total = std::min(capacity, head_.size() - head_pos_);
    std::memcpy(dst, head_.data() + head_pos_, total);
    head_pos_ += total;
    if (total == capacity) return total;
  }
  if (head_eof_) return total;
  try {
    return total + read_raw(dst + total, capacity - total);
  } catch (DataError& error) {
    return fail(std::move(error), total);
  }
}

size_t InputFile::read_gzip(char* dst, size_t capacity) {
  Inflater& z = *inflater_;
  if (z.done || capacity == 0) return 0;
  z_stream& s = z.stream;
  s.next_out = reinterpret_cast<Bytef*>(dst);
  s.avail_out = static_cast<uInt>(std::min<size_t>(capacity, 1u << 30));
  while (s.avail_out > 0) {
    if (s.avail_in == 0) {
      if (!z.raw_eof) {
        z.consumed += z.input.size();
        z.input.resize(kRawBlock);
        const size_t n = read_raw(z.input.data(), z.input.size());
        if (pending_) {  // a read error: what was decoded so far first, then the error
          DataError error = std::move(*pending_);
          pending_.reset();
          return fail(std::move(error), capacity - s.avail_out);
        }
        z.input.resize(n);
        z.raw_eof = n < kRawBlock;
        s.next_in = reinterpret_cast<Bytef*>(z.input.data());
        s.avail_in = static_cast<uInt>(n);
      }
      if (s.avail_in == 0) {
        if (z.in_member) {
          return fail(
              DataError("truncated gzip data (the file ends inside a compressed member)", path_),
              capacity - s.avail_out);
        }
        z.done = true;
        break;
      }
    }
    z.in_member = true;
    int rc = inflate(&s, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z.in_member = false;
      DC_CHECK(inflateReset(&s) == Z_OK);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string reason = s.msg ? s.msg : zError(rc);
      return fail(DataError("corrupt gzip data: " + reason + " near compressed byte " +
                                std::to_string(z.offset()),
                            path_),
                  capacity - s.avail_out);
    }
  }
  return capacity - s.avail_out;
}

size_t MemorySource::read(char* dst, size_t capacity) {
  size_t n = std::min(capacity, text_.size() - pos_);
  std::memcpy(dst, text_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace deepcross
