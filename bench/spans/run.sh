#!/bin/sh
# What golens record --spans costs an HTTP server, in one run: requests/s of
# the httpserver test fixture under a loopback load generator (loadgen, -c
# keep-alive connections) with no golens, with golens record (CPU samples
# only) and with golens record --spans, for /idle (the cost of a request is
# mostly net/http and the probes) and /work?ms=1 (1 ms of CPU per request).
# The server runs alone on CPU $SERVER_CPU (GOMAXPROCS=1), loadgen and
# golens on the other CPU, so the server's CPU is the bottleneck and its
# CPU time per request (all threads' schedstat, probes' kernel time
# included) measures the added cost directly; the rates say the same through
# 1/rps. Then the per-sample cost of copying pprof labels (labels_cost.sh).
#
#   bench/spans/run.sh [BUILD_DIR]      (as root; ROUNDS=5 SECONDS_PER_RUN=4 CONC=8)
#
# Modes are interleaved per round, the report gives medians over rounds.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
SERVER=${SERVER:-$BUILD_DIR/fixtures/profiler/httpserver-local}
LOADGEN=$BUILD_DIR/bench/spans/loadgen
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
CONC=${CONC:-8}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
for f in "$GOLENS" "$SERVER" "$LOADGEN"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }
done
TMP=$(mktemp -d)
SPID=""
GPID=""
cleanup() {
  [ -z "$GPID" ] || kill "$GPID" 2>/dev/null || true
  [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

MODES="none record spans"
if ! "$GOLENS" record --help 2>&1 | grep -q -- --spans; then
  echo "$GOLENS has no --spans: measuring none and record only" >&2
  MODES="none record"
fi

GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$SERVER" -background=false > "$TMP/server.out" &
SPID=$!
i=0
until grep -q listening "$TMP/server.out"; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
PORT=$(awk '/listening/ { print $2 }' "$TMP/server.out")

# On-CPU nanoseconds of a process, all its threads.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

run() { # mode path -> "rps server_cpu_us_per_request golens_cpu_us_per_request"
  flag=""
  GPID=""
  if [ "$1" != none ]; then
    [ "$1" = spans ] && flag=--spans
    : > "$TMP/golens.err"
    taskset -c "$CLIENT_CPU" "$GOLENS" record --pid "$SPID" $flag --duration 1h -o "$TMP/p.pb.gz" 2> "$TMP/golens.err" &
    GPID=$!
    i=0
    until grep -q "recording 1 process" "$TMP/golens.err"; do i=$((i + 1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done
  fi
  s0=$(cpu_ns "$SPID")
  g0=0
  [ -z "$GPID" ] || g0=$(cpu_ns "$GPID")
  taskset -c "$CLIENT_CPU" "$LOADGEN" -url "http://127.0.0.1:$PORT$2" -c "$CONC" -warmup 0 \
    -duration "${SECONDS_PER_RUN}s" > "$TMP/loadgen.out"
  s1=$(cpu_ns "$SPID")
  g1=0
  if [ -n "$GPID" ]; then
    g1=$(cpu_ns "$GPID")
    kill -INT "$GPID"
    wait "$GPID" || { cat "$TMP/golens.err" >&2; exit 1; }
    GPID=""
  fi
  awk -v s="$((s1 - s0))" -v g="$((g1 - g0))" '/^rps/ { printf "%.1f %.2f %.2f\n", $2, s / $4 / 1000, g / $4 / 1000 }' \
    "$TMP/loadgen.out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

PATHS="/idle /work?ms=1"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  for path in $PATHS; do
    key=$(echo "$path" | tr -c 'a-z0-9\n' '_')
    for mode in $MODES; do
      run "$mode" "$path" >> "$TMP/$key-$mode"
    done
  done
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done

printf 'httpserver (%s) on CPU %s, loadgen -c %s on CPU %s, %d rounds of %ss (medians)\n' "$(basename "$SERVER")" \
  "$SERVER_CPU" "$CONC" "$CLIENT_CPU" "$ROUNDS" "$SECONDS_PER_RUN"
printf '%-12s %-7s %10s %16s %16s %18s %16s\n' path mode "req/s" "server us/req" "+us/req (cpu)" "+us/req (1/rps)" \
  "golens us/req"
for path in $PATHS; do
  key=$(echo "$path" | tr -c 'a-z0-9\n' '_')
  base_rps=$(awk '{ print $1 }' "$TMP/$key-none" | median)
  base_cpu=$(awk '{ print $2 }' "$TMP/$key-none" | median)
  for mode in $MODES; do
    rps=$(awk '{ print $1 }' "$TMP/$key-$mode" | median)
    cpu=$(awk '{ print $2 }' "$TMP/$key-$mode" | median)
    g=$(awk '{ print $3 }' "$TMP/$key-$mode" | median)
    echo "$path $mode $rps $cpu $g $base_rps $base_cpu" | awk '{
      printf "%-12s %-7s %10.0f %16.2f %16.2f %18.2f %16.2f\n", $1, $2, $3, $4, $4 - $7, (1 / $3 - 1 / $6) * 1e6, $5 }'
  done
done
kill "$SPID"
wait "$SPID" 2>/dev/null || true
SPID=""

echo
echo "== label copying at sample time (golens_sample_cpu run time, labels vs --no-labels)"
"$ROOT/bench/spans/labels_cost.sh" "$BUILD_DIR"
