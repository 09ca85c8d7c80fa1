// A check of the CFI (call frame information) libunwind is about to run for
// one address. libunwind 1.6 was not written for hostile input (the fuzzer
// made it fault on made-up stack contents, see native_unwind.cc), so golens
// does not hand it unwind tables it has not looked at: it finds the FDE for
// the address itself through .eh_frame_hdr and walks its CIE's and its own
// CFA programs first: every opcode known, every operand inside the program,
// every register one x86-64 unwinding has (DWARF 0-16), remember/restore
// balanced. Anything else is "no unwind info", and the stack is cut there.
#pragma once

#include <cstdint>
#include <span>

namespace golens::profiler {

struct CfiSections {
  uint64_t hdr_vaddr = 0;  // .eh_frame_hdr
  std::span<const uint8_t> hdr;
  uint64_t frame_vaddr = 0;  // .eh_frame
  std::span<const uint8_t> frame;
};

enum class CfiVerdict {
  kSafe,     // an FDE covers the address and its programs are well formed
  kNoEntry,  // no FDE covers it
  kUnsafe,   // malformed tables or programs
};

// `vaddr` is the ELF address being looked up (already pc - 1 for return
// addresses, as libunwind asks).
CfiVerdict CheckCfi(const CfiSections& sections, uint64_t vaddr);

}  // namespace golens::profiler
