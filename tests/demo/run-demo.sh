#!/bin/bash
# `make demo`: profile the bundled demo Go workload and write demo-out/.
#   demo-out/cpu.pb.gz   pprof profile (go tool pprof opens it)
#   demo-out/flame.svg   interactive flame graph (open in a browser)
#   demo-out/cpu.folded  folded stacks
# Usage: run-demo.sh [BUILD_DIR] ; GOLENS_DEMO_DURATION overrides the 10 s.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
OUT=${GOLENS_DEMO_OUT:-$ROOT/demo-out}
DURATION=${GOLENS_DEMO_DURATION:-10s}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/demo/workload

for f in "$GOLENS" "$WORKLOAD"; do
  [ -x "$f" ] || { echo "error: $f is missing; run 'make build' first" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
  echo "error: golens needs root (CAP_BPF and CAP_PERFMON) to attach eBPF programs; run 'sudo make demo'" >&2
  exit 2
fi

mkdir -p "$OUT"
"$WORKLOAD" > "$OUT/workload.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 1  # let it start serving
kill -0 "$pid" 2>/dev/null || { echo "error: demo workload exited early:" >&2; cat "$OUT/workload.log" >&2; exit 1; }

echo "== recording demo workload (pid $pid) for $DURATION"
"$GOLENS" record --pid "$pid" --duration "$DURATION" --hz 99 \
  -o "$OUT/cpu.pb.gz" --svg "$OUT/flame.svg"
"$GOLENS" fold "$OUT/cpu.pb.gz" > "$OUT/cpu.folded"

cat <<MSG

== demo done. Outputs in ${OUT#$ROOT/}/:
  cpu.pb.gz   go tool pprof -top ${OUT#$ROOT/}/cpu.pb.gz
              go tool pprof -http=localhost:8080 ${OUT#$ROOT/}/cpu.pb.gz
  flame.svg   open it in a browser (hover, click to zoom, Ctrl-F to search)
  cpu.folded  folded stacks, one "a;b;c N" line per stack
MSG
