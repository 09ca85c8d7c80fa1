// dwarf_offsets prints the struct field offsets golens's BPF programs read
// (runtime.g, runtime.m, net/http.Request, net/url.URL), as the DWARF of a
// Go binary states them, one "type.field offset" per line. The tests compare
// golens's offset tables with this for binaries of every Go release they
// build.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
)

var wanted = map[string][]string{
	"runtime.g":        {"m", "goid", "labels"},
	"runtime.m":        {"g0", "curg", "gsignal"},
	"net/http.Request": {"Method", "URL", "Header"},
	"net/url.URL":      {"Path"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dwarf_offsets BINARY")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, "no DWARF:", err)
		os.Exit(1)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		fields, ok := wanted[name]
		if !ok {
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			continue
		}
		st, ok := t.(*dwarf.StructType)
		if !ok {
			continue
		}
		for _, want := range fields {
			for _, f := range st.Field {
				if f.Name == want {
					fmt.Printf("%s.%s %d\n", name, want, f.ByteOffset)
				}
			}
		}
		delete(wanted, name)
	}
}
