#!/usr/bin/env python3
"""Statistics for run_long.sh: each run's loss against its concurrent twin.

    long_stats.py RAW "baseline golens-19 pprof-19 ..."

RAW has one line per run (see run_long.sh): round mode ops wall user sys
twin_ops twin_wall twin_user twin_sys golens_phase_cpu golens_life_cpu
golens_life_wall bpf_ns bpf_window ("-" = not applicable).

loss = 1 - (ops per CPU-second of the target) / (same of its twin, an
unprofiled copy that ran on the same CPU over the same phase). The table
gives the mean loss over rounds and the half-width of its 95% confidence
interval (Student t, rounds - 1 degrees of freedom): a difference of 0.2%
is resolved when the half-width is at most 0.2%. The baseline row (target
unprofiled too) is the control: its interval should hold 0. golens - pprof
is the paired difference of the two losses in each round.
"""
import math
import sys

# Two-sided 95% quantiles of Student's t, by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
        18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
        26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df):
    if df in T975:
        return T975[df]
    below = max(k for k in T975 if k < df) if df < 120 else 120
    return T975[below]  # conservative between table rows; ~1.96 beyond


def mean_ci(xs):
    """Mean and 95% CI half-width (nan with fewer than 2 values)."""
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, t975(n - 1) * sd / math.sqrt(n)


def num(s):
    return None if s == "-" else float(s)


def main():
    raw, modes = sys.argv[1], sys.argv[2].split()
    runs = {}  # (round, mode) -> dict
    for line in open(raw):
        f = line.split()
        if len(f) != 15:
            continue
        r, mode = int(f[0]), f[1]
        ops, wall, cpu = float(f[2]), float(f[3]), float(f[4]) + float(f[5])
        tops, twall, tcpu = float(f[6]), float(f[7]), float(f[8]) + float(f[9])
        gw, gl, gwall, bns, bwin = (num(x) for x in f[10:15])
        runs[(r, mode)] = {
            "cpu_rate": ops / cpu,
            "twin_cpu_rate": tops / tcpu,
            "wall_rate": ops / wall,
            "twin_wall_rate": tops / twall,
            "sys_share": float(f[5]) / cpu,
            "gw": gw / wall if gw is not None else None,
            "gl": gl,
            "bpf": bns / 1e9 / bwin if bns is not None and bwin else None,
        }
    rounds = sorted({r for r, m in runs})
    rounds = [r for r in rounds if all((r, m) in runs for m in modes)]
    if not rounds:
        sys.exit("no complete round")

    def losses(mode, key):
        return [100 * (1 - runs[(r, mode)][key] / runs[(r, mode)]["twin_" + key]) for r in rounds]

    def pct(mode, key, scale=100):
        vals = [runs[(r, mode)][key] for r in rounds if runs[(r, mode)][key] is not None]
        return mean_ci([scale * v for v in vals])

    def fmt(mc, width=16):
        m, h = mc
        if math.isnan(m):
            return "-".rjust(width)
        return ("%+.3f%% ± %.3f" % (m, h)).rjust(width)

    twins = [runs[(r, m)]["twin_cpu_rate"] for r in rounds for m in modes]
    tm = sum(twins) / len(twins)
    tsd = math.sqrt(sum((x - tm) ** 2 for x in twins) / max(1, len(twins) - 1))
    print("%d complete rounds; twins: %.0f ops per CPU-second on average, sd %.1f%% from run to run"
          % (len(rounds), tm, 100 * tsd / tm))
    print("loss = 1 - target/twin in ops per CPU-second of each: mean ± 95% CI half-width, % of the target's work")
    print("%-11s %18s %9s %18s %9s %16s %12s %9s" % (
        "mode", "loss per CPU-s", "0.2%", "loss wall ops/s", "sys", "golens CPU", "golens run", "BPF"))
    for mode in modes:
        lc = mean_ci(losses(mode, "cpu_rate"))
        lw = mean_ci(losses(mode, "wall_rate"))
        sysm, _ = pct(mode, "sys_share")
        gw, gl, bpf = pct(mode, "gw"), pct(mode, "gl", 1), pct(mode, "bpf")
        resolved = "resolved" if lc[1] <= 0.2 else "no"
        print("%-11s %18s %9s %18s %8.2f%% %16s %12s %9s" % (
            mode, fmt(lc), resolved, fmt(lw), sysm,
            "-" if math.isnan(gw[0]) else "%.3f%% ± %.3f" % gw,
            "-" if math.isnan(gl[0]) else "%.2f s" % gl[0],
            "-" if math.isnan(bpf[0]) else "%.3f%%" % bpf[0]))
    print("sys: the target's system time / its CPU time. golens CPU: golens's own CPU over the measured phase,")
    print("% of one CPU (mean ± 95% CI). golens run: golens's CPU seconds over its whole run (start-up, BPF load")
    print("and profile writing included). BPF: run time of golens's BPF programs over the phase, % of one CPU")
    print("per second, every tick on both CPUs (target, twin, others); the target's ticks are inside its loss.")
    print("wall ops/s: against the twin sharing the CPU, so it also moves with the scheduler's split.")
    hzs = [m.split("-", 1)[1] for m in modes if m.startswith("golens-")]
    for hz in hzs:
        g, p = "golens-" + hz, "pprof-" + hz
        if p not in modes:
            continue
        diff = [a - b for a, b in zip(losses(g, "cpu_rate"), losses(p, "cpu_rate"))]
        print("golens - pprof at %s Hz (paired by round, loss per CPU-second): %s points" % (hz, fmt(mean_ci(diff), 0)))


if __name__ == "__main__":
    main()
