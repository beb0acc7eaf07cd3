#!/bin/bash
# The installed package: `cmake --install` to a temporary prefix, examples/ configured with
# find_package(deepcross) and built against it, then run on the 10k-row Criteo sample: train
# writes a model, predict scores it exactly as `deepcross predict` does (byte for byte).
# Usage: examples_test.sh BUILD_DIR SOURCE_DIR DEEPCROSS_BINARY
set -euo pipefail
build=$1 source=$2 deepcross=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" 2>&1 || fail "cmake --install"
# The installed interface is include/deepcross/ alone: no header of src/ is named in it.
if grep -rn '#include "' "$work/prefix/include/deepcross" | grep -v '"deepcross/'; then
  fail "an installed header includes a header outside include/deepcross"
fi
cmake -S "$source/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 || fail "configure examples/"
cmake --build "$work/build" -j2 > "$work/build.log" 2>&1 || fail "build examples/"

data="$source/data/criteo_kaggle_head_10k.tsv.gz"
"$work/build/train" "$data" "$work/m.model" > "$work/train.log" 2>&1 || fail "train example"
grep -q '^epoch 1: validation AUC 0\.' "$work/train.log" || fail "train example: no epoch line"
grep -q '^best epoch [0-9]*; test AUC 0\.[0-9]*; model ' "$work/train.log" || fail "train example: no summary"
"$work/build/predict" "$work/m.model" "$data" > "$work/example.txt" 2> "$work/predict.log" ||
  fail "predict example"
"$deepcross" predict --model "$work/m.model" --data "$data" > "$work/cli.txt" 2>> "$work/predict.log" ||
  fail "deepcross predict"
[ "$(wc -l < "$work/example.txt")" -eq "$(gzip -dc "$data" | wc -l)" ] ||
  fail "predict example: not one line per row"
cmp "$work/example.txt" "$work/cli.txt" || fail "predict example differs from deepcross predict"
echo "examples built against the installed package: train and predict agree with deepcross"
