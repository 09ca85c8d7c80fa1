// workload measures its own throughput: a mix of hashing, map updates,
// sorting and JSON encoding on one goroutine, for -seconds, then prints
// "ops_per_sec N". With -pprof-hz it profiles itself with runtime/pprof at
// that rate, so the profiler's cost shows up as lost throughput.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
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

func main() {
	seconds := flag.Float64("seconds", 5, "how long to run")
	pprofHz := flag.Int("pprof-hz", 0, "profile with runtime/pprof at this rate (0 = off)")
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
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	ops := 0
	for {
		for k := 0; k < 64; k++ {
			op(ops+k, buf, m, ints)
		}
		ops += 64
		if time.Now().After(deadline) {
			break
		}
	}
	elapsed := time.Since(start).Seconds()
	fmt.Printf("ops_per_sec %.1f\n", float64(ops)/elapsed)
}
