// The "native_procs" BPF map entry of a process (bpf/abi.h
// golens_native_proc): where its Go code is at run time, so BPF snapshots
// the stack only when a sample (or the frame-pointer walk of one) is outside
// Go code, and the Go runtime offsets the snapshot needs.
#pragma once

#include "bpf/abi.h"
#include "profiler/process_state.h"

namespace golens::profiler {

// Defaults of record's --native-stack-bytes.
inline constexpr uint32_t kDefaultNativeStackBytes = 16384;

struct NativeOptions {
  bool enabled = true;                                  // snapshot and unwind native stacks
  uint32_t stack_bytes = kDefaultNativeStackBytes;      // user stack copied per native sample
};

// A process without Go code (or whose Go binary golens could not read) gets
// an empty range: every sample of it is native.
golens_native_proc MakeNativeProc(const ProcessState& process);

}  // namespace golens::profiler
