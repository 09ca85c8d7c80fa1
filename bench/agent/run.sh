#!/bin/bash
# What `golens agent` costs with N busy Go targets, in one run: the targets'
# total work (rounds finished) with no agent and with the agent (default
# 19 Hz, 10 s intervals, --all-go), interleaved over ROUNDS; the agent's own
# CPU (utime + stime from /proc) and peak RSS (VmHWM); the store's size.
#
#   bench/agent/run.sh [BUILD_DIR]     (as root; N=50 SECONDS_PER_RUN=30 ROUNDS=3 HZ=19)
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
BUSY=$BUILD_DIR/bench/agent/busy
N=${N:-50}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
ROUNDS=${ROUNDS:-3}
HZ=${HZ:-19}
for f in "$GOLENS" "$BUSY"; do [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }; done
TMP=$(mktemp -d)
APID=""
cleanup() { [ -z "$APID" ] || kill "$APID" 2>/dev/null || true; pkill -f "$TMP/busy" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
cp "$BUSY" "$TMP/busy"
TICKS=$(getconf CLK_TCK)

# Runs N targets for SECONDS_PER_RUN; prints their total rounds.
run_targets() {
  local pids=() total=0
  for i in $(seq "$N"); do "$TMP/busy" -seconds "$SECONDS_PER_RUN" > "$TMP/out.$i" & pids+=($!); done
  wait "${pids[@]}"
  for i in $(seq "$N"); do total=$((total + $(cat "$TMP/out.$i"))); done
  echo "$total"
}

cpu_seconds() { awk -v t="$TICKS" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

echo "N=$N targets, ${SECONDS_PER_RUN}s runs, $ROUNDS rounds, agent at $HZ Hz, $(nproc) CPUs"
printf "%-6s %14s %14s %9s %12s %9s %9s %9s\n" round no_agent with_agent loss_% agent_cpu_% peak_MB anon_MB store_KB
for r in $(seq "$ROUNDS"); do
  base=$(run_targets)
  rm -rf "$TMP/store"
  "$GOLENS" -q agent --store "$TMP/store" --all-go --hz "$HZ" --interval 10s & APID=$!
  sleep 1
  c0=$(cpu_seconds "$APID"); t0=$(date +%s.%N)
  with=$(run_targets)
  c1=$(cpu_seconds "$APID"); t1=$(date +%s.%N)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$APID/status")
  anon=$(awk '/RssAnon/ {print $2}' "/proc/$APID/status")
  kill -INT "$APID"; wait "$APID" || true; APID=""
  store_kb=$(du -sk "$TMP/store" | cut -f1)
  loss=$(awk -v a="$base" -v b="$with" 'BEGIN {printf "%.2f", (a - b) * 100 / a}')
  cpu=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.3f", (c1 - c0) * 100 / (t1 - t0)}')
  printf "%-6s %14s %14s %9s %12s %9.1f %9.1f %9s\n" "$r" "$base" "$with" "$loss" "$cpu" "$(echo "$hwm / 1024" | bc -l)" \
    "$(echo "$anon / 1024" | bc -l)" "$store_kb"
done
echo "peak_MB is VmHWM (file-backed pages of mapped target binaries included), anon_MB RssAnon at the end."
echo "agent_cpu_% is of one CPU (user + system time of the agent process; in-kernel BPF time is"
echo "charged to the sampled targets and shows in loss_%)."
