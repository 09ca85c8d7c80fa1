// goprof writes real runtime/pprof CPU profiles for the flame/fold/diff
// tests: labelled goroutines (pprof.Do, worker=alpha|beta|gamma) doing
// hashing, map lookups and sorting. -variant shifts the work between them,
// like a new deploy, so diffs have something to show.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"time"
)

var sink int

//go:noinline
func hashWork(rounds int) {
	buf := make([]byte, 4096)
	var sum [32]byte
	for i := 0; i < rounds; i++ {
		buf[0] = byte(i)
		sum = sha256.Sum256(buf)
	}
	sink += int(sum[0])
}

//go:noinline
func mapWork(m map[int]int, rounds int) {
	s := 0
	for i := 0; i < rounds; i++ {
		s += m[i%len(m)]
	}
	sink += s
}

//go:noinline
func sortWork(n int) {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = (i * 7919) % n
	}
	sort.Ints(xs)
	sink += xs[0]
}

func worker(ctx context.Context, name string, deadline time.Time, share int, wg *sync.WaitGroup) {
	defer wg.Done()
	pprof.Do(ctx, pprof.Labels("worker", name), func(context.Context) {
		m := make(map[int]int, 1<<16)
		for i := 0; i < 1<<16; i++ {
			m[i] = i
		}
		for time.Now().Before(deadline) {
			switch name {
			case "alpha":
				hashWork(20 * share)
			case "beta":
				mapWork(m, 20000*share)
			default:
				sortWork(1000 * share)
			}
		}
	})
}

func main() {
	out := flag.String("o", "cpu.pb.gz", "output profile")
	seconds := flag.Float64("seconds", 1.5, "duration")
	variant := flag.Int("variant", 0, "0 = base workload, 1 = shifted workload (a new deploy)")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	shares := map[string]int{"alpha": 1, "beta": 1, "gamma": 1}
	if *variant == 1 {
		shares["alpha"] = 3
	}
	for _, name := range []string{"alpha", "beta", "gamma"} {
		wg.Add(1)
		go worker(context.Background(), name, deadline, shares[name], &wg)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
