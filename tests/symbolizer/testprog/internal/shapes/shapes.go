// Package shapes has generic code: pclntab names instantiations by shape
// ("Map[go.shape.int]"); golens reports that full name, as runtime/pprof does.
package shapes

type Number interface{ ~int | ~int64 | ~float64 }

//go:noinline
func Map[T any, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

//go:noinline
func Sum[T Number](in []T) T {
	var s T
	for _, v := range in {
		s += v
	}
	return s
}

type Stack[T any] struct{ items []T }

func (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }
func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}
