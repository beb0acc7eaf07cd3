#!/bin/sh
# Installs what the opt-in benchmarks (bench/, -DDEEPCROSS_BUILD_BENCH=ON) need beyond the
# main build: Google Benchmark and oneDNN (Debian 12: libdnnl-dev 2.6.3, built on GNU OpenMP,
# the same runtime as libopenblas0-openmp). Run as root. Without oneDNN, gemm_bench still
# builds and runs its OpenBLAS cases and says that the oneDNN cases were left out.
set -eu
apt-get install -y --no-install-recommends libbenchmark-dev libdnnl-dev libopenblas-openmp-dev
