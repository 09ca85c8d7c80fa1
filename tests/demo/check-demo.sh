#!/bin/bash
# Runs the demo for 4 s into a scratch dir and checks what a user would:
# go tool pprof opens the profile cleanly and shows the demo's own functions,
# and the flame graph names them too.
set -euo pipefail
BUILD_DIR=$1
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
GOLENS_DEMO_OUT=$OUT GOLENS_DEMO_DURATION=4s "$(dirname "$0")/run-demo.sh" "$BUILD_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -s "$OUT/cpu.pb.gz" ] || fail "no cpu.pb.gz"
[ -s "$OUT/flame.svg" ] || fail "no flame.svg"
top=$(go tool pprof -top "$OUT/cpu.pb.gz" 2>"$OUT/pprof.err") || fail "go tool pprof failed: $(cat "$OUT/pprof.err")"
[ ! -s "$OUT/pprof.err" ] || fail "go tool pprof warned: $(cat "$OUT/pprof.err")"
for fn in main.priceItems main.worker main.handleOrder; do
  grep -q "$fn" <<<"$(go tool pprof -traces "$OUT/cpu.pb.gz" 2>/dev/null)" || fail "$fn not in the profile"
done
grep -q "main.priceItems" "$OUT/flame.svg" || fail "flame.svg lacks main.priceItems"
grep -q "main.priceItems" "$OUT/cpu.folded" || fail "cpu.folded lacks main.priceItems"
echo "$top" | head -12
echo "demo ok"
