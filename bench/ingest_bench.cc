// Parsing speed: read_table (what `deepcross train` reads --data with: SHA-256 of the bytes
// included) on one file, best of --repeats, in MB/s of the file's bytes; and a fingerprint of
// the parsed table (labels, numeric values, codes and dictionaries), so that two builds can be
// shown to parse a file identically.
//
//   ingest_bench FILE [--threads 2] [--repeats 3]
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "data/reader.h"
#include "data/sha256.h"

namespace {

std::string fingerprint(const deepcross::Table& t) {
  deepcross::Sha256 sha;
  auto bytes = [&](const void* p, size_t n) {
    sha.update(std::string_view(static_cast<const char*>(p), n));
  };
  bytes(t.labels.data(), t.labels.size() * sizeof(float));
  for (const auto& c : t.numeric) bytes(c.values.data(), c.values.size() * sizeof(float));
  for (const auto& c : t.categorical) {
    bytes(c.codes.data(), c.codes.size() * sizeof(uint32_t));
    for (const auto& v : c.dictionary) {
      const uint64_t n = v.size();
      bytes(&n, sizeof n);
      bytes(v.data(), v.size());
    }
  }
  return sha.hex_digest();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ingest_bench FILE [--threads 2] [--repeats 3]\n");
    return 2;
  }
  const std::string path = argv[1];
  int threads = 2, repeats = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--repeats") == 0) {
      repeats = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "ingest_bench: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "ingest_bench: cannot stat %s\n", path.c_str());
    return 1;
  }
  deepcross::ReadOptions opts;
  opts.threads = threads;
  double best = 1e300;
  std::string print;
  size_t rows = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const deepcross::Table t = deepcross::read_table({path}, opts);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    rows = t.rows;
    std::printf("run %d: %.3f s, %.0f MB/s\n", r + 1, s, st.st_size / s / 1e6);
    if (r == 0) print = fingerprint(t);
  }
  std::printf("%s: %zu rows, %.1f MB, %d threads: best %.3f s, %.0f MB/s; table %s\n",
              path.c_str(), rows, st.st_size / 1e6, threads, best, st.st_size / best / 1e6,
              print.c_str());
  return 0;
}
