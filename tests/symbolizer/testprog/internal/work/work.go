// Package work is CPU-bound code with inlining at several depths, closures
// and methods, so the symbolizer tests see realistic inline chains.
package work

import (
	"runtime"
	"sort"
	"strings"
)

// Point is a value type with small (inlinable) methods.
type Point struct{ X, Y int }

func (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }
func (p *Point) Scale(k int)      { p.X *= k; p.Y *= k }

func inl2(x int) int { return x*31 + 7 }
func inl1(x int) int { return inl2(x) ^ (x >> 3) }

// Outer calls inl1 -> inl2 (both inlined) and a non-inlined leaf.
func Outer(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += inl1(i)
		s = Leaf(s)
	}
	return s
}

//go:noinline
func Leaf(x int) int { return x%1000003 + 1 }

// Stack returns the PCs of the caller chain as runtime.Callers sees them,
// from a point three inline levels deep.
func Stack() []uintptr { return stackInl1() }

func stackInl1() []uintptr { return stackInl2() }
func stackInl2() []uintptr {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(1, pcs)
	return pcs[:n]
}

// Words exercises closures, sort and strings.
func Words(text string) []string {
	fields := strings.Fields(text)
	seen := map[string]int{}
	for _, f := range fields {
		seen[strings.ToLower(f)]++
	}
	out := make([]string, 0, len(seen))
	for w := range seen {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if seen[out[i]] != seen[out[j]] {
			return seen[out[i]] > seen[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// Spin burns CPU until stop is closed.
func Spin(stop <-chan struct{}) int {
	acc := 0
	for {
		select {
		case <-stop:
			return acc
		default:
		}
		p := Point{1, 2}
		for i := 0; i < 1000; i++ {
			p = p.Add(Point{i, -i})
			p.Scale(1)
			acc += Outer(10)
		}
	}
}
