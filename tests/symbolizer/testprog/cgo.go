//go:build cgo

package main

/*
#include <stdint.h>
#include <string.h>

// A C function the symbolizer must resolve by its ELF symbol name.
__attribute__((noinline)) int64_t golens_c_work(int64_t n) {
	char buf[64];
	int64_t acc = 0;
	for (int64_t i = 0; i < n; i++) {
		memset(buf, (int)i, sizeof buf);
		acc += buf[i % 64] + (int64_t)strlen("golens");
	}
	return acc;
}
*/
import "C"

func cWork(n int) int64 { return int64(C.golens_c_work(C.int64_t(n))) }
