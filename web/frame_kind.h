// What kind of code a flame graph frame is, which decides its color family.
#pragma once

#include <cstdint>
#include <string_view>

#include "pprof/stack_frames.h"

namespace golens::web {

enum class FrameKind : uint8_t {
  kRoot,       // the synthetic "all" frame
  kGoUser,     // Go code outside the runtime (user code and the rest of the standard library)
  kGoRuntime,  // runtime.*, runtime/*, internal/* (the Go runtime and its internal packages)
  kMapLookup,  // Go map operations: runtime.mapaccess*/mapassign*/mapdelete*, internal/runtime/maps.*
  kNative,     // C/C++/assembly outside Go: cgo callees, libc, vdso, unsymbolized addresses
  kKernel,     // kernel frames
};

// Classification from what the model carries, in this order:
//  1. kernel: the location's mapping is "[kernel]"/"[kernel.kallsyms]*" (what
//     our recorder writes), or a folded frame annotated "_[k]";
//  2. map lookup: runtime.mapaccess* / runtime.mapassign* / runtime.mapdelete*
//     (classic maps) and internal/runtime/maps.* (Swiss tables, Go 1.24+);
//  3. Go runtime: runtime.*, runtime/*, internal/* functions; these names only
//     exist in Go binaries so the file name is not needed;
//  4. Go user code: the function's file ends in ".go" (or ".s" for a Go
//     assembler function with a Go symbol name), or (no file name, as in
//     folded input) the name looks like a Go symbol: "path/pkg.Func",
//     "pkg.(*T).M", "pkg.Func.func1" (a '.' after the last '/', no "::",
//     no spaces or parentheses before that '.');
//  5. native: everything else (C/C++ symbols, "[libc.so.6]", raw addresses).
FrameKind ClassifyFrame(const pprof::StackFrame& frame);
FrameKind ClassifyFrameName(std::string_view name, std::string_view filename, bool kernel);

// Short CSS class used in the SVG ("go", "rt", "map", "nat", "k", "root").
const char* FrameKindClass(FrameKind kind);

}  // namespace golens::web
