// What a program built on deepcross sets up once, and a file helper the tools share.
//
//   int main() {
//     deepcross::flush_subnormals_to_zero();  // first, before any thread exists
//     ...
//     deepcross::write_text_file("out.json", json);  // atomically: old or new, never half
//   }
#pragma once

#include <string>
#include <string_view>

namespace deepcross {

// Sets the calling thread's floating-point mode to flush subnormal numbers to zero, which
// training and scoring assume (models are bit-identical to `deepcross train` only with it);
// threads started later inherit it.
void flush_subnormals_to_zero();

// Writes `text` to `path` through a temporary file renamed over it: readers see the old or
// the new file. DataError naming the path when it cannot.
void write_text_file(const std::string& path, std::string_view text);

// Checks, before any work, that an output can be written: "-"; an existing FIFO or device
// that may be opened for writing; else a path whose folder exists and is writable, and which is
// not a folder. DataError("cannot write FLAG: REASON", path) otherwise.
void check_output_path(const std::string& path, std::string_view flag);

// The CPUs this process may use (affinity mask and cgroup CPU quota), at least 1.
int available_cpus();

}  // namespace deepcross
