// Prologue/epilogue facts of one x86-64 function, decoded with Capstone:
// where its return address is at a given PC when the frame-pointer chain
// does not yet (or no longer) include it. Used by the leaf fix-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

namespace golens::profiler {

// Where the return address of a function is at a given PC.
enum class ReturnAddressAt { kFramePointer, kSp, kSpPlus8 };

// The prologue/epilogue facts of one function, from its machine code.
struct FunctionFrameInfo {
  bool frameless = false;        // never saves RBP nor moves RSP
  uint64_t push_rbp = 0;         // vaddr of `push rbp` (0 if none)
  uint64_t after_push = 0;       // vaddr of the instruction after it
  std::set<uint64_t> returns;    // vaddrs of `ret` instructions
  ReturnAddressAt At(uint64_t vaddr) const;
};

// Decodes x86-64 code of one function starting at `entry`.
FunctionFrameInfo AnalyzeFunctionFrame(const uint8_t* code, size_t size, uint64_t entry);

}  // namespace golens::profiler
