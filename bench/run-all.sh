#!/bin/bash
# `make bench`: every area's benchmark suite and peer comparison, in one run.
# Figures and the commands behind them are recorded in bench/README.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
echo "== overhead: target throughput under golens vs runtime/pprof"
"$ROOT/bench/overhead/run.sh" "$BUILD_DIR"
"$ROOT/bench/overhead/bpf_cost.sh" "$BUILD_DIR" 99
echo "== map statistics: map-bound workload under --maps off, sampled, deep"
"$ROOT/bench/maps/run.sh" "$BUILD_DIR"
"$ROOT/bench/maps/bpf_cost.sh" "$BUILD_DIR" 999
echo "== recording core: drain path and snapshots (Google Benchmark)"
"$BUILD_DIR/bench/overhead/sample_pipeline_bench" --benchmark_min_time=0.3
echo "== native stacks: unwind cost, BPF copy cost, cgo program overhead beside frame pointers"
"$BUILD_DIR/bench/native/native_unwind_bench" --benchmark_min_time=0.3
"$ROOT/bench/native/bpf_cost.sh" "$BUILD_DIR" 99
"$ROOT/bench/native/run.sh" "$BUILD_DIR"
echo "== long run, bounded memory: 11 simulated minutes, 200 short-lived processes (~3 s)"
"$BUILD_DIR/bench/longrun/longrun_sim"
if [ "${GOLENS_BENCH_LONGRUN:-0}" = 1 ]; then
  echo "== long run in real time: golens record over 200 short Go processes (~10.5 min)"
  "$ROOT/bench/longrun/run.sh" "$BUILD_DIR"
else
  echo "(GOLENS_BENCH_LONGRUN=1 adds the 10-minute real-time run, bench/longrun/run.sh)"
fi
echo "== OTLP span export: encode, queue, end to end into Jaeger all-in-one"
"$ROOT/bench/otlp/run.sh" "$BUILD_DIR"
echo "== symbolizer: Google Benchmark + golens symbolize vs go tool addr2line"
"$ROOT/bench/symbolizer/run.sh" "$BUILD_DIR"
echo "== flame graphs: Google Benchmark + golens flame vs inferno"
"$BUILD_DIR/bench/flame/flame_bench" --benchmark_min_time=0.5
if command -v inferno-flamegraph >/dev/null || [ -x "$HOME/.cargo/bin/inferno-flamegraph" ]; then
  "$ROOT/bench/flame/run_peer.sh" "$BUILD_DIR" 9
else
  echo "(inferno not installed: 'cargo install inferno' to run the peer comparison)"
fi
