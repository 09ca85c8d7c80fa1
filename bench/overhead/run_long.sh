#!/bin/sh
# What profiling costs a Go program, resolved to a few tenths of a percent:
# golens record beside runtime/pprof at each rate in HZ, against no profiler.
#
#   bench/overhead/run_long.sh [BUILD_DIR]      (as root)
#   knobs: ROUNDS=30 SECONDS_PER_RUN=10 WARMUP=1 HZ="19 99 999"
#          TARGET_CPU=1 GOLENS_CPU=0 RAW=FILE (keep the per-run results)
#
# The measure is the workload's ops per CPU-second of the workload itself
# (user + system over a SECONDS_PER_RUN phase after WARMUP). Time the target
# loses to other programs on a shared machine does not count, while what the
# profiler makes the target pay does: runtime/pprof's SIGPROF handler and
# profile writer run in the target, and golens's BPF program runs in the
# timer interrupt of the target's tick, which the kernel charges to the
# interrupted task (CONFIG_IRQ_TIME_ACCOUNTING is off here; with it on,
# interrupt time would be charged to nobody and the BPF column below is
# the part to add). Wall-clock ops/s is reported too.
#
# Each run has a twin: an unprofiled copy of the workload on the same CPU,
# whose measured phase starts together with the target's (both warm up,
# then wait for the -go file) and lasts as long. The loss is 1 - target /
# twin. On this shared 2-vCPU VM the ops per CPU-second of runs one after
# another swing by 4-6% with what the other vCPU runs (even with the target
# SCHED_FIFO, so it is not preemption: caches and the host), while a pair
# running at the same time on one CPU sees the same conditions: target /
# twin of two unprofiled copies spreads about 0.2% per 10 s run. The cost of
# the pairing: the twin also takes golens's tick on CPU 1, where the BPF
# program returns after one hash lookup (the cost golens puts on every
# process, a few hundred ns per tick), so golens's loss is understated by
# that much. The baseline mode (target unprofiled too) is the control.
#
# Pinning: target and twin on TARGET_CPU (GOMAXPROCS follows the affinity,
# so 1); this script, golens and its helpers on GOLENS_CPU. golens's own CPU
# is then reported separately (on the target's CPU it would show up only as
# wall-clock loss, mixed with everything else the machine does): over the
# measured phase (the workload reads its parent's /proc/PID/task/*/schedstat
# at both ends), and over its whole run (start-up, BPF load and the profile
# written at exit included). The BPF column is run_time_ns of golens's
# programs (from its fdinfo) over the measured phase (kernel.bpf_stats_enabled,
# restored afterwards; golens_sample_cpu's count includes the stages it
# tail-calls).
#
# Every round runs every mode once, in an order rotated by one per round (so
# each mode takes each position and slow drifts cancel). long_stats.py gives
# the mean loss over rounds with a 95% t confidence interval, and the paired
# golens - runtime/pprof difference per rate.
set -eu
BUILD_DIR=${1:-build}
GOLENS=$BUILD_DIR/golens
WORKLOAD=$BUILD_DIR/bench/overhead/workload
STATS=$(dirname "$0")/long_stats.py
ROUNDS=${ROUNDS:-30}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-1}
HZ=${HZ:-19 99 999}
TARGET_CPU=${TARGET_CPU:-1}
GOLENS_CPU=${GOLENS_CPU:-0}
for f in "$GOLENS" "$WORKLOAD" /usr/bin/time; do
  [ -x "$f" ] || { echo "missing $f: build first (ninja -C BUILD_DIR golens bench_overhead_workload)" >&2; exit 1; }
done
TMP=$(mktemp -d)
RAW=${RAW:-$TMP/raw}
: > "$RAW"
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old_stats"; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
sysctl -qw kernel.bpf_stats_enabled=1
# Everything started from here (golens, awk, sleep) stays off the target's
# CPU unless pinned to it explicitly.
taskset -cp "$GOLENS_CPU" $$ >/dev/null

# run_time_ns summed over the BPF programs process $1 holds, from its file
# descriptors' fdinfo (each program once; link fds name a prog_id without
# counters). Other golens instances on the machine (tests) are not counted.
bpf_ns() {
  grep -E '^(prog_id|run_time_ns):' /proc/"$1"/fdinfo/* 2>/dev/null | awk -F'[:[:space:]]+' '
    $2 == "prog_id" { id[$1] = $3 }
    $2 == "run_time_ns" { t[$1] = $3 }
    END { for (f in t) if (!(id[f] in seen)) { seen[id[f]] = 1; sum += t[f] }; printf "%.0f\n", sum }'
}

field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# One run of mode $1 in round $2, beside its twin: an unprofiled copy of the
# workload on the same CPU. Both warm up, then start their measured phase
# together (the script creates the -go file once both are warm, golens
# attached) and measure for the same SECONDS_PER_RUN. Appends to RAW:
#   round mode ops wall user sys twin_ops twin_wall twin_user twin_sys
#   golens_phase_cpu golens_life_cpu golens_life_wall bpf_ns bpf_window
# ("-" where a column does not apply).
run_mode() {
  mode=$1 round_no=$2
  hz=${mode#*-}
  rm -f "$TMP/mark.twin" "$TMP/mark.target" "$TMP/go"
  set -- -warmup "$WARMUP" -seconds "$SECONDS_PER_RUN" -go "$TMP/go"
  gw=- gl=- gwall=- bns=- bwin=-
  taskset -c "$TARGET_CPU" "$WORKLOAD" "$@" -mark "$TMP/mark.twin" > "$TMP/twin" 2> "$TMP/twin.err" &
  twin=$!
  case $mode in
    baseline)
      taskset -c "$TARGET_CPU" "$WORKLOAD" "$@" -mark "$TMP/mark.target" > "$TMP/out" 2> "$TMP/err" & ;;
    pprof-*)
      # Go warns that the rate was set before StartCPUProfile: expected.
      taskset -c "$TARGET_CPU" "$WORKLOAD" "$@" -pprof-hz "$hz" -mark "$TMP/mark.target" \
        > "$TMP/out" 2> "$TMP/err" & ;;
    golens-*)
      # golens forks the command and attaches before it execs; taskset then
      # moves the workload (same process) to the target CPU.
      /usr/bin/time -f 'life %e %U %S' -o "$TMP/time" \
        "$GOLENS" -q record --hz "$hz" --duration 1h -o "$TMP/p.pb.gz" -- \
        taskset -c "$TARGET_CPU" "$WORKLOAD" "$@" -parent-cpu -mark "$TMP/mark.target" \
        > "$TMP/out" 2> "$TMP/err" & ;;
  esac
  target=$!
  while { [ ! -e "$TMP/mark.twin" ] || [ ! -e "$TMP/mark.target" ]; } &&
        kill -0 "$target" 2>/dev/null && kill -0 "$twin" 2>/dev/null; do
    sleep 0.05
  done
  case $mode in golens-*) gpid=$(pgrep -P "$target" || true) ;; *) gpid="" ;; esac
  : > "$TMP/go"
  if [ -n "$gpid" ]; then
    b0=$(bpf_ns "$gpid"); t0=$(date +%s%N)
    sleep "$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { print s * 0.9 }')"
    b1=$(bpf_ns "$gpid"); t1=$(date +%s%N)
    bns=$((b1 - b0))
    bwin=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
  fi
  wait "$target" || { echo "$mode failed:" >&2; cat "$TMP/err" >&2; exit 1; }
  wait "$twin" || { echo "twin of $mode failed:" >&2; cat "$TMP/twin.err" >&2; exit 1; }
  case $mode in
    golens-*)
      gw=$(field parent_cpu_sec "$TMP/out")
      # time counts golens and the workload it reaped; the workload's own
      # total is subtracted.
      read -r _ e u s < "$TMP/time"
      gwall=$e
      gl=$(awk -v u="$u" -v s="$s" -v w="$(field process_cpu_sec "$TMP/out")" 'BEGIN { printf "%.6f", u + s - w }') ;;
  esac
  ops=$(field ops "$TMP/out")
  [ -n "$ops" ] || { echo "mode $mode produced no result:" >&2; cat "$TMP/err" >&2; exit 1; }
  echo "$round_no $mode $ops $(field wall_sec "$TMP/out") $(field user_sec "$TMP/out") $(field sys_sec "$TMP/out")" \
    "$(field ops "$TMP/twin") $(field wall_sec "$TMP/twin") $(field user_sec "$TMP/twin") $(field sys_sec "$TMP/twin")" \
    "$gw $gl $gwall $bns $bwin" >> "$RAW"
}

MODES=baseline
for h in $HZ; do MODES="$MODES golens-$h pprof-$h"; done
nmodes=$(echo "$MODES" | wc -w)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u '+%F %H:%M UTC'))" >&2
round=1
while [ "$round" -le "$ROUNDS" ]; do
  # Rotate the order by one per round.
  skip=$(( (round - 1) % nmodes ))
  order=$(echo "$MODES" | awk -v k="$skip" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k) % NF + 1) }')
  for mode in $order; do run_mode "$mode" "$round"; done
  echo "round $round/$ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  round=$((round + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u '+%F %H:%M UTC'))" >&2
python3 "$STATS" "$RAW" "$MODES"
printf '(%d rounds of %ss after %ss warm-up; workload on CPU %s, golens on CPU %s)\n' \
  "$ROUNDS" "$SECONDS_PER_RUN" "$WARMUP" "$TARGET_CPU" "$GOLENS_CPU"
