#!/bin/bash
# Builds Jaeger all-in-one v1.76.0 once into OUT (e.g. build/tools/jaeger-all-in-one).
#   build_jaeger.sh OUT
# `go install github.com/jaegertracing/jaeger/cmd/all-in-one@v1.76.0` refuses the module
# for its replace directives, so a throwaway wrapper module requires it and builds the
# command from there (Go module proxy; ~2.5 min cold on 2 cores). A later run with the
# binary present does nothing.
set -euo pipefail
out=${1:?usage: build_jaeger.sh OUT}
version=v1.76.0
if [ -x "$out" ] && [ "$(cat "$out.version" 2>/dev/null)" = "$version" ]; then exit 0; fi
work=$(dirname "$out")/jaeger-wrapper
mkdir -p "$work"
cd "$work"
cat > go.mod <<MOD
module golens.local/jaegerwrapper

go 1.24

require github.com/jaegertracing/jaeger $version
MOD
cat > tools.go <<'GO'
//go:build tools

// Package tools pins Jaeger so `go build` below resolves it from this module.
package tools

import _ "github.com/jaegertracing/jaeger/cmd/all-in-one"
GO
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
GOFLAGS=-mod=mod go get github.com/jaegertracing/jaeger/cmd/all-in-one@$version
GOFLAGS=-mod=mod go build -o "$out.tmp" github.com/jaegertracing/jaeger/cmd/all-in-one
mv "$out.tmp" "$out"
echo "$version" > "$out.version"
