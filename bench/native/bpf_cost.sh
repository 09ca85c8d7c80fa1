#!/bin/sh
# In-kernel cost per target sample of golens_sample_cpu on the cgo fixture
# (its CPU is in C without frame pointers: nearly every sample copies the
# stack), with --no-native (frame pointers only) and with native snapshots
# of 16 KiB (the default) and 4 KiB, in one run. From the kernel's BPF
# statistics (kernel.bpf_stats_enabled; restored afterwards): the program's
# run_time_ns over 4 s divided by the target samples it wrote in that time
# (golens's own metrics map), so ticks of other processes (one hash lookup
# each) are spread over the samples alike in every mode; the difference
# between the modes is the snapshot's cost. Only the golens started here
# is measured (its programs and maps, by pid), even when others run.
#
# Modes are interleaved over ROUNDS rounds (5 by default); the medians are
# reported, since a shared machine moves single runs by several us.
#
#   bench/native/bpf_cost.sh [BUILD_DIR] [HZ]      (as root)
set -eu
BUILD_DIR=${1:-build}
HZ=${2:-99}
GOLENS=$BUILD_DIR/golens
CGO=$BUILD_DIR/fixtures/profiler/cgo-local
TMP=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"; rm -rf "$TMP"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# "run_time_ns run_cnt samples snapshots" of the golens with pid $1.
read_stats() {
  python3 - "$1" <<'PY'
import json, os, subprocess, sys
pid = int(sys.argv[1])
# The BPF objects golens holds: prog_id / map_id lines in its fds' fdinfo.
prog_ids, map_ids = set(), set()
for fd in os.listdir(f"/proc/{pid}/fdinfo"):
    try:
        for line in open(f"/proc/{pid}/fdinfo/{fd}"):
            if line.startswith("prog_id:"): prog_ids.add(int(line.split()[1]))
            if line.startswith("map_id:"): map_ids.add(int(line.split()[1]))
    except OSError:
        pass
progs = [p for p in json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))
         if p.get("id") in prog_ids and p.get("name") == "golens_sample_cpu"]
maps = [m for m in json.loads(subprocess.check_output(["bpftool", "-j", "map", "show"]))
        if m.get("id") in map_ids and m.get("name") == "metrics"]
if not progs or not maps:
    print("0 0 0 0"); sys.exit()
dump = json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "id", str(maps[0]["id"])]))
def metric(i):
    for e in dump:
        f = e.get("formatted", {})
        if f.get("key") == i:
            return sum(v["value"] for v in f.get("values", []))
    return 0
print(progs[0].get("run_time_ns", 0), progs[0].get("run_cnt", 0), metric(0), metric(24))
PY
}

ROUNDS=${ROUNDS:-5}
measure() {  # $1 = mode name, rest = extra record flags; appends ns per target sample to $TMP/$1
  mode=$1
  shift
  "$GOLENS" -q record --hz "$HZ" "$@" -o "$TMP/p.pb.gz" -- taskset -c 1 "$CGO" sort 8 > /dev/null &
  pid=$!
  sleep 2
  first=$(read_stats "$pid")
  sleep 4
  second=$(read_stats "$pid")
  wait "$pid"
  echo "$first $second" | awk '{ n = $7 - $3; if (n > 0) printf "%.0f %d %d\n", ($5 - $1) / n, n, $8 - $4 }' >> "$TMP/$mode"
}
round=1
while [ "$round" -le "$ROUNDS" ]; do
  measure fp-only --no-native
  measure native-16k --native-stack-bytes 16384
  measure native-4k --native-stack-bytes 4096
  echo "round $round/$ROUNDS done" >&2
  round=$((round + 1))
done
echo "golens_sample_cpu at $HZ Hz, cgo fixture (sort) pinned to CPU 1, median of $ROUNDS rounds"
for mode in fp-only native-16k native-4k; do
  sort -n "$TMP/$mode" | awk -v mode="$mode" '{ v[NR] = $1; n += $2; s += $3 } END {
    printf "%-12s %6.0f ns per target sample (min %6.0f, max %6.0f); %d samples, %d with a snapshot\n",
      mode, v[int((NR + 1) / 2)], v[1], v[NR], n, s }'
done
