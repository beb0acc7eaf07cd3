#!/bin/sh
# Installs, from Debian 12's archive, everything deepcross needs to build and test.
# Run as root on a fresh machine (no network but Debian's packages is fine).
#   libopenblas-openmp-dev  OpenBLAS on OpenMP (named explicitly: plain libopenblas-dev pulls
#                           the pthread variant, which can take over libblas.so.3)
#   libdnnl-dev             oneDNN: the training-sized float GEMMs (bench/README.md)
#   zlib1g-dev              .gz input and output
#   libssl-dev              SHA-256 fingerprints of the training data (OpenSSL EVP)
#   nlohmann-json3-dev      JSON output, model metadata, HTTP bodies
#   libcli11-dev            command-line parsing
#   libcpp-httplib-dev      the HTTP server of `deepcross serve` (a compiled library, linked
#                           through pkg-config; its header is built with OpenSSL, zlib and
#                           Brotli support, so it includes their headers:)
#   libbrotli-dev           Brotli headers for httplib.h (libssl-dev, zlib1g-dev: above)
#   libgtest-dev            the test suite
set -eu
export DEBIAN_FRONTEND=noninteractive
PACKAGES="build-essential cmake pkg-config libopenblas-openmp-dev libdnnl-dev zlib1g-dev libssl-dev \
nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libbrotli-dev libgtest-dev"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/setup.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
  fi
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
# The Python packages of the test suite (onnx, onnxruntime, tritonclient, pytest) in .venv.
sh "$(dirname "$0")/setup-python.sh"
