//go:build !cgo

package main

func cWork(n int) int64 { return int64(n) }
