#!/bin/bash
# Real profiles for store_sizes: N consecutive 10 s `golens record` profiles
# (19 Hz, the agent's default) of the demo workload, then the size table.
# Needs root (BPF). Usage: bench/store/record_real.sh BUILD_DIR [N=18]
set -euo pipefail
BUILD=$(cd "${1:?usage: record_real.sh BUILD_DIR [N]}" && pwd)
N=${2:-18}
OUT=$(mktemp -d /tmp/golens-store-real-XXXXXX)
"$BUILD/demo/workload" > "$OUT/workload.log" 2>&1 &
WL=$!
trap 'kill $WL 2>/dev/null || true' EXIT
sleep 1
for i in $(seq -w 1 "$N"); do
  "$BUILD/golens" record --pid "$WL" --duration 10s --hz 19 -o "$OUT/real-$i.pb.gz" 2>>"$OUT/record.log"
done
"$BUILD/bench/store/store_sizes" "$OUT"/real-*.pb.gz
echo "(profiles kept in $OUT)"
