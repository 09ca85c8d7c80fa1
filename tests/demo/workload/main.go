// The golens demo workload: a small "service" whose CPU goes to a handful of
// recognisable places, so a flame graph of it reads like a real one:
//   - an HTTP server on loopback serving JSON and hashing request bodies,
//   - a load generator calling it (so net/http and syscalls show up),
//   - a cache that does many Go map lookups (mapaccess-colored frames),
//   - workers labelled with pprof labels (worker=alpha|beta).
// It runs until killed, or for -duration.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

var requests atomic.Int64

type order struct {
	ID    int      `json:"id"`
	Items []string `json:"items"`
	Total float64  `json:"total"`
}

func handleOrder(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	var o order
	if err := json.Unmarshal(body, &o); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.Total = priceItems(o.Items)
	w.Header().Set("X-Digest", fmt.Sprintf("%x", sum[:8]))
	_ = json.NewEncoder(w).Encode(o)
	requests.Add(1)
}

var prices = buildPrices(50000)

func buildPrices(n int) map[string]float64 {
	m := make(map[string]float64, n)
	for i := 0; i < n; i++ {
		m["sku-"+strconv.Itoa(i)] = float64(i%997) / 10
	}
	return m
}

// priceItems is map-lookup heavy on purpose.
func priceItems(items []string) float64 {
	total := 0.0
	for round := 0; round < 200; round++ {
		for _, it := range items {
			total += prices[it]
		}
	}
	return total
}

func loadGenerator(addr string) {
	client := &http.Client{Timeout: 2 * time.Second}
	items := make([]string, 64)
	for i := 0; ; i++ {
		for j := range items {
			items[j] = "sku-" + strconv.Itoa((i*131+j*7)%60000)
		}
		b, _ := json.Marshal(order{ID: i, Items: items})
		resp, err := client.Post("http://"+addr+"/order", "application/json", bytes.NewReader(b))
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

var logLine = regexp.MustCompile(`^(\d+)-(\w+)-([a-f0-9]+)$`)

// worker does labelled background work: regex matching and sorting.
func worker(name string, weight int) {
	pprof.Do(context.Background(), pprof.Labels("worker", name), func(context.Context) {
		lines := make([]string, 2000)
		for i := range lines {
			lines[i] = fmt.Sprintf("%d-%s-%x", i, name, i*7919)
		}
		for {
			for w := 0; w < weight; w++ {
				n := 0
				for _, l := range lines {
					if logLine.MatchString(l) {
						n++
					}
				}
				xs := make([]int, 20000)
				for i := range xs {
					xs[i] = (i * 7919) % 10007
				}
				sort.Ints(xs)
				_ = n
			}
			time.Sleep(time.Millisecond)
		}
	})
}

func main() {
	duration := flag.Duration("duration", 0, "exit after this long (0 = run until killed)")
	flag.Parse()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/order", handleOrder)
	go func() { _ = http.Serve(ln, mux) }()

	go loadGenerator(ln.Addr().String())
	go worker("alpha", 3)
	go worker("beta", 1)

	fmt.Printf("demo workload pid %d serving on %s\n", os.Getpid(), ln.Addr())
	if *duration > 0 {
		time.Sleep(*duration)
		fmt.Printf("served %d requests\n", requests.Load())
		return
	}
	select {}
}
