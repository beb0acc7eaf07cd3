#!/bin/sh
# Creates .venv at the repository root with the Python packages of the test suite
# (scripts/requirements-test.txt, pinned, from PyPI). Idempotent: a venv that already holds
# exactly these requirements is left alone. Called by scripts/setup.sh; run as root on a
# fresh Debian 12 (it installs python3-venv when missing).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
req="$root/scripts/requirements-test.txt"
venv="$root/.venv"
py=/usr/bin/python3
if ! $py -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/setup-python.sh: python3-venv is missing (run as root to install it)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends python3-venv
fi
stamp="$venv/.requirements-test.txt"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
[ -x "$venv/bin/python" ] || $py -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
