// Whole-file I/O: atomic replacement, and the cleanup of temporaries left by killed writers.
#include "io/whole_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "deepcross/error.h"
#include "io/temp_folder_test_support.h"

namespace deepcross {
namespace {

class WholeFile : public TempFolderTest {
 protected:
  static void touch(const std::string& path) { std::ofstream(path) << "partial"; }
  static void write(const std::string& path, const std::string& text) {
    const std::span<const uint8_t> piece(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    write_whole_file_atomically(path, std::span<const std::span<const uint8_t>>(&piece, 1));
  }
};

// The PID of a process that has exited (and been reaped).
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

TEST_F(WholeFile, ReplacesAtomicallyAndReadsBack) {
  write(file("m.dcn"), "first");
  write(file("m.dcn"), "second");
  const std::vector<uint8_t> back = read_whole_file(file("m.dcn"), "model file");
  EXPECT_EQ(std::string(back.begin(), back.end()), "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(WholeFile, AWriteRemovesOnlyTheTemporariesOfDeadWriters) {
  const std::string dead = std::to_string(dead_pid());
  const std::string live = std::to_string(getppid());  // our parent runs
  const std::string self = std::to_string(getpid());   // another thread may be writing
  const std::vector<std::string> removed = {"m.dcn.tmp-" + dead + "-123",
                                            "m.dcn.tmp-" + dead + "-9"};
  const std::vector<std::string> kept = {
      "m.dcn.tmp-" + live + "-123",  "m.dcn.tmp-" + self + "-5",   "other.dcn.tmp-" + dead + "-1",
      "m.dcn.tmp-" + dead + "-x1",   "m.dcn.tmp-" + dead + "-",    "m.dcn.tmp--1",
      "m.dcn.tmp-12a-1",             "m.dcn.tmp-99999999999-1",    "m.dcn.history.csv",
      "xm.dcn.tmp-" + dead + "-1"};
  for (const auto& n : removed) touch(file(n));
  for (const auto& n : kept) touch(file(n));
  write(file("m.dcn"), "model");
  for (const auto& n : removed) EXPECT_FALSE(std::filesystem::exists(file(n))) << n;
  for (const auto& n : kept) EXPECT_TRUE(std::filesystem::exists(file(n))) << n;
}

TEST_F(WholeFile, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  write(file("m.dcn"), "old");
  const std::string text = "new";
  const std::span<const uint8_t> piece(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_THROW(write_whole_file_atomically(file("m.dcn"),
                                           std::span<const std::span<const uint8_t>>(&piece, 1),
                                           [](const std::string&) { throw DataError("crash"); }),
               DataError);
  const std::vector<uint8_t> back = read_whole_file(file("m.dcn"), "model file");
  EXPECT_EQ(std::string(back.begin(), back.end()), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

}  // namespace
}  // namespace deepcross
