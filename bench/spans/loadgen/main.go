// loadgen measures the request rate of an HTTP server on loopback: -c
// goroutines, each with its own keep-alive connection, send GET requests to
// -url back to back for -duration (after a -warmup that is not counted) and
// it prints
//
//	rps R requests N errors E
//
// A request is an error unless it answers 200. Exit status 1 on errors.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	conc := flag.Int("c", 8, "concurrent keep-alive connections")
	duration := flag.Duration("duration", 5*time.Second, "measured time")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "time before measuring")
	traceparent := flag.String("traceparent", "", "send this traceparent header with every request")
	flag.Parse()
	if *url == "" || *conc < 1 {
		fmt.Fprintln(os.Stderr, "usage: loadgen -url URL [-c 8] [-duration 5s] [-warmup 500ms] [-traceparent TP]")
		os.Exit(2)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc, DisableCompression: true}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var counting atomic.Bool
	var requests, errors atomic.Int64
	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*duration)
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", *url, nil)
			if *traceparent != "" {
				req.Header.Set("traceparent", *traceparent)
			}
			for time.Now().Before(end) {
				resp, err := client.Do(req)
				ok := err == nil
				if ok {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = resp.StatusCode == 200
				}
				if counting.Load() {
					requests.Add(1)
					if !ok {
						errors.Add(1)
					}
				}
			}
		}()
	}
	time.Sleep(time.Until(measureFrom))
	counting.Store(true)
	t := time.Now()
	time.Sleep(time.Until(end))
	counting.Store(false)
	secs := time.Since(t).Seconds()
	wg.Wait()
	fmt.Printf("rps %.1f requests %d errors %d\n", float64(requests.Load())/secs, requests.Load(), errors.Load())
	if errors.Load() > 0 {
		os.Exit(1)
	}
}
