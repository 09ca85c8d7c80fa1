#!/usr/bin/env bash
# End-to-end peer run: golens vs inferno-flamegraph on the same generated
# folded input (1M samples, 50k distinct stacks), interleaved in one run,
# plus golens on the same profile as pprof. Then the golens SVG is opened in
# headless chromium (load, zoom, search timings).
# usage: bench/flame/run_peer.sh BUILD_DIR [RUNS]
# Needs: inferno (`cargo install inferno`; a benchmark peer only), /usr/bin/time.
set -euo pipefail
BUILD=$(realpath "$1")
RUNS=${2:-7}
HERE=$(cd "$(dirname "$0")" && pwd)
INFERNO=${INFERNO:-$(command -v inferno-flamegraph || echo "$HOME/.cargo/bin/inferno-flamegraph")}
[ -x "$INFERNO" ] || { echo "inferno-flamegraph not found: cargo install inferno"; exit 1; }
GOLENS=$BUILD/golens
OUT=$BUILD/bench-flame
mkdir -p "$OUT"
"$BUILD/bench/flame/flame_bench_gen" "$OUT"
# Same pruning: golens drops frames under 0.1 px of 1180 px; inferno takes percent.
MINWIDTH_PCT=0.00847

declare -A times rss
run() {  # label, command...
  local label=$1; shift
  local stats
  /usr/bin/time -o "$OUT/time.txt" -f "%e %M" "$@" >/dev/null 2>/dev/null
  stats=$(tail -1 "$OUT/time.txt")
  times[$label]+="${stats%% *} "
  rss[$label]="${stats##* }"
}
for ((i = 0; i < RUNS; i++)); do
  run inferno-folded sh -c "'$INFERNO' --minwidth $MINWIDTH_PCT '$OUT/profile.folded' > '$OUT/inferno.svg'"
  run golens-folded "$GOLENS" -q flame "$OUT/profile.folded" -o "$OUT/golens-folded.svg"
  run golens-pprof "$GOLENS" -q flame "$OUT/profile.pb.gz" -o "$OUT/golens-pprof.svg"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-16s %10s %10s %12s %8s\n" tool "median s" "max RSS MB" "SVG bytes" frames
for label in inferno-folded golens-folded golens-pprof; do
  case $label in
    inferno-folded) svg=$OUT/inferno.svg; frames=$(grep -o '<g>' "$svg" | wc -l) ;;
    golens-folded) svg=$OUT/golens-folded.svg; frames=$(grep -c '<g class=' "$svg") ;;
    golens-pprof) svg=$OUT/golens-pprof.svg; frames=$(grep -c '<g class=' "$svg") ;;
  esac
  printf "%-16s %10s %10s %12s %8s\n" "$label" "$(echo "${times[$label]}" | median)" \
    "$((${rss[$label]} / 1024))" "$(stat -c %s "$svg")" "$frames"
done
echo "input: $(stat -c %s "$OUT/profile.folded") bytes folded, $(stat -c %s "$OUT/profile.pb.gz") bytes pprof.gz; $RUNS runs each, interleaved"
if [ -d "$HERE/../../tests/browser/node_modules/playwright-core" ] && [ -x /usr/bin/chromium ]; then
  echo "chromium: $(node "$HERE/browser_timing.js" "$OUT/golens-pprof.svg")"
fi
