// testprog: fixture for the symbolizer tests.
//
//	testprog            does some work and prints a summary
//	testprog frames     prints runtime.Callers PCs and runtime.CallersFrames
//	                    output ("pc<TAB>function<TAB>file<TAB>line")
//	testprog spin       prints "ready <pid> <hex address of work.Spin>", then burns CPU
//	                    until stdin closes
package main

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"

	"example.com/golens/testprog/internal/shapes"
	"example.com/golens/testprog/internal/work"
)

func printFrames() {
	pcs := work.Stack()
	for _, pc := range pcs {
		// One line per PC, each with its full expansion (runtime.CallersFrames
		// on a single PC expands the inline chain at pc-1).
		frames := runtime.CallersFrames([]uintptr{pc})
		for {
			f, more := frames.Next()
			fmt.Printf("%x\t%s\t%s\t%d\n", pc, f.Function, f.File, f.Line)
			if !more {
				break
			}
		}
	}
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "frames":
		printFrames()
	case "spin":
		stop := make(chan struct{})
		go func() {
			buf := make([]byte, 1)
			os.Stdin.Read(buf)
			close(stop)
		}()
		fmt.Printf("ready %d %x\n", os.Getpid(), reflect.ValueOf(work.Spin).Pointer())
		work.Spin(stop)
	default:
		ints := shapes.Map([]string{"1", "22", "333"}, func(s string) int { n, _ := strconv.Atoi(s); return n })
		var st shapes.Stack[float64]
		st.Push(1.5)
		v, _ := st.Pop()
		fmt.Println(work.Outer(1000), shapes.Sum(ints), v, len(work.Words("a b a c")), cWork(10))
	}
}
