#!/bin/bash
# Symbolizer benchmarks: the Google Benchmark suite, then an end-to-end run of
# `golens symbolize` beside `go tool addr2line` on the same 100k addresses of
# the `go` command binary. Usage: bench/symbolizer/run.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
N=${GOLENS_BENCH_ADDRESSES:-100000}
ninja -C "$BUILD" -j2 symbolizer_bench symbolizer_bench_go golens >/dev/null
BIN=$BUILD/fixtures/symbolizer/bench_cmd_go
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== Google Benchmark ($BIN, $(stat -c %s "$BIN") bytes)"
"$BUILD/bench/symbolizer/symbolizer_bench" "${@:2}"

echo "== end to end: $N addresses"
"$BUILD/bench/symbolizer/symbolizer_bench" --write-addresses "$WORK/addrs.txt" "$N"
go tool addr2line "$BIN" </dev/null >/dev/null 2>&1 || true  # build/cache the tool first
# Best of RUNS wall-clock runs each, interleaved (the machine may be shared).
RUNS=${GOLENS_BENCH_RUNS:-5}
best() {  # best <var> <seconds>: keep the minimum
  if [ -z "${!1:-}" ] || python3 -c "import sys; sys.exit(0 if $2 < ${!1} else 1)"; then printf -v "$1" '%s' "$2"; fi
}
g=; a=
for _ in $(seq "$RUNS"); do
  t0=$(date +%s.%N); "$BUILD/golens" symbolize --exe "$BIN" <"$WORK/addrs.txt" >"$WORK/golens.txt"; t1=$(date +%s.%N)
  go tool addr2line "$BIN" <"$WORK/addrs.txt" >"$WORK/addr2line.txt"; t2=$(date +%s.%N)
  best g "$(python3 -c "print($t1 - $t0)")"
  best a "$(python3 -c "print($t2 - $t1)")"
done
echo "best of $RUNS runs each"
python3 - "$WORK" 0 "$g" "$(python3 -c "print($g + $a)")" "$N" <<'PY'
import sys
work, t0, t1, t2, n = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
def for_print(name):  # runtime.funcNameForPrint, as golens prints generic shapes
    i, j = name.find('['), name.rfind(']')
    return name if i < 0 or j <= i else name[:i] + '[...]' + name[j + 1:]
addrs = open(work + '/addrs.txt').read().split()
ref = open(work + '/addr2line.txt').read().splitlines()
ours, cur = {}, None
for line in open(work + '/golens.txt'):
    line = line.rstrip('\n')
    if line.startswith('0x'):
        cur = []; ours.setdefault(line, []).append(cur)
    else:
        cur.append(line.strip().rsplit(' ', 1))
seen, equal = {}, 0
for k, a in enumerate(addrs):
    idx = seen.get(a, 0); seen[a] = idx + 1
    frames = ours[a][idx]
    # addr2line prints the physical function with the innermost file:line.
    # (addr2line says ":-1" where golens says "??:0": padding between functions.)
    loc = '??:0' if ref[2 * k + 1] == ':-1' else ref[2 * k + 1]
    if for_print(ref[2 * k]) == frames[-1][0] and loc == frames[0][1]:
        equal += 1
g, a2l = t1 - t0, t2 - t1
print(f"golens symbolize:   {g:.3f} s  ({n / g / 1e3:.0f}k addresses/s)")
print(f"go tool addr2line:  {a2l:.3f} s  ({n / a2l / 1e3:.0f}k addresses/s)")
print(f"speedup: {a2l / g:.1f}x; same function + innermost file:line as addr2line: {equal}/{n}")
PY
