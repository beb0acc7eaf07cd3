// Whole-file I/O: atomic replacement, and the cleanup of temporaries left by killed writers.
#include "io/whole_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
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

// INTERFACE.md, "Model files": a symbolic link stays a link and its target is replaced (also
// through a chain of relative links in other folders); the temporary file goes beside the
// target.
TEST_F(WholeFile, ASymlinkStaysALinkAndItsTargetIsReplaced) {
  std::filesystem::create_directory(file("models"));
  write(file("models/v1.dcn"), "old");
  std::filesystem::create_symlink("models/v1.dcn", file("link1"));
  std::filesystem::create_symlink("link1", file("current.dcn"));
  write(file("current.dcn"), "new");
  EXPECT_TRUE(std::filesystem::is_symlink(file("current.dcn")));
  EXPECT_TRUE(std::filesystem::is_symlink(file("link1")));
  const std::vector<uint8_t> back = read_whole_file(file("models/v1.dcn"), "model file");
  EXPECT_EQ(std::string(back.begin(), back.end()), "new");
  EXPECT_EQ(resolve_output_target(file("current.dcn")),
            std::filesystem::path(file("models/v1.dcn")).lexically_normal().string());
  // A dangling link: its target is created.
  std::filesystem::create_symlink("models/v2.dcn", file("next.dcn"));
  write(file("next.dcn"), "v2");
  EXPECT_TRUE(std::filesystem::is_symlink(file("next.dcn")));
  EXPECT_TRUE(std::filesystem::is_regular_file(file("models/v2.dcn")));
  // A loop is an error, not a hang.
  std::filesystem::create_symlink("loop.b", file("loop.a"));
  std::filesystem::create_symlink("loop.a", file("loop.b"));
  EXPECT_THROW(write(file("loop.a"), "x"), DataError);
}

// A FIFO (and any other file that is not regular) is written straight through: its reader
// gets the bytes and the FIFO stays a FIFO.
TEST_F(WholeFile, AFifoIsWrittenStraightThrough) {
  const std::string fifo = file("report.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] {
    std::ifstream in(fifo);
    got.assign(std::istreambuf_iterator<char>(in), {});
  });
  write(fifo, "through the pipe");
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  // /dev/null: opened and written, never replaced (we could not, and must not).
  EXPECT_NO_THROW(write("/dev/null", "discarded"));
  // /dev/full: the device's error is the write's error.
  EXPECT_THROW(write("/dev/full", "no room"), DataError);
}

// Outputs are checked before any work: the failures a write would have later.
TEST_F(WholeFile, CheckOutputPathRefusesWhatAWriteWouldRefuse) {
  struct Case {
    std::string path, expect;
  };
  std::filesystem::create_directory(file("adir"));
  write(file("plain"), "x");
  const std::vector<Case> refused = {
      {file("no/such/folder/m.dcn"), "No such file or directory"},
      {file("adir"), "it is a directory"},
      {file("plain/m.dcn"), "not a folder"},
  };
  for (const Case& c : refused) {
    try {
      check_output_path(c.path, "--model");
      ADD_FAILURE() << c.path << " was accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--model"), std::string::npos) << e.what();
      EXPECT_EQ(e.where(), c.path);
    }
  }
  for (const std::string& ok : {file("new.dcn"), file("plain"), std::string("-"),
                                std::string("/dev/null")}) {
    EXPECT_NO_THROW(check_output_path(ok, "--model")) << ok;
  }
  EXPECT_TRUE(std::filesystem::is_empty(file("adir")));
}

}  // namespace
}  // namespace deepcross
