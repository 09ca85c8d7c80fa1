#!/bin/sh
# Throughput loss of the cgo fixture (Go -> C -> libc qsort -> C callback,
# C without frame pointers) recorded at 99 Hz with native stacks (the
# default) beside plain frame-pointer recording (--no-native), in one run.
# Workload and golens share one CPU, so golens's user-space unwinding
# competes with the target too.
#
#   bench/native/run.sh [BUILD_DIR]      (as root; ROUNDS=9 SECONDS_PER_RUN=3 by default)
#
# Two figures per mode from the same runs: "wall", rounds per wall-clock
# second (golens's user-space unwinding on the same CPU counts against the
# target, and so does every other process on the machine), and "cpu",
# rounds per second of the target's own CPU time (the in-kernel sampling,
# BPF copy included, is charged to it; preemption by other load is not, so
# it is far less noisy on a shared machine).
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
  esac | awk '$1 == "ops_per_sec" { w = $2 } $1 == "ops_per_cpu_sec" { c = $2 } END { if (w != "") print w, c }'
}

MODES="baseline fp-only native"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  base=""
  for mode in $MODES; do
    v=$(run_mode "$mode")
    [ -n "$v" ] || { echo "mode $mode produced no result" >&2; exit 1; }
    [ -n "$base" ] || base=$v
    echo "$v $base" | awk '{ printf "%s %s %.4f %.4f\n", $1, $2, (1 - $1 / $3) * 100, (1 - $2 / $4) * 100 }' \
      >> "$TMP/$mode"
  done
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '(%d rounds of %ss of target CPU, %s Hz, pinned to CPU %s; loss vs that round'"'"'s baseline, median [min..max])\n' \
  "$ROUNDS" "$SECONDS_PER_RUN" "$HZ" "$CPU"
printf '%-10s %10s %26s %10s %26s\n' mode "wall r/s" "wall loss" "cpu r/s" "cpu loss"
for mode in $MODES; do
  f=$TMP/$mode
  printf '%-10s %10.1f %8.2f%% [%6.2f..%6.2f%%] %10.1f %8.2f%% [%6.2f..%6.2f%%]\n' "$mode" \
    "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)" \
    "$(cut -d' ' -f3 "$f" | sort -g | head -1)" "$(cut -d' ' -f3 "$f" | sort -g | tail -1)" \
    "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f4 "$f" | median)" \
    "$(cut -d' ' -f4 "$f" | sort -g | head -1)" "$(cut -d' ' -f4 "$f" | sort -g | tail -1)"
done
