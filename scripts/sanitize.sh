#!/bin/bash
# The sanitizer build: configures and builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer (-DDEEPCROSS_SANITIZE=ON, RelWithDebInfo) into build-asan and runs
# the test suite there. Any sanitizer report fails the test that triggered it (ASan aborts;
# UBSan is built with -fno-sanitize-recover), so this exits non-zero like ctest.
#
#   scripts/sanitize.sh                                  # the CI step: every test
#   DEEPCROSS_SANITIZE_EXCLUDE='^Learning\.' scripts/sanitize.sh   # leave tests out
#
# Environment:
#   DEEPCROSS_SANITIZE_BUILD    build folder (default build-asan)
#   DEEPCROSS_SANITIZE_JOBS     parallel compile and test jobs (default 2)
#   DEEPCROSS_SANITIZE_EXCLUDE  ctest -E regex of tests to leave out (default: none)
#
# Nothing is left out by default: measured (bench/README.md, "Reliability"), the whole suite
# runs in about two minutes under the sanitizers on 2 cores; the build is what takes time.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${DEEPCROSS_SANITIZE_BUILD:-build-asan}"
JOBS="${DEEPCROSS_SANITIZE_JOBS:-2}"
EXCLUDE="${DEEPCROSS_SANITIZE_EXCLUDE-}"

cmake -S . -B "$BUILD" -DDEEPCROSS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD" -j"$JOBS"

# detect_leaks: every allocation of the suite must be freed (OpenBLAS/OpenMP thread pools are
# process-lifetime and not reported as leaks). halt_on_error is ASan's default.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

args=(--test-dir "$BUILD" -j"$JOBS" --output-on-failure)
[ -n "$EXCLUDE" ] && args+=(-E "$EXCLUDE")
ctest "${args[@]}"
