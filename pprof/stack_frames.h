// How a Location becomes the frames a user sees (flame graphs, folded text):
// one frame per Line, the physical function first (root-most), then the
// functions inlined into it; lines other than the last are inlined frames.
#pragma once

#include <string>
#include <vector>

#include "pprof/profile.h"

namespace golens::pprof {

struct StackFrame {
  std::string name;       // never empty; ';' and newlines replaced (folded-safe)
  std::string filename;   // source file, "" when unknown
  std::string mapping;    // mapping filename ("[kernel]", "/usr/lib/libc.so.6"), "" when none
  bool inlined = false;   // inlined into the frame before it
  bool kernel = false;    // kernel frame (mapping "[kernel]"/"[kernel.kallsyms]" or folded "_[k]")
  // The location's mapping is a Go binary (set by consumers that know it,
  // see GoMappingIds): with a file name, the frame came from its pclntab.
  bool go_binary = false;
};

// Ids of the mappings that are Go binaries: at least one of their locations
// has a function in a ".go" file (only a Go pclntab yields those), sorted.
std::vector<uint64_t> GoMappingIds(const Profile& profile, const ProfileIndex& index);

// Frames of `location`, root-most first. Unsymbolized locations get
// "[mapping basename] 0xADDR" or "0xADDR" (as pprof shows them).
std::vector<StackFrame> LocationFrames(const Location& location, const ProfileIndex& index);

// Mapping filenames that mean "kernel". Writers (ours, folded conversion) use "[kernel]".
bool IsKernelMappingName(const std::string& filename);
inline constexpr char kKernelMappingName[] = "[kernel]";

// Folded-text annotations (flamegraph.pl conventions): "_[k]" kernel, "_[i]" inlined.
inline constexpr char kKernelSuffix[] = "_[k]";
inline constexpr char kInlineSuffix[] = "_[i]";

}  // namespace golens::pprof
