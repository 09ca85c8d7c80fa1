#!/bin/sh
# Throughput loss of the cgo fixture (Go -> C -> libc qsort -> C callback,
# C without frame pointers) recorded at 99 Hz with native stacks (the
# default) beside plain frame-pointer recording (--no-native), in one run.
# Workload and golens share one CPU, so golens's user-space unwinding
# competes with the target too.
#
#   bench/native/run.sh [BUILD_DIR]      (as root; ROUNDS=9 SECONDS_PER_RUN=3 by default)
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
CGO=$BUILD_DIR/fixtures/profiler/cgo-local
ROUNDS=${ROUNDS:-9}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
CPU=${CPU:-1}
HZ=${HZ:-99}
for f in "$GOLENS" "$CGO"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run_mode() {
  case $1 in
    baseline) taskset -c "$CPU" "$CGO" sort "$SECONDS_PER_RUN" ;;
    fp-only) taskset -c "$CPU" "$GOLENS" -q record --hz "$HZ" --no-native -o "$TMP/p.pb.gz" -- \
               "$CGO" sort "$SECONDS_PER_RUN" ;;
    native) taskset -c "$CPU" "$GOLENS" -q record --hz "$HZ" -o "$TMP/p.pb.gz" -- "$CGO" sort "$SECONDS_PER_RUN" ;;
  esac | awk '/^ops_per_sec/ { print $2 }'
}

MODES="baseline fp-only native"
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
printf '%-10s %12s %12s %20s   (%d rounds of %ss CPU, %s Hz, pinned to CPU %s)\n' mode "rounds/s" "loss" \
  "loss min..max" "$ROUNDS" "$SECONDS_PER_RUN" "$HZ" "$CPU"
for mode in $MODES; do
  lo=$(sort -g "$TMP/$mode.loss" | head -1)
  hi=$(sort -g "$TMP/$mode.loss" | tail -1)
  printf '%-10s %12.2f %11.2f%% %9.2f%%..%6.2f%%\n' "$mode" "$(median "$TMP/$mode.ops")" \
    "$(median "$TMP/$mode.loss")" "$lo" "$hi"
done
