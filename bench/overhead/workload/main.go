// workload measures its own throughput: a mix of hashing, map updates,
// sorting and JSON encoding on one goroutine, for -seconds after -warmup
// seconds, then prints "ops_per_sec N" (wall clock) and "ops_per_cpu_sec N":
// the same ops divided by the CPU time (user + system) this process was
// charged over the measured phase. The second is what a profiler costs the
// target: time the target is preempted by other programs does not count,
// while the profiler's work in the target (runtime/pprof's SIGPROF handler,
// golens's BPF program in the target's timer interrupt) does. With -pprof-hz
// it profiles itself with runtime/pprof at that rate. With -parent-cpu it
// also reports the CPU its parent (golens record, which started it) used
// over the same phase. -mark and -go let a script start the measured phase
// of two copies together (run_long.sh: a profiled one and its twin).
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type record struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

var sink int

func op(i int, buf []byte, m map[int]int, ints []int) {
	buf[i%len(buf)] = byte(i)
	sum := sha256.Sum256(buf)
	sink += int(sum[0])
	for k := 0; k < 64; k++ {
		m[(i*64+k)%4096] += k
	}
	for k := range ints {
		ints[k] = (i*7919 + k*104729) % 1000
	}
	sort.Ints(ints)
	b, _ := json.Marshal(record{ID: i, Name: "golens", Tags: []string{"a", "b"}, Attrs: map[string]string{"k": "v"}})
	sink += len(b)
}

// cpuSeconds is this process's user and system CPU time (all threads:
// the Go runtime's GC workers and signal handling included). The kernel
// derives it from the scheduler's nanosecond runtime, so it is precise to
// the microsecond whatever the tick.
func cpuSeconds() (user, sys float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "getrusage:", err)
		os.Exit(1)
	}
	return float64(ru.Utime.Nano()) / 1e9, float64(ru.Stime.Nano()) / 1e9
}

// processRuntime is the CPU time, in seconds, of the live threads of pid:
// the sum of their scheduler runtimes (/proc/PID/task/*/schedstat, in ns).
// /proc/PID/stat would count exited threads too but only in 10 ms ticks,
// too coarse for a profiler that uses a few ms per second.
func processRuntime(pid int) float64 {
	paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	total := 0.0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited meanwhile
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseFloat(f[0], 64)
			total += ns / 1e9
		}
	}
	return total
}

// run does ops in batches of 64 until done() (checked once per batch, ~1 ms)
// and returns how many it did.
func run(first int, done func() bool, buf []byte, m map[int]int, ints []int) int {
	ops := first
	for {
		for k := 0; k < 64; k++ {
			op(ops+k, buf, m, ints)
		}
		ops += 64
		if done() {
			return ops - first
		}
	}
}

func until(t time.Time) func() bool { return func() bool { return time.Now().After(t) } }

func exists(path string) func() bool {
	return func() bool { _, err := os.Stat(path); return err == nil }
}

func main() {
	seconds := flag.Float64("seconds", 5, "how long to measure")
	warmup := flag.Float64("warmup", 0, "run this long before measuring (page faults, map growth, the profiler attaching)")
	pprofHz := flag.Int("pprof-hz", 0, "profile with runtime/pprof at this rate (0 = off)")
	parentCPU := flag.Bool("parent-cpu", false, "also report the parent process's CPU over the measured phase")
	mark := flag.String("mark", "", "create this file when the warm-up is over")
	goFile := flag.String("go", "", "after the warm-up, keep warming up until this file exists (to start the measured phase together with another process)")
	flag.Parse()
	if *pprofHz > 0 {
		// Setting the rate first is the documented way to get a rate other
		// than 100 Hz; StartCPUProfile then warns that it cannot change it.
		runtime.SetCPUProfileRate(*pprofHz)
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	buf := make([]byte, 4096)
	m := make(map[int]int)
	ints := make([]int, 256)
	ops := 0
	if *warmup > 0 {
		ops = run(0, until(time.Now().Add(time.Duration(*warmup*float64(time.Second)))), buf, m, ints)
	}
	if *mark != "" {
		if err := os.WriteFile(*mark, nil, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *goFile != "" {
		ops += run(ops, exists(*goFile), buf, m, ints)
	}
	ppid := os.Getppid()
	parentStart := 0.0
	if *parentCPU {
		parentStart = processRuntime(ppid)
	}
	userStart, sysStart := cpuSeconds()
	start := time.Now()
	measured := run(ops, until(start.Add(time.Duration(*seconds*float64(time.Second)))), buf, m, ints)
	elapsed := time.Since(start).Seconds()
	userEnd, sysEnd := cpuSeconds()
	cpu := (userEnd - userStart) + (sysEnd - sysStart)
	fmt.Printf("ops %d\n", measured)
	fmt.Printf("wall_sec %.6f\n", elapsed)
	fmt.Printf("user_sec %.6f\n", userEnd-userStart)
	fmt.Printf("sys_sec %.6f\n", sysEnd-sysStart)
	fmt.Printf("ops_per_sec %.1f\n", float64(measured)/elapsed)
	fmt.Printf("ops_per_cpu_sec %.1f\n", float64(measured)/cpu)
	if *parentCPU {
		fmt.Printf("parent_cpu_sec %.6f\n", processRuntime(ppid)-parentStart)
	}
	// Whole-process CPU (start-up and warm-up included), for a script that
	// subtracts it from its child's total.
	userAll, sysAll := cpuSeconds()
	fmt.Printf("process_cpu_sec %.6f\n", userAll+sysAll)
}
