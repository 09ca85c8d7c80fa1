// Frame-pointer unwinding (bpf_get_stack) skips the caller of a leaf that
// has no frame yet: a frameless Go leaf (no BP save: "frameless leaf" or
// NOFRAME asm such as the syscall stubs), a sample before `push rbp` or at
// `mov rbp, rsp`, or one at `ret`. There the return address is the word at
// the user SP (or SP+8), which BPF records. This puts it back, deciding per
// leaf PC by disassembling the leaf's function once (cached per binary).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"
#include "profiler/function_frame.h"

namespace golens::symbolizer {
class Binary;
}

namespace golens::profiler {

class TargetProcess;

class LeafFixup {
 public:
  // The sample's user stack (leaf first), with the skipped caller restored
  // and cut at the first return address outside executable mappings (a
  // frame-pointer walk through native code without frame pointers).
  std::vector<uint64_t> UserStack(const golens_sample& sample, TargetProcess& target);

  uint64_t restored() const { return restored_; }
  uint64_t trimmed() const { return trimmed_; }

 private:
  std::vector<uint64_t> RestoreLeafCaller(const golens_sample& sample, TargetProcess& target);
  const FunctionFrameInfo* FrameInfo(const std::shared_ptr<const symbolizer::Binary>& binary,
                                     uint64_t vaddr);

  struct PerBinary {
    std::shared_ptr<const symbolizer::Binary> binary;  // keeps the key alive
    std::unordered_map<uint64_t, const FunctionFrameInfo*> by_pc;  // leaf vaddr -> function
    std::map<uint64_t, std::unique_ptr<FunctionFrameInfo>> by_entry;
  };
  std::unordered_map<const symbolizer::Binary*, PerBinary> binaries_;
  uint64_t restored_ = 0;
  uint64_t trimmed_ = 0;
};

}  // namespace golens::profiler
