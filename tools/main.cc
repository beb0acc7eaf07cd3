// deepcross: the command-line tool. Subcommands are wired in as they land.
#include <cstdio>
#include <cstring>
#include <exception>

#include "deepcross/error.h"

int main(int argc, char** argv) {
  try {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
      std::fprintf(stderr, "usage: deepcross SUBCOMMAND [FLAGS]\n");
      return argc < 2 ? 2 : 0;
    }
    throw deepcross::UsageError(std::string("unknown subcommand '") + argv[1] + "'", argv[1]);
  } catch (const deepcross::Error& e) {
    std::fprintf(stderr, "deepcross: error: %s\n", e.message().c_str());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deepcross: error: %s\n", e.what());
    return 1;
  }
}
