#!/usr/bin/env bash
# Load test of `deepcross serve` with wrk (Debian package `wrk`): starts the server on a free
# port, posts a one-row JSON body for DURATION seconds at each connection count, then a
# 256-row JSON body, and prints p50/p99 latency, requests/s, rows/s and errors per run, then
# the server's own counters from /metrics. Errors must be 0.
#
#   bench/serve_load.sh MODEL                      # a model trained on Criteo-layout rows
#   DURATION=10 CONNECTIONS="1 4 16" SERVER_THREADS=2 WRK_THREADS=1 bench/serve_load.sh m.dcn
#
# Environment (defaults): DEEPCROSS (build/deepcross), DURATION (10 s per run), CONNECTIONS
# ("1 4 16"), BIG_CONNECTIONS ("1 4"), SERVER_THREADS (2), WRK_THREADS (1), ROWS_FILE (rows in
# the Criteo layout, 39 or 40 fields; default: 256 rows from `deepcross synth --no-label`).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 MODEL   (environment: see the header of $0)" >&2
  exit 2
fi
MODEL=$1
DEEPCROSS=${DEEPCROSS:-build/deepcross}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-"1 4 16"}
BIG_CONNECTIONS=${BIG_CONNECTIONS:-"1 4"}
SERVER_THREADS=${SERVER_THREADS:-2}
WRK_THREADS=${WRK_THREADS:-1}
PYTHON=/usr/bin/python3
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
[[ -x $DEEPCROSS ]] || { echo "no deepcross binary at $DEEPCROSS (set DEEPCROSS)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/serve_load.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- request bodies: {"rows": [...]} from Criteo-layout TSV rows ----
ROWS_FILE=${ROWS_FILE:-}
if [[ -z $ROWS_FILE ]]; then
  "$DEEPCROSS" synth --rows 256 --no-label --seed 7 --output "$WORK/rows.tsv" 2>/dev/null
  ROWS_FILE=$WORK/rows.tsv
fi
"$PYTHON" - "$ROWS_FILE" "$WORK" <<'EOF'
import json, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
def row(line):
    f = line.split("\t")
    if len(f) == 40:
        f = f[1:]
    out = {}
    for i, v in enumerate(f):
        if v == "":
            continue
        if i < 13:
            out["I%d" % (i + 1)] = float(v) if any(c in v for c in ".eE") else int(v)
        else:
            out["C%d" % (i + 14 - 13)] = v
    return out
rows = [row(l) for l in lines]
while len(rows) < 256:
    rows += rows
open(sys.argv[2] + "/one.json", "w").write(json.dumps({"rows": rows[:1]}))
open(sys.argv[2] + "/big.json", "w").write(json.dumps({"rows": rows[:256]}))
EOF

cat >"$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
EOF

# ---- the server ----
"$DEEPCROSS" serve --model "$MODEL" --port 0 --threads "$SERVER_THREADS" 2>"$WORK/serve.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 300); do
  PORT=$(sed -n 's|^serving .* on http://[^ ]*:\([0-9]*\) (.*|\1|p' "$WORK/serve.err")
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n $PORT ]] || { echo "the server did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
URL=http://127.0.0.1:$PORT/v1/predict
curl -sf -H 'Content-Type: application/json' --data-binary @"$WORK/one.json" "$URL" >/dev/null

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $DEEPCROSS serve --model $MODEL --threads $SERVER_THREADS; wrk -t$WRK_THREADS -d${DURATION}s"
printf '| body | connections | p50 ms | p99 ms | requests/s | rows/s | errors |\n'
printf '|---|---|---|---|---|---|---|\n'
run() {  # body-file rows connections
  local out
  out=$(BODY_FILE=$1 wrk -t"$WRK_THREADS" -c"$3" -d"${DURATION}s" --latency -s "$WORK/post.lua" "$URL")
  read -r _ n us p50 p99 errors <<<"$(grep '^RESULT' <<<"$out")"
  awk -v rows="$2" -v c="$3" -v n="$n" -v us="$us" -v p50="$p50" -v p99="$p99" -v e="$errors" \
    'BEGIN { rps = n / (us / 1e6); printf "| %d row%s | %d | %.3f | %.3f | %.0f | %.0f | %d |\n",
             rows, rows == 1 ? "" : "s", c, p50 / 1000, p99 / 1000, rps, rps * rows, e }'
}
for c in $CONNECTIONS; do run "$WORK/one.json" 1 "$c"; done
for c in $BIG_CONNECTIONS; do run "$WORK/big.json" 256 "$c"; done

echo "server-side (GET /metrics):"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^deepcross_(requests|rows|errors)_total|_count|_sum'
