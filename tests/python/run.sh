#!/bin/sh
# The ctest entry of one pytest file in tests/python:
#   run.sh DEEPCROSS_BINARY TEST_FILE [PYTEST_ARGS...]
# Runs it with the repository's .venv (scripts/setup.sh creates it); fails, saying so, when
# the venv is missing or older than scripts/requirements-test.txt.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "tests/python: $root/.venv is missing: run scripts/setup.sh (it creates the venv" \
       "with the Python test requirements)" >&2
  exit 1
fi
if ! cmp -s "$root/scripts/requirements-test.txt" "$root/.venv/.requirements-test.txt"; then
  echo "tests/python: $root/.venv does not hold scripts/requirements-test.txt: run" \
       "scripts/setup.sh again" >&2
  exit 1
fi
binary="$1"
test_file="$2"
shift 2
exec "$py" -m pytest -q -p no:cacheprovider "$root/tests/python/$test_file" --deepcross "$binary" "$@"
