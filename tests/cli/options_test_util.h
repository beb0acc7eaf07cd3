// Helpers shared by the cli tests: catching deepcross errors, and a private temporary
// directory per test (tests run in parallel).
//
//   Caught e = catch_error([] { parse_options("train", {}); });
//   EXPECT_EQ(e.exit_code, 2);
//   TempDir dir;
//   std::string path = dir.write("run.cfg", "lr = 0.1\n");
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "deepcross/error.h"

namespace deepcross::cli_test {

struct Caught {
  std::string what, where;
  int exit_code = -1;
};

template <typename F>
Caught catch_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.what(), e.where(), e.exit_code()};
  }
  ADD_FAILURE() << "no deepcross::Error thrown";
  return {};
}

// Every test gets its own directory, so tests can run in parallel.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "deepcross_options_XXXXXX").string();
    if (const char* made = mkdtemp(pattern.data())) path_ = made;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace deepcross::cli_test
