#!/bin/sh
# In-kernel cost of the golens sampler per invocation, from the kernel's BPF
# statistics (kernel.bpf_stats_enabled; restored afterwards): run_time_ns /
# run_cnt of golens_sample_cpu while it records the overhead workload.
# Every cpu-clock tick on every CPU runs the program; ticks of other
# processes return after one hash lookup, target ticks record a sample.
#
#   bench/overhead/bpf_cost.sh [BUILD_DIR] [HZ]      (as root)
set -eu
BUILD_DIR=${1:-build}
HZ=${2:-999}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/bench/overhead/workload
TMP=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"; rm -rf "$TMP"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
"$GOLENS" -q record --hz "$HZ" --duration 1h -o "$TMP/p.pb.gz" -- "$WORKLOAD" -seconds 6 > "$TMP/out" &
read_stats() {
  bpftool prog show name golens_sample_cpu | head -1 | awk '{
    for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
    print t, c }'
}
sleep 2
first=$(read_stats)
sleep 3
second=$(read_stats)
wait
cat "$TMP/out"
echo "$first $second" | awk -v hz="$HZ" '{
  t = $3 - $1; c = $4 - $2
  printf "golens_sample_cpu at %s Hz over 3 s: %d runs (all CPUs), %.0f ns per run on average\n", hz, c, t / c
  printf "in-kernel sampler time: %.3f ms per second = %.3f%% of one CPU (for one busy target thread at %s Hz)\n", t / 3 / 1e6, t / 3 / 1e7, hz
}'
