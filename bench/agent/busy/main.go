// busy is one of the agent benchmark's targets: it works in a loop for
// -seconds (with a few goroutines, a map and some allocation, like a
// service) and prints how many rounds it finished, so the agent's cost shows
// as lost rounds.
package main

import (
	"flag"
	"fmt"
	"time"
)

var sink uint64

//go:noinline
func round(m map[uint64]uint64, i uint64) uint64 {
	x := i | 1
	for j := 0; j < 2000; j++ {
		x = x*6364136223846793005 + 1442695040888963407
		m[x&1023] += x
	}
	buf := make([]byte, 64)
	buf[0] = byte(x)
	return x + uint64(buf[0])
}

func main() {
	seconds := flag.Float64("seconds", 30, "work this long")
	flag.Parse()
	m := make(map[uint64]uint64)
	end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var rounds uint64
	for time.Now().Before(end) {
		sink += round(m, rounds)
		rounds++
	}
	fmt.Println(rounds)
}
