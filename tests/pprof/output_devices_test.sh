#!/usr/bin/env bash
# Outputs that are devices: `-o /dev/null` and `-o /dev/stdout` must be
# written in place, never replaced by a regular file. Runs in a private mount
# namespace on a throw-away tmpfs /dev (a null device made with mknod, a
# /dev/stdout link as udev makes it), so the host's /dev is never at risk.
# Needs root (unshare --mount, mount, mknod): fails with the reason without it.
# usage: output_devices_test.sh GOLENS PPROF_TESTTOOL WORKDIR
set -u
GOLENS=$(realpath "$1") TOOL=$(realpath "$2") WORK=$3
for f in "$GOLENS" "$TOOL"; do [ -x "$f" ] || { echo "FAIL: missing $f"; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (unshare --mount, mknod); run: sudo ctest -L root"; exit 1; }
command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) is needed"; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
printf 'main.main;main.work 3\nmain.main;main.idle 1\n' > in.folded

exec unshare --mount --propagation private -- env GOLENS="$GOLENS" TOOL="$TOOL" bash -c '
  failures=0
  fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
  pass() { echo "ok: $*"; }
  mount -t tmpfs -o size=1m,mode=755 golens-test-dev /dev || { echo "FAIL: cannot mount a private /dev"; exit 1; }
  # Refuse to go on unless /dev really is the throw-away tmpfs.
  [ "$(stat -f -c %T /dev)" = tmpfs ] && [ -z "$(ls -A /dev)" ] || { echo "FAIL: /dev is not our empty tmpfs"; exit 1; }
  mknod -m 666 /dev/null c 1 3 || { echo "FAIL: mknod /dev/null"; exit 1; }
  ln -s /proc/self/fd/1 /dev/stdout

  "$GOLENS" flame in.folded -o /dev/null 2>err.txt || fail "flame -o /dev/null: $(cat err.txt)"
  [ -c /dev/null ] && pass "flame -o /dev/null keeps /dev/null a device" || fail "/dev/null was replaced: $(ls -l /dev/null)"
  "$TOOL" sample /dev/null || fail "WritePprofFile to /dev/null"
  [ -c /dev/null ] && pass "pprof to /dev/null keeps the device" || fail "/dev/null replaced by the pprof writer"
  [ -z "$(ls /dev | grep -v "^null$\|^stdout$")" ] && pass "no temporary files left in /dev" || fail "left in /dev: $(ls /dev)"

  "$GOLENS" flame in.folded -o /dev/stdout > stdout.svg 2>err.txt || fail "flame -o /dev/stdout: $(cat err.txt)"
  if [ -L /dev/stdout ] && grep -q "</svg>" stdout.svg; then
    pass "flame -o /dev/stdout writes stdout and leaves the link"
  else
    fail "/dev/stdout: $(ls -l /dev/stdout), output $(head -c 100 stdout.svg)"
  fi
  "$GOLENS" flame in.folded -o - > dash.svg 2>err.txt && grep -q "</svg>" dash.svg && [ ! -e ./- ] \
    && pass "flame -o - writes stdout, no file named -" || fail "flame -o -: $(cat err.txt)"
  "$GOLENS" diff in.folded in.folded -o /dev/null --pprof /dev/null 2>err.txt \
    && [ -c /dev/null ] && pass "diff -o /dev/null --pprof /dev/null is fine" || fail "diff to /dev/null twice: $(cat err.txt)"
  umount /dev
  [ $failures -eq 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
'
