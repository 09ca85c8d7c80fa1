#!/bin/sh
# In-kernel cost per sample of golens_sample_cpu on the cgo fixture (its CPU
# in C without frame pointers: nearly every sample copies the stack), with
# native snapshots (default, 16 KiB) and with --no-native (frame pointers
# only), in one run. From the kernel's BPF statistics
# (kernel.bpf_stats_enabled; restored afterwards): run_time_ns / run_cnt.
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
read_stats() {
  bpftool prog show name golens_sample_cpu | head -1 | awk '{
    for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
    print t, c }'
}
measure() {  # $1 = label, rest = extra record flags
  label=$1
  shift
  "$GOLENS" -q record --hz "$HZ" "$@" -o "$TMP/p.pb.gz" -- taskset -c 1 "$CGO" sort 8 > /dev/null &
  pid=$!
  sleep 2
  first=$(read_stats)
  sleep 4
  second=$(read_stats)
  wait "$pid"
  echo "$first $second" | awk -v label="$label" '{
    t = $3 - $1; c = $4 - $2
    printf "%-22s %8d runs  %8.0f ns per run (all CPUs, target and other ticks)\n", label, c, t / c }'
}
measure "frame pointers only" --no-native
measure "native 16 KiB" --native-stack-bytes 16384
measure "native 4 KiB" --native-stack-bytes 4096
