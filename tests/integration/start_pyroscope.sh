#!/bin/bash
# Starts a Grafana Pyroscope server on loopback for golens's integration tests.
#   start_pyroscope.sh WORKDIR [HTTP_PORT]  -> prints "PID URL" once /ready answers
# Which server: $PYROSCOPE_BIN (any Pyroscope v1.x/v2.x single binary, e.g. from
# https://github.com/grafana/pyroscope/releases), else the workplace's copy
# (../shared/tools/pyroscope/start.sh next to this repository).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: start_pyroscope.sh WORKDIR [HTTP_PORT]}
shared=$here/../../../shared/tools/pyroscope/start.sh
if [ -z "${PYROSCOPE_BIN:-}" ]; then
  if [ -x "$shared" ]; then exec "$shared" "$@"; fi
  echo "no Pyroscope server: set PYROSCOPE_BIN to a pyroscope binary (https://github.com/grafana/pyroscope/releases," \
       "linux amd64 tarball) or put the workplace's tools at $shared" >&2
  exit 1
fi
[ -x "$PYROSCOPE_BIN" ] || { echo "PYROSCOPE_BIN=$PYROSCOPE_BIN is not an executable" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=${2:-$(free_port)}; grpc=$(free_port); gossip=$(free_port)
mkdir -p "$work/data"
sed -e "s#@DATA@#$work/data#g" -e "s#@HTTP@#$http#" -e "s#@GRPC@#$grpc#" -e "s#@GOSSIP@#$gossip#g" \
  "$here/pyroscope.yaml.in" > "$work/config.yaml"
cd "$work"
"$PYROSCOPE_BIN" -config.file="$work/config.yaml" -config.show_banner=false > "$work/pyroscope.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  if [ "$(curl -s "http://127.0.0.1:$http/ready" 2>/dev/null)" = ready ]; then echo "$pid http://127.0.0.1:$http"; exit 0; fi
  kill -0 "$pid" 2>/dev/null || { echo "pyroscope exited: $(tail -3 "$work/pyroscope.log")" >&2; exit 1; }
  sleep 0.1
done
kill "$pid"; echo "pyroscope not ready after 30 s: $(tail -3 "$work/pyroscope.log")" >&2; exit 1
