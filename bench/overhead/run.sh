#!/bin/sh
# Throughput loss of a Go program profiled by golens at 99 and 999 Hz, beside
# runtime/pprof at the same rates, in one run. Everything (workload and
# profiler) is pinned to one CPU, so the profiler's user-space work competes
# with the target too.
#
#   bench/overhead/run.sh [BUILD_DIR]      (as root; ROUNDS=15 SECONDS_PER_RUN=2 by default)
#
# Every round runs all modes back to back and divides each mode's ops/s by
# that round's baseline, so slow drifts in machine load cancel; the report
# gives the median of those per-round losses and their spread (min..max).
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/bench/overhead/workload
ROUNDS=${ROUNDS:-15}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
CPU=${CPU:-1}
for f in "$GOLENS" "$WORKLOAD"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run_mode() {
  case $1 in
    baseline) taskset -c "$CPU" "$WORKLOAD" -seconds "$SECONDS_PER_RUN" ;;
    golens-99) taskset -c "$CPU" "$GOLENS" -q record --hz 99 --duration 1h -o "$TMP/p.pb.gz" -- \
                 "$WORKLOAD" -seconds "$SECONDS_PER_RUN" ;;
    golens-999) taskset -c "$CPU" "$GOLENS" -q record --hz 999 --duration 1h -o "$TMP/p.pb.gz" -- \
                 "$WORKLOAD" -seconds "$SECONDS_PER_RUN" ;;
    pprof-99) taskset -c "$CPU" "$WORKLOAD" -seconds "$SECONDS_PER_RUN" -pprof-hz 99 2>/dev/null ;;
    pprof-999) taskset -c "$CPU" "$WORKLOAD" -seconds "$SECONDS_PER_RUN" -pprof-hz 999 2>/dev/null ;;
  esac | awk '/^ops_per_sec/ { print $2 }'
}

MODES="baseline golens-99 pprof-99 golens-999 pprof-999"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  base=""
  for mode in $MODES; do
    v=$(run_mode "$mode")
    [ -n "$v" ] || { echo "mode $mode produced no result" >&2; exit 1; }
    [ -n "$base" ] || base=$v
    echo "$v" >> "$TMP/$mode.ops"
    echo "$v $base" | awk '{ printf "%.4f\n", (1 - $1 / $2) * 100 }' >> "$TMP/$mode.loss"
  done
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-12s %12s %12s %20s   (%d rounds of %ss runs, pinned to CPU %s)\n' mode "ops/s" "loss" "loss min..max" \
  "$ROUNDS" "$SECONDS_PER_RUN" "$CPU"
for mode in $MODES; do
  lo=$(sort -g "$TMP/$mode.loss" | head -1)
  hi=$(sort -g "$TMP/$mode.loss" | tail -1)
  printf '%-12s %12.1f %11.2f%% %9.2f%%..%6.2f%%\n' "$mode" "$(median "$TMP/$mode.ops")" \
    "$(median "$TMP/$mode.loss")" "$lo" "$hi"
done
