#!/bin/bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each, one after the other, for
# SECONDS on its seed corpus (tests/testdata/fuzz/TARGET). Exits non-zero when the build fails
# or any target reports a crash, a sanitizer error, a timeout or an out-of-memory; the input
# that did it is left in BUILD/fuzz-artifacts/TARGET/ (replay: BUILD/fuzz/TARGET FILE).
#
#   scripts/fuzz.sh                    # every target, 60 s each (the CI step)
#   scripts/fuzz.sh 600 model_fuzz     # one target, 10 minutes
#
# Environment:
#   DEEPCROSS_FUZZ_BUILD       build folder (default build-fuzz)
#   DEEPCROSS_FUZZ_SANITIZERS  sanitizers besides libFuzzer (default address,undefined;
#                              "none" for a plain -fsanitize=fuzzer build, several times faster)
#   DEEPCROSS_FUZZ_JOBS        parallel compile jobs (default 2)
#   DEEPCROSS_FUZZ_ARGS        extra libFuzzer flags (e.g. -runs=10000000)
# Inputs libFuzzer finds interesting go to BUILD/fuzz-corpus/TARGET (kept between runs); the
# seed corpora in the source tree are only read. Needs clang 14 with its runtimes: installed
# from Debian when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(parser_fuzz model_fuzz request_fuzz)
BUILD="${DEEPCROSS_FUZZ_BUILD:-build-fuzz}"
SANITIZERS="${DEEPCROSS_FUZZ_SANITIZERS:-address,undefined}"
[ "$SANITIZERS" = none ] && SANITIZERS=""
JOBS="${DEEPCROSS_FUZZ_JOBS:-2}"
case "$SECONDS_EACH" in
  '' | *[!0-9]*) echo "scripts/fuzz.sh: SECONDS must be a whole number, got '$SECONDS_EACH'" >&2
                 exit 2 ;;
esac

# clang, libFuzzer's runtime (libclang-rt-14-dev) and omp.h for clang (libomp-14-dev).
have_toolchain() {
  command -v clang++ >/dev/null 2>&1 || return 1
  [ -e "$(clang++ -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a" ] || return 1
  echo '#include <omp.h>' | clang++ -x c++ -fsyntax-only - >/dev/null 2>&1
}
if ! have_toolchain; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/fuzz.sh: needs clang libclang-rt-14-dev libomp-14-dev (run as root to" \
         "install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev libomp-14-dev
fi

cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DDEEPCROSS_FUZZ=ON \
  -DDEEPCROSS_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DDEEPCROSS_FUZZ_SANITIZERS=$SANITIZERS" >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"

# -max_len per target: a request or a data file of a few lines, a tiny model file.
max_len() {
  case "$1" in
    model_fuzz) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

failed=()
for t in "${TARGETS[@]}"; do
  seeds="tests/testdata/fuzz/${t%_fuzz}"
  corpus="$BUILD/fuzz-corpus/$t"
  artifacts="$BUILD/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  echo "== $t: ${SECONDS_EACH} s, seeds $seeds, corpus $corpus" >&2
  # shellcheck disable=SC2086
  if "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" \
      -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" ${DEEPCROSS_FUZZ_ARGS:-} "$corpus" "$seeds" \
      >"$BUILD/fuzz-$t.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
      "$BUILD/fuzz-$t.log" >&2 || true
  else
    tail -n 60 "$BUILD/fuzz-$t.log" >&2
    echo "== $t FAILED: see $BUILD/fuzz-$t.log and $artifacts/" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "scripts/fuzz.sh: ${TARGETS[*]}: no crashes in ${SECONDS_EACH} s each" >&2
