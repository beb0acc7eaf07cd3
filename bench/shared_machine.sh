#!/usr/bin/env bash
# A shared machine: training speed of the vector cross (samples/s, training steps only) with the
# default thread setting against fixed thread counts, on a quiet machine, beside one busy process
# (`yes > /dev/null`), and inside a cgroup limited to 1 CPU (cgroup v2 cpu.max, else v1
# cpu.cfs_quota_us; skipped, and said so, where a child cgroup cannot be made).
#
#   bench/shared_machine.sh [--binary build/deepcross] [--rows 1000000] [--epochs 3]
#                           [--repeats 3] [--work DIR] [--lock FILE] [--max-load 1.0]
#                           [--max-wait 600]
#
# Each setting runs --repeats times (quiet and busy runs alternate per repeat); the table shows
# the median. With --lock FILE the script waits while FILE exists and is younger than 50 minutes
# (another benchmark is timing), creates it while timing and removes it on exit, failure
# included. Before timing it waits up to --max-wait seconds for the 1-minute load average to
# fall below --max-load and records it either way. The target (issue 11, section 4): with one competing busy
# process the default keeps at least 80 % of the best fixed thread count's throughput, and on a
# quiet machine it is no slower than the best.
set -euo pipefail

binary=build/deepcross rows=1000000 epochs=3 repeats=3 work="" lock="" max_load=1.0 wait_s=600
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --lock) lock=$2; shift 2 ;;
    --max-load) max_load=$2; shift 2 ;;
    --max-wait) wait_s=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "shared_machine.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "shared_machine.sh: no executable at --binary $binary" >&2; exit 2; }
binary=$(readlink -f "$binary")
cpus=$(nproc)
[ -n "$work" ] || work=$(mktemp -d /tmp/dc_shared.XXXXXX)
mkdir -p "$work"
cd "$work"

competitor="" cgroup="" own_lock=0
cleanup() {
  [ -n "$competitor" ] && kill "$competitor" 2>/dev/null || true
  [ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null || true
  [ "$own_lock" = 1 ] && rm -f "$lock" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
commit=$(git -C "$(dirname "$binary")" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "shared_machine: $(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $cpu, $cpus CPUs;" \
     "vector cross, synth $rows rows, $epochs epochs, median of $repeats"

wait_for_lock() {
  [ -n "$lock" ] || return 0
  while [ -e "$lock" ] && [ $(( $(date +%s) - $(stat -c %Y "$lock") )) -lt 3000 ]; do sleep 30; done
}
wait_for_lock  # generating and parsing are heavy too: not while another benchmark times
if [ ! -f data.tsv ]; then
  "$binary" synth --rows "$rows" --seed 1 --output data.tsv 2>/dev/null
fi
# run_train [command prefix...] -- [flags...]: prints train_samples_per_s; a failed run stops
# the script with its error.
run_train() {
  local prefix=()
  while [ "$1" != -- ]; do prefix+=("$1"); shift; done
  shift
  if ! "${prefix[@]}" "$binary" train --data data.tsv --cache cache --cross vector \
      --epochs "$epochs" --patience "$epochs" "$@" > run.json 2> run.err; then
    echo "shared_machine.sh: a training run failed (${prefix[*]} $*):" >&2
    tail -5 run.err >&2
    exit 1
  fi
  python3 -c 'import json,sys; print(round(json.load(open("run.json"))["train_samples_per_s"]))'
}
train() { run_train -- "$@"; }
train --threads 1 >/dev/null  # fills the cache: later runs skip parsing

if [ -n "$lock" ]; then
  wait_for_lock
  touch "$lock"
  own_lock=1
fi
for _ in $(seq $((wait_s / 10))); do
  awk -v m="$max_load" '{exit !($1 < m)}' /proc/loadavg && break
  sleep 10
done
echo "load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)"

# A child cgroup limited to 1 CPU, where permitted.
make_cgroup() {
  local d
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    d=/sys/fs/cgroup/dc_shared_$$
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    mkdir "$d" 2>/dev/null && echo "100000 100000" > "$d/cpu.max" 2>/dev/null &&
      { cgroup=$d; echo "cgroup v2 $d, cpu.max 100000 100000"; return; }
  fi
  if [ -d /sys/fs/cgroup/cpu ]; then
    d=/sys/fs/cgroup/cpu/dc_shared_$$
    mkdir "$d" 2>/dev/null && echo 100000 > "$d/cpu.cfs_period_us" &&
      echo 100000 > "$d/cpu.cfs_quota_us" 2>/dev/null &&
      { cgroup=$d; echo "cgroup v1 $d, cpu.cfs_quota_us 100000 per 100000"; return; }
  fi
  echo "no child cgroup could be made here (not permitted or no cpu controller): quota runs skipped"
}
in_cgroup() {  # runs "$@" inside the cgroup
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cgroup" "$@"
}
make_cgroup

settings=("default" "1" "$cpus")
[ "$cpus" -gt 2 ] && settings+=("$((cpus / 2))")
declare -A runs
flags() { [ "$1" = default ] && return 0; echo "--threads $1"; }
for r in $(seq "$repeats"); do
  for s in "${settings[@]}"; do
    # shellcheck disable=SC2046
    runs[quiet,$s]+=" $(train $(flags "$s"))"
  done
  yes > /dev/null & competitor=$!
  sleep 1
  for s in "${settings[@]}"; do
    # shellcheck disable=SC2046
    runs[busy,$s]+=" $(train $(flags "$s"))"
  done
  kill "$competitor"; wait "$competitor" 2>/dev/null || true; competitor=""
  if [ -n "$cgroup" ]; then
    for s in "${settings[@]}"; do
      # shellcheck disable=SC2046
      runs[quota,$s]+=" $(run_train in_cgroup -- $(flags "$s"))"
    done
  fi
done
echo "load average after timing: $(cut -d' ' -f1-3 /proc/loadavg)"

conditions=(quiet busy)
[ -n "$cgroup" ] && conditions+=(quota)
header="| condition |" rule="|---|"
for s in "${settings[@]}"; do header+=" threads $s |"; rule+="---|"; done
printf '\n%s default / best fixed |\n%s---|\n' "$header" "$rule"
for c in "${conditions[@]}"; do
  line="| $c |" best=0 def=0
  for s in "${settings[@]}"; do
    med=$(echo ${runs[$c,$s]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    line+=" $med (${runs[$c,$s]# }) |"
    if [ "$s" = default ]; then def=$med; elif [ "$med" -gt "$best" ]; then best=$med; fi
  done
  echo "$line $(awk -v d="$def" -v b="$best" 'BEGIN {printf "%.0f %%", 100 * d / b}') |"
done
echo
echo "quiet: no other work; busy: one \`yes > /dev/null\` beside training; quota: the run inside a"
echo "cgroup limited to 1 CPU. Samples/s of the training steps; each cell: median (all runs)."
