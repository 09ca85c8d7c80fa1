#!/bin/bash
# OTLP span export: bench/otlp/otlp_bench with the end-to-end case against
# Jaeger all-in-one v1.76.0 (built once into BUILD_DIR/tools by
# tests/integration/build_jaeger.sh; in-memory storage, loopback, free ports).
#   bench/otlp/run.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
jaeger=$BUILD_DIR/tools/jaeger-all-in-one
"$ROOT/tests/integration/build_jaeger.sh" "$jaeger"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
otlp=$(free_port); query=$(free_port)
log=$(mktemp)
"$jaeger" --collector.otlp.http.host-port=127.0.0.1:$otlp --collector.otlp.grpc.host-port=127.0.0.1:$(free_port) \
  --collector.http-server.host-port=127.0.0.1:$(free_port) --collector.grpc-server.host-port=127.0.0.1:$(free_port) \
  --query.http-server.host-port=127.0.0.1:$query --query.grpc-server.host-port=127.0.0.1:$(free_port) \
  --admin.http.host-port=127.0.0.1:$(free_port) --memory.max-traces=100000 > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$query/api/services" && break
  sleep 0.1
done
GOLENS_BENCH_OTLP_ENDPOINT=http://127.0.0.1:$otlp "$BUILD_DIR/bench/otlp/otlp_bench" --benchmark_min_time=0.5 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2> >(grep -v '^golens: warning' >&2)
