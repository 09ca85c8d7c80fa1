#!/usr/bin/env bash
# End to end: golens flame/fold/diff on real runtime/pprof profiles (written
# now by a Go fixture with pprof.Do labels), `go tool pprof` reading our
# output without any warning, diff --pprof equal to `go tool pprof
# -diff_base`, and bad input giving clear errors.
# usage: cli_e2e_test.sh GOLENS GOPROF_FIXTURE PPROF_TESTTOOL WORKDIR [OLDER_GO_FIXTURE...]
set -u
GOLENS=$(realpath "$1") GOPROF=$(realpath "$2") TOOL=$(realpath "$3") WORK=$4
for f in "$GOLENS" "$GOPROF" "$TOOL"; do [ -x "$f" ] || { echo "FAIL: missing $f"; exit 1; }; done
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
command -v go >/dev/null || { echo "FAIL: the go command is needed for go tool pprof"; exit 1; }
export PPROF_BINARY_PATH="$WORK/nonexistent"  # never pick up local binaries

# pprof CLI check: runs go tool pprof, fails on any stderr output.
pprof_quiet() {
  local out=$1; shift
  go tool pprof "$@" >"$out" 2>"$out.err"
  local rc=$?
  if [ $rc -ne 0 ] || [ -s "$out.err" ]; then
    fail "go tool pprof $* (rc=$rc): $(cat "$out.err")"
    return 1
  fi
  return 0
}

# --- real runtime/pprof profiles -------------------------------------------------
"$GOPROF" -o base.pb.gz -seconds 1.2 -variant 0 || fail "fixture (base)"
"$GOPROF" -o new.pb.gz -seconds 1.2 -variant 1 || fail "fixture (new)"
gunzip -c base.pb.gz > base.pb

for input in base.pb.gz base.pb; do
  if "$GOLENS" flame "$input" -o "flame-$input.svg" 2>flame.err && grep -q '<title>main.hashWork (' "flame-$input.svg" \
     && grep -q '<title>main.mapWork (' "flame-$input.svg" && grep -q '</svg>' "flame-$input.svg"; then
    pass "flame on runtime/pprof $input"
  else
    fail "flame on $input: $(cat flame.err)"
  fi
done

"$GOLENS" fold base.pb.gz > base.folded || fail "fold"
if grep -q '^main.worker;runtime/pprof.Do;main.worker.func1;main.hashWork;' base.folded \
   && awk '{ if ($NF !~ /^[0-9]+$/) exit 1 }' base.folded; then
  pass "fold: root-first stacks with integer counts"
else
  fail "fold output: $(head -3 base.folded)"
fi
[ -s base.folded ] || fail "fold printed nothing"
folded_total=$(awk '{s += $NF} END {print s}' base.folded)
pprof_total_ms=$(go tool pprof -raw base.pb.gz 2>/dev/null | awk '/^Samples:/{on=1; next} /^Locations/{on=0} on && $2 ~ /^[0-9]+:$/ {sub(":","",$2); s += $2} END {print s}')
[ -n "$folded_total" ] && [ "$folded_total" = "$pprof_total_ms" ] && pass "fold total = pprof total ($folded_total ns)" \
  || fail "fold total $folded_total != pprof -raw total $pprof_total_ms"

# Labels: --tag on real pprof.Do labels.
"$GOLENS" fold base.pb.gz --tag worker=beta > beta.folded || fail "fold --tag"
if grep -q 'main.mapWork' beta.folded && ! grep -q 'main.hashWork\|main.sortWork' beta.folded; then
  pass "fold --tag worker=beta keeps only beta's stacks"
else
  fail "fold --tag worker=beta: $(cut -c1-120 beta.folded | head -5)"
fi
"$GOLENS" flame base.pb.gz --tag worker=alpha -o alpha.svg || fail "flame --tag"
if grep -q 'main.hashWork' alpha.svg && ! grep -q 'main.sortWork\|main.mapWork' alpha.svg && grep -q 'tag worker=alpha' alpha.svg; then
  pass "flame --tag worker=alpha"
else
  fail "flame --tag worker=alpha content"
fi
"$GOLENS" flame base.pb.gz --tag worker=nobody -o nobody.svg 2>err.txt && grep -q '>no samples<' nobody.svg \
  && grep -q -- "--tag worker=nobody matches no sample; labels: .*worker=alpha|beta" err.txt \
  && pass "tag without matches -> no samples SVG and a warning naming the labels" || fail "tag without matches: $(cat err.txt)"
"$GOLENS" fold base.pb.gz --tag nokey=1 >/dev/null 2>err.txt && grep -q "matches no sample; labels: " err.txt \
  && pass "fold --tag without matches warns too" || fail "fold --tag without matches: $(cat err.txt)"

# Folded text as input; sample types; options.
"$GOLENS" flame base.folded -o folded.svg --title "From folded" --width 900 --minwidth 0.5 --inverted --palette hot \
  && grep -q 'From folded' folded.svg && grep -q 'width="900"' folded.svg && pass "flame on folded text with options" \
  || fail "flame on folded text"
"$GOLENS" flame base.pb.gz --sample-type samples -o samples.svg && grep -q 'samples, 100.00%)</title>' samples.svg \
  && pass "--sample-type samples" || fail "--sample-type samples"
if "$GOLENS" flame base.pb.gz --sample-type alloc_space -o x.svg 2>err.txt; then
  fail "unknown sample type accepted"
else
  grep -q "unknown sample type 'alloc_space'; available: samples, cpu" err.txt && [ ! -e x.svg ] \
    && pass "unknown sample type lists available ones" || fail "unknown sample type message: $(cat err.txt)"
fi

# --- go tool pprof reads what we write -------------------------------------------
"$TOOL" sample ours.pb.gz || fail "write hand-made profile"
for mode in -top -raw -traces; do
  pprof_quiet "ours$mode.txt" $mode ours.pb.gz && pass "go tool pprof $mode on our profile: no warnings"
done
grep -q 'main.rotl (inline)' ours-top.txt && grep -q '800ms 80.00%' ours-top.txt && pass "inline frame and values in -top" \
  || fail "-top content: $(cat ours-top.txt)"
grep -q 'worker:  beta' ours-traces.txt && pass "labels in -traces" || fail "labels missing in -traces"
grep -q '\[FN\]\[FL\]\[LN\]\[IN\]' ours-raw.txt && pass "mapping flags in -raw" || fail "mapping flags in -raw"

# Round trip of a runtime/pprof profile through our parser and writer.
"$TOOL" roundtrip base.pb.gz rt.pb.gz || fail "roundtrip"
pprof_quiet go-top.txt -top base.pb.gz
pprof_quiet rt-top.txt -top rt.pb.gz
pprof_quiet go-traces.txt -traces base.pb.gz
pprof_quiet rt-traces.txt -traces rt.pb.gz
grep -q 'main.hashWork' go-traces.txt && cmp -s go-top.txt rt-top.txt && cmp -s go-traces.txt rt-traces.txt \
  && pass "runtime/pprof profile round trip: identical -top and -traces" \
  || fail "round trip differs: $(diff go-top.txt rt-top.txt | head -10)"

# --- diff --------------------------------------------------------------------------
"$GOLENS" diff base.pb.gz new.pb.gz -o diff.svg --pprof diff.pb.gz --no-normalize || fail "diff --no-normalize"
pprof_quiet ours-diff.txt -top diff.pb.gz
pprof_quiet pprof-diff.txt -top -diff_base base.pb.gz new.pb.gz
if cmp -s ours-diff.txt pprof-diff.txt && grep -q 'Showing nodes' ours-diff.txt; then
  pass "diff --pprof: go tool pprof -top equals -top -diff_base BASE NEW"
else
  fail "diff --pprof differs from -diff_base: $(diff ours-diff.txt pprof-diff.txt | head -20)"
fi
"$GOLENS" diff base.pb.gz new.pb.gz -o diffn.svg --pprof diffn.pb.gz || fail "diff (normalized)"
pprof_quiet ours-diffn.txt -top diffn.pb.gz
pprof_quiet pprof-diffn.txt -top -normalize -diff_base base.pb.gz new.pb.gz
grep -q 'Showing nodes' ours-diffn.txt && cmp -s ours-diffn.txt pprof-diffn.txt && pass "diff --pprof (normalized) equals -normalize -diff_base" \
  || fail "normalized diff differs: $(diff ours-diffn.txt pprof-diffn.txt | head -20)"
grep -q 'grew (NEW - BASE' diff.svg && grep -q '; base ' diff.svg && pass "diff SVG legend and tooltips" || fail "diff SVG content"
"$GOLENS" diff base.folded base.pb.gz -o self.svg && pass "diff folded vs pprof" || fail "diff folded vs pprof"
"$GOLENS" fold base.pb.gz --sample-type samples > base-samples.folded || fail "fold --sample-type samples"
"$GOLENS" diff base-samples.folded new.pb.gz -o fp.svg --pprof fp.pb.gz 2>err.txt && pprof_quiet fp-top.txt -top fp.pb.gz \
  && grep -q 'Showing nodes' fp-top.txt && pass "diff --pprof of folded vs pprof (compared as samples)" \
  || fail "diff --pprof folded vs pprof: $(cat err.txt)"

# Folded lines that cannot be drawn are reported, the same way by flame, fold and diff.
printf ';;; 5\nmain;work 0.4\nmain;work 2.5\nmain;idle 1\n' > odd.folded
for cmd in "flame odd.folded -o odd.svg" "fold odd.folded" "diff odd.folded odd.folded -o odd-diff.svg"; do
  $GOLENS $cmd >/dev/null 2>err.txt || fail "$cmd"
  grep -q "ignored 1 lines without any frame (count 5)" err.txt \
    && grep -q "2 lines have fractional counts, rounded to whole numbers (1 rounded to 0 and dropped)" err.txt \
    && pass "$cmd: empty stacks and fractional counts reported" || fail "$cmd warnings: $(cat err.txt)"
done
"$GOLENS" flame diff.pb.gz -o diffprof.svg && grep -q '; base ' diffprof.svg && pass "flame on a diff pprof draws a diff" \
  || fail "flame on diff pprof"

# --- profiles from other Go versions ----------------------------------------------
for fixture in "${@:5}"; do
  name=$(basename "$fixture")
  [ -x "$fixture" ] || { fail "missing fixture $fixture"; continue; }
  "$fixture" -o "$name.pb.gz" -seconds 0.6 || { fail "$name run"; continue; }
  "$GOLENS" flame "$name.pb.gz" -o "$name.svg" && grep -q 'main.mapWork (' "$name.svg" \
    && "$GOLENS" fold "$name.pb.gz" --tag worker=beta | grep -q 'runtime.mapaccess\|internal/runtime/maps' \
    && pass "$name: flame and fold --tag (map lookup frames present)" || fail "$name: flame/fold"
  grep -q '<g class="map">' "$name.svg" && pass "$name: map lookup frames colored as such" || fail "$name: no map frames"
  "$TOOL" roundtrip "$name.pb.gz" "$name.rt.pb.gz"
  pprof_quiet "$name.a" -traces "$name.pb.gz" && pprof_quiet "$name.b" -traces "$name.rt.pb.gz" && cmp -s "$name.a" "$name.b" \
    && pass "$name: round trip identical in go tool pprof -traces" || fail "$name: round trip differs"
done

# --- bad input -------------------------------------------------------------------------
: > empty.pb.gz
head -c 600 base.pb.gz > truncated.pb.gz
{ head -c 100 base.pb.gz; head -c 2000 /dev/urandom; } > corrupt.pb.gz
printf '\x0a\x02\x08\x01\x12\xff\xff\xff' > corrupt.pb
check_bad() {  # file, expected message part
  rm -f bad.svg
  if "$GOLENS" flame "$1" -o bad.svg 2>err.txt; then
    fail "$1 accepted"
  elif grep -q "$2" err.txt && [ ! -e bad.svg ]; then
    pass "bad input $1: $(head -1 err.txt)"
  else
    fail "$1: expected '$2', got: $(cat err.txt)"
  fi
}
check_bad empty.pb.gz "empty file"
check_bad truncated.pb.gz "truncated gzip"
check_bad corrupt.pb.gz "gzip"
check_bad corrupt.pb "not a pprof profile"
check_bad missing.pb.gz "missing.pb.gz: No such file"
if "$GOLENS" flame base.pb.gz -o /nonexistent-dir/x.svg 2>err.txt; then fail "unwritable output accepted"
else grep -q "/nonexistent-dir" err.txt && pass "unwritable output: $(cat err.txt)" || fail "unwritable output: $(cat err.txt)"; fi
if "$GOLENS" diff base.pb.gz corrupt.pb.gz -o bad-diff.svg 2>err.txt; then fail "diff with corrupt NEW accepted"
else grep -q "NEW: corrupt.pb.gz: gunzip" err.txt && [ ! -e bad-diff.svg ] && pass "diff names the bad side: $(cat err.txt)" \
  || fail "diff corrupt NEW: $(cat err.txt)"; fi
if "$GOLENS" diff base.pb.gz new.pb.gz -o ok.svg --pprof /nonexistent-dir/d.pb.gz 2>err.txt; then fail "unwritable --pprof accepted"
else grep -q "/nonexistent-dir" err.txt && [ ! -e ok.svg ] && pass "unwritable --pprof checked before any work" \
  || fail "unwritable --pprof: $(cat err.txt)"; fi

# --- outputs never hurt, inputs are bounded --------------------------------------------
if "$GOLENS" diff base.pb.gz new.pb.gz -o same.out --pprof ./same.out 2>err.txt; then fail "diff -o X --pprof X accepted"
else grep -q "same file" err.txt && [ ! -e same.out ] && pass "diff -o X --pprof X refused: $(cat err.txt)" \
  || fail "diff same outputs: $(cat err.txt)"; fi
ln -sf flame-base.pb.gz.svg link.svg
"$GOLENS" flame base.folded -o link.svg 2>err.txt && [ -L link.svg ] && grep -q '</svg>' flame-base.pb.gz.svg \
  && pass "flame -o SYMLINK updates the target, the link stays" || fail "flame -o symlink: $(cat err.txt)"
cp base.folded readonly.svg && chmod 0444 readonly.svg
"$GOLENS" flame base.folded -o readonly.svg 2>err.txt && [ "$(stat -c %a readonly.svg)" = 444 ] && grep -q '</svg>' readonly.svg \
  && pass "flame -o a 0444 file keeps its mode" || fail "0444 output: $(stat -c %a readonly.svg) $(cat err.txt)"
"$GOLENS" flame base.folded -o - > dash.svg 2>err.txt && grep -q '</svg>' dash.svg && [ ! -e ./- ] \
  && pass "flame -o - writes stdout" || fail "flame -o -: $(cat err.txt)"
"$GOLENS" fold - < base.pb.gz > stdin.folded 2>err.txt && cmp -s stdin.folded base.folded \
  && pass "fold - reads stdin" || fail "fold -: $(cat err.txt)"

# Bounded reads: each must end quickly with a clear error (timeout = hang).
start=$(date +%s%N)
timeout 10 "$GOLENS" flame /dev/zero -o zero.svg 2>err.txt; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "/dev/zero" err.txt && [ $ms -lt 3000 ] \
  && pass "flame /dev/zero refused in ${ms} ms: $(cat err.txt)" || fail "flame /dev/zero (rc=$rc, ${ms} ms): $(cat err.txt)"
mkfifo endless.fifo
( yes 'main.main;main.work 1' > endless.fifo 2>/dev/null & echo $! > yes.pid; wait ) &
timeout 10 "$GOLENS" fold endless.fifo --max-input-size 1M > /dev/null 2>err.txt; rc=$?
kill "$(cat yes.pid)" 2>/dev/null; wait
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "input size limit (1 MiB)" err.txt && grep -q -- "--max-input-size" err.txt \
  && pass "endless FIFO refused at the limit: $(cat err.txt)" || fail "endless FIFO (rc=$rc): $(cat err.txt)"
yes 'main.main;main.work;runtime.memmove 1' | head -c 64M | gzip -1 > bomb.folded.gz
timeout 10 "$GOLENS" flame bomb.folded.gz -o bomb.svg --max-input-size 8M 2>err.txt; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "decompressed input is larger than the input size limit (8 MiB)" err.txt && [ ! -e bomb.svg ] \
  && pass "gzip bomb refused: $(cat err.txt)" || fail "gzip bomb (rc=$rc): $(cat err.txt)"
"$GOLENS" flame bomb.folded.gz -o bomb.svg --max-input-size 128M 2>err.txt && grep -q '</svg>' bomb.svg \
  && pass "the same within a raised limit" || fail "bomb under 128M: $(cat err.txt)"
if "$GOLENS" flame base.pb.gz -o x.svg --max-input-size lots 2>err.txt; then fail "bad --max-input-size accepted"
else [ $? -eq 2 ] && grep -q "bad --max-input-size" err.txt && pass "bad --max-input-size: exit 2" || fail "bad size: $(cat err.txt)"; fi
ls *.tmp.* >/dev/null 2>&1 && fail "temp files left behind: $(ls *.tmp.*)"

echo "failures: $failures"
[ $failures -eq 0 ]
