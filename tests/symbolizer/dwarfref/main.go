// dwarfref: the reference the symbolizer is checked against. It reads the
// DWARF of an unstripped Go binary with debug/dwarf and, for every instruction
// start of the program's own packages plus a sample of the runtime, prints the
// inline chain innermost first, as runtime.CallersFrames would name it:
//
//	0xPC<TAB>function<TAB>file<TAB>line[<TAB>function<TAB>file<TAB>line...]
//
// Usage: dwarfref [-own PREFIX,...] [-min N] BINARY
package main

import (
	"bufio"
	"debug/dwarf"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

type inlineNode struct {
	ranges   [][2]uint64
	name     string
	callFile string
	callLine int64
	parent   *inlineNode
}

type function struct {
	name    string
	ranges  [][2]uint64
	inlines []*inlineNode
	cu      *dwarf.Entry
}

func contains(ranges [][2]uint64, pc uint64) bool {
	for _, r := range ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// forPrint is the name golens reports: the full symbol name, generic shape
// arguments included ("Map[go.shape.int]"), as runtime/pprof writes it.
// DWARF names generic instantiations the same way.
func forPrint(name string) string { return name }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dwarfref: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	own := flag.String("own", "main.,example.com/golens/testprog", "comma-separated name prefixes of the program's own packages")
	minPCs := flag.Int("min", 12000, "sample runtime functions until at least this many PCs")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("usage: dwarfref [-own P,...] [-min N] BINARY")
	}
	f, err := elf.Open(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	d, err := f.DWARF()
	if err != nil {
		fail("no DWARF: %v", err)
	}
	text := f.Section(".text")
	if text == nil {
		fail("no .text")
	}
	code, err := text.Data()
	if err != nil {
		fail("%v", err)
	}

	// Pass 1: names of every subprogram by offset (abstract origins).
	names := map[dwarf.Offset]string{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail("%v", err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagSubprogram {
			if n, ok := e.Val(dwarf.AttrName).(string); ok {
				names[e.Offset] = n
			}
		}
	}
	nameOf := func(e *dwarf.Entry) string {
		if n, ok := e.Val(dwarf.AttrName).(string); ok {
			return n
		}
		if o, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
			return names[o]
		}
		return "?"
	}

	// Pass 2: concrete functions with their inline trees.
	var funcs []*function
	var cu *dwarf.Entry
	var files []*dwarf.LineFile
	r = d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail("%v", err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			cu = e
			files = nil
			if lr, err := d.LineReader(e); err == nil && lr != nil {
				files = lr.Files()
			}
			continue
		}
		if e.Tag != dwarf.TagSubprogram {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		ranges, _ := d.Ranges(e)
		if len(ranges) == 0 {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		fn := &function{name: nameOf(e), ranges: ranges, cu: cu}
		funcs = append(funcs, fn)
		if !e.Children {
			continue
		}
		// Walk the subtree; inlined subroutines nest (also inside lexical blocks).
		var stack []*inlineNode
		depth := 0
		var nodeDepth []int
		for {
			c, err := r.Next()
			if err != nil {
				fail("%v", err)
			}
			if c == nil || c.Tag == 0 {
				if depth == 0 {
					break
				}
				depth--
				for len(nodeDepth) > 0 && nodeDepth[len(nodeDepth)-1] > depth {
					nodeDepth = nodeDepth[:len(nodeDepth)-1]
					stack = stack[:len(stack)-1]
				}
				continue
			}
			if c.Tag == dwarf.TagInlinedSubroutine {
				rs, _ := d.Ranges(c)
				n := &inlineNode{ranges: rs, name: nameOf(c)}
				if idx, ok := c.Val(dwarf.AttrCallFile).(int64); ok && idx >= 0 && int(idx) < len(files) && files[idx] != nil {
					n.callFile = files[idx].Name
				}
				n.callLine, _ = c.Val(dwarf.AttrCallLine).(int64)
				if len(stack) > 0 {
					n.parent = stack[len(stack)-1]
				}
				fn.inlines = append(fn.inlines, n)
				if c.Children {
					depth++
					stack = append(stack, n)
					nodeDepth = append(nodeDepth, depth)
				}
				continue
			}
			if c.Children {
				depth++
			}
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].ranges[0][0] < funcs[j].ranges[0][0] })

	prefixes := strings.Split(*own, ",")
	isOwn := func(name string) bool {
		for _, p := range prefixes {
			if p != "" && strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	var selected []*function
	pcCount := 0
	countPCs := func(fn *function) int {
		n := 0
		for _, rg := range fn.ranges {
			n += int(rg[1]-rg[0]) / 4 // rough instruction count
		}
		return n
	}
	for _, fn := range funcs {
		if isOwn(fn.name) {
			selected = append(selected, fn)
			pcCount += countPCs(fn)
		}
	}
	// Runtime sample: every other runtime function, in address order, until enough.
	for i, fn := range funcs {
		if pcCount >= *minPCs {
			break
		}
		if strings.HasPrefix(fn.name, "runtime.") && i%2 == 0 {
			selected = append(selected, fn)
			pcCount += countPCs(fn)
		}
	}

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	total := 0
	lineReaders := map[*dwarf.Entry]*dwarf.LineReader{}
	for _, fn := range selected {
		lr := lineReaders[fn.cu]
		if lr == nil {
			lr, err = d.LineReader(fn.cu)
			if err != nil || lr == nil {
				continue
			}
			lineReaders[fn.cu] = lr
		}
		for _, rg := range fn.ranges {
			for pc := rg[0]; pc < rg[1]; {
				off := pc - text.Addr
				if pc < text.Addr || off >= uint64(len(code)) {
					break
				}
				inst, err := x86asm.Decode(code[off:], 64)
				size := uint64(inst.Len)
				if err != nil || size == 0 {
					size = 1
				}
				var le dwarf.LineEntry
				if err := lr.SeekPC(pc, &le); err != nil || le.File == nil {
					pc += size
					continue
				}
				// Deepest inline node containing pc.
				var deepest *inlineNode
				bestDepth := -1
				for _, n := range fn.inlines {
					if !contains(n.ranges, pc) {
						continue
					}
					dpt := 0
					for p := n.parent; p != nil; p = p.parent {
						dpt++
					}
					if dpt > bestDepth {
						deepest, bestDepth = n, dpt
					}
				}
				var sb strings.Builder
				fmt.Fprintf(&sb, "0x%x", pc)
				file, line := le.File.Name, int64(le.Line)
				for n := deepest; n != nil; n = n.parent {
					fmt.Fprintf(&sb, "\t%s\t%s\t%d", forPrint(n.name), file, line)
					file, line = n.callFile, n.callLine
				}
				fmt.Fprintf(&sb, "\t%s\t%s\t%d\n", forPrint(fn.name), file, line)
				out.WriteString(sb.String())
				total++
				pc += size
			}
		}
	}
	fmt.Fprintf(os.Stderr, "dwarfref: %d functions, %d pcs\n", len(selected), total)
}
