#!/usr/bin/env bash
# PGO-ready names: a generic-heavy Go program writes its own runtime/pprof
# CPU profile; golens re-symbolizes every address of it (pgo_resymbolize) and
# must give the very names (shape arguments included), system names, start
# lines, files and lines runtime/pprof wrote. Then `go tool preprofile`
# (what `go build -pgo` runs) must produce the same weighted call edges from
# both profiles.
# usage: pgo_names_test.sh PGOPROG PGO_RESYMBOLIZE WORKDIR
set -u
PROG=$(realpath "$1") TOOL=$(realpath "$2") WORK=$3
for f in "$PROG" "$TOOL"; do [ -x "$f" ] || { echo "FAIL: missing $f"; exit 1; }; done
command -v go >/dev/null || { echo "FAIL: the go command is needed for go tool preprofile"; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

"$PROG" -o runtime.pprof -seconds 1.5 >/dev/null || { echo "FAIL: fixture did not write its profile"; exit 1; }
if "$TOOL" "$PROG" runtime.pprof golens.pprof > compare.txt; then
  pass "golens names/start lines equal runtime/pprof's: $(tail -1 compare.txt)"
else
  fail "golens differs from runtime/pprof:"; head -40 compare.txt
fi

if ! go tool preprofile -h 2>&1 | grep -q -- '-i'; then
  fail "go tool preprofile is missing (Go 1.23+ needed): $(go version)"
else
  go tool preprofile -i runtime.pprof -o runtime.edges 2>pre.err || fail "preprofile on runtime/pprof: $(cat pre.err)"
  go tool preprofile -i golens.pprof -o golens.edges 2>pre.err || fail "preprofile on golens: $(cat pre.err)"
  # Edges are written in weight order; ties may come in any order.
  sort runtime.edges > a.sorted; sort golens.edges > b.sorted
  edges=$(grep -c 'go.shape' a.sorted)
  if [ "$edges" -gt 0 ] && cmp -s a.sorted b.sorted; then
    pass "go tool preprofile: same call edges ($(wc -l < a.sorted) lines, $edges with generics)"
  else
    fail "preprofile edges differ ($edges generic lines):"; diff a.sorted b.sorted | head -20
  fi
fi
[ $failures -eq 0 ] && echo PASS || { echo "$failures failure(s)"; exit 1; }
