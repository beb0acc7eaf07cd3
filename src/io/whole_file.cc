#include "io/whole_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "deepcross/error.h"

namespace deepcross {
namespace {

std::string os_reason(int err) { return std::strerror(err); }

// Closes a descriptor once, on every path out of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and returns close()'s errno (0 on success): a failed close can mean lost data.
  int close_now() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Writes all of `data`, retrying short writes and EINTR; returns 0 or the errno.
int write_all(int fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

// A name for the temporary file: unique per process and call; O_EXCL settles any collision.
std::string temp_name(const std::string& path, int attempt) {
  static std::atomic<uint64_t> counter{0};
  uint64_t ticks =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  uint64_t tag = (counter.fetch_add(1) << 20) ^ (ticks & 0xfffff) ^ static_cast<uint64_t>(attempt);
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tag);
}

std::string directory_of(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Removes "PATH.tmp-PID-N" files beside `path` whose writer PID is no longer running: the
// temporaries of atomic writes that were killed before their rename. Our own PID's files
// (another thread may be writing one) and those of live processes are kept; errors are ignored
// (the cleanup is best-effort and never fails a write).
void remove_dead_writers_temporaries(const std::string& path) {
  const std::string base = std::filesystem::path(path).filename().string();
  const pid_t self = ::getpid();
  std::error_code ec;
  std::filesystem::directory_iterator it(directory_of(path), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, base.size(), base) != 0) continue;
    // "BASE[.MORE].tmp-PID-N": the files written beside BASE (m.dcn.history.csv beside m.dcn)
    // are cleaned with it.
    const size_t at = name.rfind(".tmp-");
    if (at == std::string::npos || at < base.size()) continue;
    const size_t start = at + 5;
    // PID: the digits up to the next '-', then a non-empty run of digits.
    const size_t dash = name.find('-', start);
    if (dash == std::string::npos || dash == start || dash + 1 == name.size()) continue;
    const std::string pid_text = name.substr(start, dash - start);
    const std::string tag = name.substr(dash + 1);
    if (pid_text.size() > 9 ||
        pid_text.find_first_not_of("0123456789") != std::string::npos ||
        tag.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid <= 0 || pid == self) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code remove_ec;
    std::filesystem::remove(it->path(), remove_ec);
  }
}

}  // namespace

std::vector<uint8_t> read_whole_file(const std::string& path, std::string_view kind) {
  const std::string k(kind);
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) throw DataError("cannot open " + k + ": " + os_reason(errno), path);
  Fd fd(raw);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    throw DataError("cannot stat " + k + ": " + os_reason(errno), path);
  if (!S_ISREG(st.st_mode)) throw DataError("cannot read " + k + ": not a regular file", path);
  // The size comes from the file system, not from the file's contents, so it is safe to trust
  // for the allocation. If the file shrinks meanwhile we return what was there.
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DataError("cannot read " + k + ": " + os_reason(errno), path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

std::string resolve_output_target(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::vector<char> buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1);
    const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) throw DataError("cannot read the symbolic link: " + os_reason(errno), p);
    const std::string target(buf.data(), static_cast<size_t>(n));
    p = !target.empty() && target[0] == '/'
            ? target
            : (std::filesystem::path(directory_of(p)) / target).lexically_normal().string();
  }
  throw DataError("cannot write: too many levels of symbolic links", path);
}

namespace {

// Writes `pieces` to a file that is not replaced by a rename: standard output ("-"), a FIFO, a
// character or block device, a socket.
void write_straight_through(const std::string& shown, int fd,
                            std::span<const std::span<const uint8_t>> pieces) {
  for (std::span<const uint8_t> piece : pieces) {
    if (int err = write_all(fd, piece)) throw DataError("cannot write: " + os_reason(err), shown);
  }
}

}  // namespace

void check_output_path(const std::string& path, std::string_view flag) {
  const std::string f(flag);
  if (path == "-") return;
  const std::string target = resolve_output_target(path);
  struct stat st;
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw DataError("cannot write " + f + ": it is a directory", path);
    if (!S_ISREG(st.st_mode)) {
      if (::access(target.c_str(), W_OK) != 0) {
        throw DataError("cannot write " + f + ": " + os_reason(errno), path);
      }
      return;
    }
  }
  // A regular file is replaced by a rename in its folder: the folder must exist and be writable.
  const std::string dir = directory_of(target);
  struct stat ds;
  if (::stat(dir.c_str(), &ds) != 0) {
    throw DataError("cannot write " + f + ": folder " + dir + ": " + os_reason(errno), path);
  }
  if (!S_ISDIR(ds.st_mode)) {
    throw DataError("cannot write " + f + ": " + dir + " is not a folder", path);
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw DataError("cannot write " + f + ": folder " + dir + ": " + os_reason(errno), path);
  }
}

void write_whole_file_atomically(
    const std::string& shown_path, std::span<const std::span<const uint8_t>> pieces,
    const std::function<void(const std::string& temp_path)>& before_rename) {
  if (shown_path == "-") {
    write_straight_through("stdout", STDOUT_FILENO, pieces);
    return;
  }
  // A symbolic link stays a link: its (final) target is replaced.
  const std::string path = resolve_output_target(shown_path);
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
    if (S_ISDIR(existing.st_mode)) throw DataError("cannot write: it is a directory", shown_path);
    Fd out(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (out.get() < 0) throw DataError("cannot open for writing: " + os_reason(errno), shown_path);
    write_straight_through(shown_path, out.get(), pieces);
    if (int err = out.close_now()) throw DataError("cannot close: " + os_reason(err), shown_path);
    return;
  }
  remove_dead_writers_temporaries(path);
  std::string temp;
  int raw = -1;
  for (int attempt = 0; attempt < 100 && raw < 0; ++attempt) {
    temp = temp_name(path, attempt);
    raw = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw < 0 && errno != EEXIST) break;
  }
  if (raw < 0) {
    throw DataError("cannot create temporary file " + temp + ": " + os_reason(errno), path);
  }
  Fd fd(raw);
  try {
    for (std::span<const uint8_t> piece : pieces) {
      if (int err = write_all(fd.get(), piece)) {
        throw DataError("cannot write temporary file " + temp + ": " + os_reason(err), path);
      }
    }
    if (::fsync(fd.get()) != 0) {
      throw DataError("cannot sync temporary file " + temp + ": " + os_reason(errno), path);
    }
    if (int err = fd.close_now()) {
      throw DataError("cannot close temporary file " + temp + ": " + os_reason(err), path);
    }
    if (before_rename) before_rename(temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      throw DataError("cannot rename " + temp + " over " + path + ": " + os_reason(errno), path);
    }
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  // The new file is in place; make the rename durable.
  const std::string dir = directory_of(path);
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) {
    throw DataError("cannot open directory " + dir + " to sync it: " + os_reason(errno), path);
  }
  // Some file systems cannot sync a directory (EINVAL); nothing more can be done there.
  if (::fsync(dir_fd.get()) != 0 && errno != EINVAL) {
    throw DataError("cannot sync directory " + dir + ": " + os_reason(errno), path);
  }
}

}  // namespace deepcross
