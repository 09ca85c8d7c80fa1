#!/bin/sh
# In-kernel cost of map statistics, from the kernel's BPF statistics
# (kernel.bpf_stats_enabled; restored afterwards), while golens records the
# map-bound workload (bench/maps/workload, nearly every sample in
# runtime.mapaccess1_fast64) at HZ: run_time_ns / run_cnt of the sampler
# (golens_sample_cpu) with --maps off and sampled, and of the deep-mode probe
# per probed lookup with --maps deep (golens_map_probe_multi: one uprobe_multi
# link per program, kernel 6.6+; golens_map_probe on older kernels).
#
#   bench/maps/bpf_cost.sh [BUILD_DIR] [HZ]      (as root)
set -eu
BUILD_DIR=${1:-build}
HZ=${2:-999}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/bench/maps/workload
TMP=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"; rm -rf "$TMP"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

read_stats() { # programs... -> "run_time_ns run_cnt" summed
  for prog in "$@"; do bpftool prog show name "$prog" 2>/dev/null | head -1; done | awk '{
    for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t += $(i + 1); if ($i == "run_cnt") c += $(i + 1) }
  } END { print t + 0, c + 0 }'
}

measure() { # mode programs...
  mode=$1
  shift
  "$GOLENS" -q record --hz "$HZ" --maps "$mode" -o "$TMP/p.pb.gz" -- "$WORKLOAD" -seconds 6 > "$TMP/out" &
  pid=$!
  sleep 2
  first=$(read_stats "$@")
  sleep 3
  second=$(read_stats "$@")
  wait "$pid"
  echo "$first $second" | awk -v mode="$mode" -v prog="$1" -v hz="$HZ" '{
    t = $3 - $1; c = $4 - $2
    if (c == 0) { printf "%-8s %-18s no runs\n", mode, prog; exit }
    printf "%-8s %-18s %8d runs over 3 s at %s Hz, %6.0f ns per run\n", mode, prog, c, hz, t / c }'
}

measure off golens_sample_cpu
measure sampled golens_sample_cpu
measure deep golens_map_probe_multi golens_map_probe
