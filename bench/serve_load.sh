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
: >"$WORK/serve.err"  # exists before the loop below reads it (the server opens it as it starts)
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
# The server's own view of the one-row runs: time from last byte received to answer ready.
curl -sf "http://127.0.0.1:$PORT/metrics" | awk '
  /^deepcross_request_seconds_bucket\{le="0.0001"\}/ { a = $2 }
  /^deepcross_request_seconds_bucket\{le="0.00025"\}/ { b = $2 }
  /^deepcross_request_seconds_bucket\{le="0.001"\}/ { c = $2 }
  /^deepcross_request_seconds_count/ { n = $2 }
  /^deepcross_request_seconds_sum/ { s = $2 }
  END { printf "server-side, one-row runs: %d requests, mean %.1f us; within 100 us %.2f %%, " \
               "250 us %.2f %%, 1 ms %.3f %%\n", n, s / n * 1e6, 100 * a / n, 100 * b / n, 100 * c / n }'
for c in $BIG_CONNECTIONS; do run "$WORK/big.json" 256 "$c"; done

# A cross-check of the one-row latency with another client: sequential requests on one
# keep-alive connection from Python's http.client, timed with a monotonic clock (Python adds
# its own few tens of microseconds per request).
"$PYTHON" - "$PORT" "$WORK/one.json" <<'EOF2'
import http.client, sys, time
port, body = int(sys.argv[1]), open(sys.argv[2], "rb").read()
c = http.client.HTTPConnection("127.0.0.1", port)
t = []
for i in range(5100):
    a = time.perf_counter_ns()
    c.request("POST", "/v1/predict", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("status %d" % r.status)
    if i >= 100:
        t.append((time.perf_counter_ns() - a) / 1e6)
t.sort()
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print("python sequential client, 1 row: %d requests, p50 %.3f ms, p99 %.3f ms, max %.3f ms"
      % (len(t), q(0.5), q(0.99), t[-1]))
EOF2

echo "server-side totals (GET /metrics):"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^deepcross_(requests|rows|errors)_total|_count|_sum'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
