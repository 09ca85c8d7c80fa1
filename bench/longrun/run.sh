#!/bin/bash
# Real-time long run (opt-in, ~10.5 minutes; not part of `make bench`):
#   golens record -- sh -c 'for i in $(seq 200); do burner 3s; done'
# 200 short-lived Go processes, each burning 3 s of CPU on one thread, one
# after the other, under one `golens record`. Samples golens's own RSS
# (VmRSS, VmHWM from /proc/PID/status) and CPU time (utime+stime from
# /proc/PID/stat) every INTERVAL seconds into a CSV and prints the RSS at
# minute 1 and at the end. Needs root (or CAP_BPF + CAP_PERFMON).
#
#   bench/longrun/run.sh [BUILD_DIR]
#   env: GOLENS (default BUILD_DIR/golens), RUNS (200), BURN (3s),
#        INTERVAL (10), OUT (/tmp/golens-longrun)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
GOLENS=${GOLENS:-$BUILD_DIR/golens}
BURNER=${BURNER:-$BUILD_DIR/bench/longrun/burner}
RUNS=${RUNS:-200}
BURN=${BURN:-3s}
INTERVAL=${INTERVAL:-10}
OUT=${OUT:-/tmp/golens-longrun}
for f in "$GOLENS" "$BURNER"; do
  [ -x "$f" ] || { echo "missing $f (build it: cmake --build $BUILD_DIR --target golens bench_longrun_burner)" >&2; exit 1; }
done
mkdir -p "$OUT"
CSV=$OUT/golens-usage.csv
TICK=$(getconf CLK_TCK)

"$GOLENS" record -o "$OUT/cpu.pb.gz" -- sh -c "for i in \$(seq $RUNS); do '$BURNER' $BURN; done" \
  2>"$OUT/golens.log" &
PID=$!
START=$(date +%s.%N)
echo "golens pid $PID, $RUNS x $BURN, sampling every ${INTERVAL}s into $CSV"
echo "elapsed_s,rss_kb,hwm_kb,cpu_s,threads" >"$CSV"

# One row from /proc/PID: elapsed, VmRSS, VmHWM, utime+stime (s), threads.
sample() {
  local status stat now
  status=$(cat "/proc/$PID/status" 2>/dev/null) || return 1
  stat=$(cat "/proc/$PID/stat" 2>/dev/null) || return 1
  now=$(date +%s.%N)
  stat=${stat##*) }   # fields from 3 (state) on; comm may hold spaces
  awk -v now="$now" -v start="$START" -v tick="$TICK" -v stat="$stat" '
    /^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } /^Threads:/ { thr = $2 }
    END { split(stat, f, " "); printf "%.1f,%d,%d,%.2f,%d\n", now - start, rss, hwm, (f[12] + f[13]) / tick, thr }' \
    <<<"$status"
}

last=""
next=0
while kill -0 "$PID" 2>/dev/null; do
  row=$(sample) || break
  [ -n "$row" ] && last=$row
  elapsed=${row%%.*}
  if [ "$elapsed" -ge "$next" ]; then
    echo "$row" >>"$CSV"
    next=$((next + INTERVAL))
  fi
  sleep 1
done
# The last row seen (up to 1 s before golens exited, while it wrote the profile).
[ -n "$last" ] && [ "$(tail -n1 "$CSV")" != "$last" ] && echo "$last" >>"$CSV"
set +e
wait "$PID"
rc=$?
set -e
echo "golens exit code $rc; $(tail -n1 "$OUT/golens.log")"
awk -F, 'NR == 1 { next }
  !m1 && $1 >= 60 { m1 = $0 }
  { last = $0 }
  END {
    split(m1, a, ","); split(last, b, ",")
    printf "minute 1 (t=%ss): RSS %.1f MB, CPU %.2f s\n", a[1], a[2] / 1024, a[4]
    printf "end      (t=%ss): RSS %.1f MB (peak %.1f MB), CPU %.2f s (%.2f %% of one CPU)\n",
      b[1], b[2] / 1024, b[3] / 1024, b[4], 100 * b[4] / b[1]
  }' "$CSV"
