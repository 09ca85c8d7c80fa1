#!/bin/bash
# `make bench`: runs every area's benchmark suite and peer comparison.
# Each bench/<area>/run.sh prints its figures; bench/README.md records them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
for run in "$ROOT"/bench/*/run.sh; do
  echo "== $run"
  "$run" "$BUILD_DIR"
done
