#!/bin/bash
# golens serve end to end: the agent profiles two deploys of one service for
# about 30 s (agentsvc v1, then v2 where main.heavy does twice the work), then
# serve answers the page in chromium (serve_browser_test.js) and its merged
# pprof opens in go tool pprof -top.
#   serve_e2e.sh GOLENS FIXTURES NODE GO OUT_DIR    (as root)
set -euo pipefail
GOLENS=$1 FIXTURES=$2 NODE=$3 GO=$4 OUT=$5
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (the agent uses BPF)"; exit 1; }
work=$(mktemp -d /tmp/golens-serve-e2e-XXXXXX)
AGENT=""; SERVE=""
cleanup() { [ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null || true; [ -z "$SERVE" ] || kill "$SERVE" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$GOLENS" agent --store "$work/store" --exe-name agentsvc-v1 --exe-name agentsvc-v2 --interval 2s --hz 99 \
  2> "$work/agent.log" & AGENT=$!
for _ in $(seq 100); do grep -q "agent: profiling" "$work/agent.log" && break; sleep 0.1; done
GOLENS_SERVICE=checkout "$FIXTURES/agentsvc-v1" -seconds 14
GOLENS_SERVICE=checkout "$FIXTURES/agentsvc-v2" -seconds 14
sleep 2.5
kill -INT "$AGENT"; wait "$AGENT"; AGENT=""
"$GOLENS" serve --store "$work/store" --listen 127.0.0.1:0 2> "$work/serve.log" & SERVE=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/serve.log" | head -1 || true)
  [ -n "$url" ] && break; sleep 0.1
done
[ -n "$url" ] || { echo "FAIL: serve did not start: $(cat "$work/serve.log")"; exit 1; }
builds=$(curl -sS "${url}api/services")
v1=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["service"]=="checkout"][0]; print(s["builds"][0]["build_id"])' <<< "$builds")
v2=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["service"]=="checkout"][0]; print(s["builds"][-1]["build_id"])' <<< "$builds")
[ "$v1" != "$v2" ] || { echo "FAIL: one build only: $builds"; exit 1; }
"$NODE" "$here/../browser/serve_browser_test.js" "$url" "$OUT" "$v1" "$v2"
"$GO" tool pprof -top "${url}api/profile?service=checkout" > "$work/top.txt" 2> "$work/pprof.err" ||
  { echo "FAIL: go tool pprof: $(cat "$work/pprof.err")"; exit 1; }
grep -q "main.heavy" "$work/top.txt" || { echo "FAIL: go tool pprof -top lacks main.heavy: $(cat "$work/top.txt")"; exit 1; }
echo "PASS: go tool pprof -top ${url}api/profile?service=checkout"
