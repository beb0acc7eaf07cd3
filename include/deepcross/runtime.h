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

}  // namespace deepcross
