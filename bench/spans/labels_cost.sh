#!/bin/sh
# In-kernel cost of copying pprof labels at sample time: run_time_ns /
# run_cnt of golens_sample_cpu (kernel.bpf_stats_enabled, restored
# afterwards) while golens records the labels test fixture, with labels (the
# default) and with --no-labels, rounds interleaved. Two targets: the
# default fixture (goroutines with 1-2 short labels, or none) and -many (one
# goroutine with 40 labels of 300-byte values: 32 copied, cut at 128 bytes).
#
#   bench/spans/labels_cost.sh [BUILD_DIR]      (as root; ROUNDS=5 HZ=999 WINDOW=4)
#
# Every cpu-clock tick of every CPU runs the program; ticks of other
# processes return after one hash lookup. To get the cost per target sample,
# each round also records an idle target (sleep), whose runs are all such
# non-target ticks (r0 ns each): per sample = (T - (runs - S) x r0) / S over
# the window, S = golens's sample count x window / duration. On a quiet
# machine the fixture keeps both CPUs busy and nearly every run is a sample.
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
FIXTURE=${FIXTURE:-$BUILD_DIR/fixtures/profiler/labels-local}
ROUNDS=${ROUNDS:-5}
HZ=${HZ:-999}
WINDOW=${WINDOW:-4}
DURATION=$((WINDOW + 3))
for f in "$GOLENS" "$FIXTURE"; do
  [ -x "$f" ] || { echo "missing $f: build first (make build)" >&2; exit 1; }
done
TMP=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
FPID=""
GPID=""
cleanup() {
  [ -z "$GPID" ] || kill "$GPID" 2>/dev/null || true
  [ -z "$FPID" ] || kill "$FPID" 2>/dev/null || true
  sysctl -qw kernel.bpf_stats_enabled="$old"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
sysctl -qw kernel.bpf_stats_enabled=1

# "ID run_time_ns run_cnt" of every loaded golens_sample_cpu.
progs() {
  bpftool prog show name golens_sample_cpu 2>/dev/null | awk '/^[0-9]+:/ {
    id = $1; sub(":", "", id); t = 0; c = 0
    for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
    print id, t, c }'
}

# One measurement: prints "run_time_ns runs target_samples" of the window.
measure() { # variant(default|many|idle) mode(labels|no-labels)
  : > "$TMP/fixture.out"
  case $1 in
    idle) sleep $((DURATION + 10)) & ;;
    many) "$FIXTURE" -seconds $((DURATION + 10)) -many > "$TMP/fixture.out" & ;;
    *) "$FIXTURE" -seconds $((DURATION + 10)) > "$TMP/fixture.out" & ;;
  esac
  FPID=$!
  i=0
  until [ "$1" = idle ] || grep -q ready "$TMP/fixture.out"; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
  flag=""
  [ "$2" = no-labels ] && flag=--no-labels
  : > "$TMP/golens.err"
  "$GOLENS" record --pid "$FPID" --hz "$HZ" --duration "${DURATION}s" $flag -o "$TMP/p.pb.gz" 2> "$TMP/golens.err" &
  GPID=$!
  i=0
  until grep -q "recording 1 process" "$TMP/golens.err"; do i=$((i + 1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done
  # Ours: the golens_sample_cpu whose fd this golens holds (other golens
  # processes may be running: the fdinfo of a BPF program fd names its id).
  ids=$(cat /proc/"$GPID"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { printf " %s ", $2 }')
  ours=$(progs | awk -v ids="$ids" 'index(ids, " " $1 " ") { print $1 }')
  [ "$(echo "$ours" | wc -w)" = 1 ] || { echo "cannot find golens's golens_sample_cpu (ids: $ids)" >&2; exit 1; }
  sleep 1
  first=$(progs | awk -v id="$ours" '$1 == id { print $2, $3 }')
  sleep "$WINDOW"
  second=$(progs | awk -v id="$ours" '$1 == id { print $2, $3 }')
  wait "$GPID"
  GPID=""
  kill "$FPID"
  wait "$FPID" 2>/dev/null || true
  FPID=""
  samples=$(sed -n 's/^golens: \([0-9]*\) samples.*/\1/p' "$TMP/golens.err")
  echo "$first $second $samples" | awk -v w="$WINDOW" -v d="$DURATION" '{ printf "%.0f %.0f %.0f\n", $3 - $1, $4 - $2, $5 * w / d }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

round=1
while [ "$round" -le "$ROUNDS" ]; do
  measure idle labels | awk '{ printf "%.1f\n", $1 / $2 }' >> "$TMP/r0"
  for variant in default many; do
    for mode in labels no-labels; do
      measure "$variant" "$mode" >> "$TMP/$variant-$mode"
    done
  done
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done
r0=$(median < "$TMP/r0")
printf 'golens_sample_cpu at %s Hz on %s, %d rounds of a %ss window (medians);\n' "$HZ" "$(basename "$FIXTURE")" \
  "$ROUNDS" "$WINDOW"
printf 'a non-target tick (idle target) costs %s ns\n' "$r0"
printf '%-8s %-10s %10s %12s %12s %18s\n' target mode "ns/run" runs "target samples" "ns/target sample"
for variant in default many; do
  for mode in labels no-labels; do
    f=$TMP/$variant-$mode
    awk -v r0="$r0" '{ printf "%.1f %.1f\n", $1 / $2, ($1 - ($2 - $3) * r0) / $3 }' "$f" > "$f.ns"
    printf '%-8s %-10s %10.0f %12s %12s %18.0f\n' "$variant" "$mode" "$(awk '{ print $1 }' "$f.ns" | median)" \
      "$(awk '{ print $2 }' "$f" | median)" "$(awk '{ print $3 }' "$f" | median)" "$(awk '{ print $2 }' "$f.ns" | median)"
  done
  l=$(awk '{ print $2 }' "$TMP/$variant-labels.ns" | median)
  n=$(awk '{ print $2 }' "$TMP/$variant-no-labels.ns" | median)
  echo "$l $n" | awk -v v="$variant" '{ printf "%-8s copying labels: %+.0f ns per sample\n", v, $1 - $2 }'
done
