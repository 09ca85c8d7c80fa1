// workload: a map-bound program for bench/maps/run.sh. One goroutine looks up
// int64 keys in a map of -entries entries (all hits) for -seconds of its own
// CPU time and prints its rate per second of CPU time (user + system: the
// uprobe traps and BPF programs that run in its context count; the time
// other programs on a shared machine take from it does not):
//
//	lookups N cpu_seconds S rate R wall_seconds W
package main

import (
	"flag"
	"fmt"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var sink int64

//go:noinline
func lookups(m map[int64]int64, keys []int64) int64 {
	var s int64
	for _, k := range keys {
		s += m[k]
	}
	return s
}

func main() {
	seconds := flag.Float64("seconds", 4, "run time")
	entries := flag.Int("entries", 100000, "map size")
	flag.Parse()
	m := make(map[int64]int64, *entries)
	keys := make([]int64, *entries)
	for i := range keys {
		keys[i] = int64(i) * 7919
		m[keys[i]] = int64(i)
	}
	start, cpu0 := time.Now(), cpuSeconds()
	var n int64
	for cpuSeconds()-cpu0 < *seconds {
		sink += lookups(m, keys)
		n += int64(len(keys))
	}
	cpu := cpuSeconds() - cpu0
	fmt.Printf("lookups %d cpu_seconds %.3f rate %.0f wall_seconds %.3f\n", n, cpu, float64(n)/cpu,
		time.Since(start).Seconds())
}
