#!/bin/bash
# Same bits before and after a change: trains the same runs with two deepcross binaries (every
# cross type, both structures once, a CSV multi-class run), then compares the model files,
# the predictions, the eval and info JSON and the explain JSON byte for byte.
# Usage: bench/same_bits.sh OLD_BINARY NEW_BINARY [DATA]   (prints one line per run; exit 1 on
# any difference)
set -euo pipefail
old=$1 new=$2
data=${3:-$(dirname "$0")/../data/criteo_kaggle_head_10k.tsv.gz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
run() {  # NAME FLAGS...
  local name=$1
  shift
  for side in old new; do
    local bin=$old
    [ $side = new ] && bin=$new
    # The same model path for both: the model records its own path among the options.
    "$bin" train --data "$data" --model "$work/m.model" --threads 2 "$@" > /dev/null 2> "$work/$side.train.err"
    cp "$work/m.model" "$work/$side.model"
    "$bin" predict --model "$work/m.model" --data "$data" --threads 2 > "$work/$side.pred" 2> /dev/null
    "$bin" eval --model "$work/m.model" --data "$data" > "$work/$side.eval"
    "$bin" info --model "$work/m.model" > "$work/$side.info"
    "$bin" explain --model "$work/m.model" --data "$data" --svg "$work/m.svg" > "$work/$side.explain" 2> /dev/null
  done
  for what in model pred eval info explain; do
    if ! cmp -s "$work/old.$what" "$work/new.$what"; then
      echo "$name: $what DIFFERS"
      status=1
      return
    fi
  done
  echo "$name: model, predictions ($(wc -l < "$work/new.pred") rows), eval, info, explain identical"
}
run vector --cross vector --epochs 3
run matrix --cross matrix --epochs 3
run matrix-parallel --cross matrix --structure parallel --epochs 3
run mix --cross mix --epochs 3
run lowrank --cross lowrank --epochs 3 --optimizer-mode exact
exit $status
