// Whole-file byte I/O: read a regular file into memory in one go, and replace a file atomically
// (temporary file in the same directory, fsync, rename, fsync the directory).
//
//   std::vector<uint8_t> bytes = read_whole_file("model.dcn", "model file");
//   std::vector<std::span<const uint8_t>> pieces = {header, payload};
//   write_whole_file_atomically("model.dcn", pieces);  // readers see the old or the new file
//
// Every failure is a DataError whose what() names the operation, the file and the OS reason
// (strerror), and whose where() is the target path.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

// The bytes of the regular file at `path`. `kind` names it in errors ("cannot open model file:
// No such file or directory"). A directory or device is refused.
std::vector<uint8_t> read_whole_file(const std::string& path, std::string_view kind);

// Writes the concatenation of `pieces` to `path` atomically (INTERFACE.md, "Model files"). A
// symbolic link is followed (to its final target, up to 40 links) and the target replaced, so
// the link stays a link; "-" is standard output, and an existing FIFO, device or socket is
// opened and written straight through (no temporary file, no rename). Otherwise:
//   1. create "PATH.tmp-PID-N" with O_EXCL beside `path` (mode 0666 less the umask),
//   2. write every piece, fsync, close,
//   3. call `before_rename(temp_path)` when given (tests: inspect, or throw to simulate a crash),
//   4. rename it over `path`, then fsync the directory so the rename itself is durable.
// On any failure before the rename, the temporary file is removed and `path` is untouched.
// A process killed between steps 1 and 4 leaves its temporary file behind; before step 1,
// every write removes the "PATH.tmp-PID-N" files (and "PATH.MORE.tmp-PID-N": the history and
// curves beside a model) of PIDs that no longer run (kill(PID, 0) says
// ESRCH), so leftovers never accumulate. (A writer in another PID namespace sharing the folder
// would look dead: do not point two containers at one model path.)
void write_whole_file_atomically(
    const std::string& path, std::span<const std::span<const uint8_t>> pieces,
    const std::function<void(const std::string& temp_path)>& before_rename = nullptr);

// The file a write to `path` replaces: `path` with its symbolic links followed (relative
// targets resolved against the link's folder); `path` itself when it is not a link.
std::string resolve_output_target(const std::string& path);

// Checks, before any work, that an output can be written: "-"; an existing FIFO or device
// that we may open for writing; else a path whose (link-resolved) folder exists and is
// writable, and which is not a folder. DataError("cannot write FLAG: REASON", path) otherwise.
void check_output_path(const std::string& path, std::string_view flag);

}  // namespace deepcross
