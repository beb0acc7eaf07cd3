#!/bin/bash
# The sanitizer build: configures and builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer (-DDEEPCROSS_SANITIZE=ON, RelWithDebInfo) into build-asan and runs
# the test suite there. Any sanitizer report fails the test that triggered it (ASan aborts;
# UBSan is built with -fno-sanitize-recover), so this exits non-zero like ctest.
#
#   scripts/sanitize.sh                  # the CI step
#   DEEPCROSS_SANITIZE_EXCLUDE= scripts/sanitize.sh    # every test, nothing excluded
#
# Environment:
#   DEEPCROSS_SANITIZE_BUILD    build folder (default build-asan)
#   DEEPCROSS_SANITIZE_JOBS     parallel compile and test jobs (default 2)
#   DEEPCROSS_SANITIZE_EXCLUDE  ctest -E regex of tests left out (default below)
#
# Left out by default, for CI's 30-minute budget (bench/README.md, "Reliability", has the
# timings): the learning-threshold tests (LearningTest.*: several training runs to an AUC
# margin, minutes under ASan; they test the maths, which the Release run covers, not memory
# safety). Everything else runs, the end-to-end tests included (the binary under test is the
# sanitized one).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${DEEPCROSS_SANITIZE_BUILD:-build-asan}"
JOBS="${DEEPCROSS_SANITIZE_JOBS:-2}"
EXCLUDE="${DEEPCROSS_SANITIZE_EXCLUDE-^LearningTest\.}"

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
