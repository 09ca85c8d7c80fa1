#!/bin/sh
# What golens record --maps costs a map-bound program, in one run: lookups/s
# of bench/maps/workload (one goroutine, GOMAXPROCS=1, pinned to CPU
# $TARGET_CPU, all its time in runtime.mapaccess1_fast64) with no golens, and
# under golens record (on CPU $GOLENS_CPU) with --maps off, sampled, deep
# (default duty cycle: 10ms probes per 1s) and deep with a heavier cycle
# ($HEAVY_WINDOW per $HEAVY_PERIOD). The workload measures its own rate per
# second of its CPU time (uprobe traps and BPF programs in its context
# included; time the shared machine's other programs take is not), over
# $SECONDS_PER_RUN CPU seconds; golens launches it (record -- CMD).
#
#   bench/maps/run.sh [BUILD_DIR]      (as root; ROUNDS=5 SECONDS_PER_RUN=4)
#
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/bench/maps/workload
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
TARGET_CPU=${TARGET_CPU:-1}
GOLENS_CPU=${GOLENS_CPU:-0}
HEAVY_WINDOW=${HEAVY_WINDOW:-50ms}
HEAVY_PERIOD=${HEAVY_PERIOD:-500ms}
for f in "$GOLENS" "$WORKLOAD"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

MODES="none off sampled deep deep-heavy"

run() { # mode -> lookups/s
  w="taskset -c $TARGET_CPU $WORKLOAD -seconds $SECONDS_PER_RUN"
  case "$1" in
    none) GOMAXPROCS=1 $w > "$TMP/out" ;;
    deep-heavy)
      GOMAXPROCS=1 taskset -c "$GOLENS_CPU" "$GOLENS" -q record --maps deep --maps-window "$HEAVY_WINDOW" \
        --maps-period "$HEAVY_PERIOD" -o "$TMP/p.pb.gz" -- $w > "$TMP/out" ;;
    *) GOMAXPROCS=1 taskset -c "$GOLENS_CPU" "$GOLENS" -q record --maps "$1" -o "$TMP/p.pb.gz" -- $w > "$TMP/out" ;;
  esac
  awk '/^lookups/ { print $6 }' "$TMP/out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Each mode runs right after its own no-golens run: the machine's load drifts
# (other builds), so each mode is compared with its neighbour, and the
# report gives the median over rounds of those paired ratios.
round=1
while [ "$round" -le "$ROUNDS" ]; do
  for mode in $MODES; do
    [ "$mode" = none ] && continue
    base=$(run none)
    rate=$(run "$mode")
    echo "$base" >> "$TMP/none"
    echo "$rate" >> "$TMP/$mode"
    echo "$rate $base" | awk '{ print $1 / $2 }' >> "$TMP/$mode.ratio"
  done
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done

printf 'workload on CPU %s, golens on CPU %s, %d rounds of %s CPU-s (medians; deep-heavy: %s per %s)\n' "$TARGET_CPU" \
  "$GOLENS_CPU" "$ROUNDS" "$SECONDS_PER_RUN" "$HEAVY_WINDOW" "$HEAVY_PERIOD"
printf '%-11s %14s %16s %34s\n' mode "lookups/cpu-s" "loss (paired)" "paired ratios"
printf '%-11s %14.0f %16s\n' none "$(median < "$TMP/none")" -
for mode in $MODES; do
  [ "$mode" = none ] && continue
  rate=$(median < "$TMP/$mode")
  ratio=$(median < "$TMP/$mode.ratio")
  all=$(sort -g "$TMP/$mode.ratio" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')
  printf '%-11s %14.0f %15.2f%% %34s\n' "$mode" "$rate" "$(echo "$ratio" | awk '{ print 100 * (1 - $1) }')" "$all"
done
