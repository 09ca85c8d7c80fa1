// burner is the short-lived Go process of bench/longrun/run.sh: it burns CPU
// on one thread for the given wall-clock duration (default 3s), alternating
// between two call paths (so profiles have more than one stack), and exits. 200 of them in a row make a 10-minute real-time run.
package main

import (
	"os"
	"time"
)

var sink uint64

//go:noinline
func mix(x uint64) uint64 {
	for i := 0; i < 10000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func hashLoop(until time.Time) uint64 {
	x := uint64(1)
	for time.Now().Before(until) {
		x = mix(x)
	}
	return x
}

//go:noinline
func allocLoop(until time.Time) uint64 {
	var n uint64
	for time.Now().Before(until) {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i)
		}
		n += uint64(b[len(b)-1])
	}
	return n
}

func main() {
	d := 3 * time.Second
	if len(os.Args) > 1 {
		if parsed, err := time.ParseDuration(os.Args[1]); err == nil {
			d = parsed
		}
	}
	end := time.Now().Add(d)
	for now := time.Now(); now.Before(end); now = time.Now() {
		slice := now.Add(50 * time.Millisecond)
		sink += hashLoop(slice)
		sink += allocLoop(slice.Add(50 * time.Millisecond))
	}
}
