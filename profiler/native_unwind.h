// Unwinds native stack snapshots (GOLENS_SECTION_NATIVE_STACK) with
// libunwind's remote API: the registers and stack bytes BPF copied, and the
// CFI of the mapped ELF files (.eh_frame_hdr / .eh_frame, read from the files
// golens opened, never from the process). When the walk returns into Go code
// it continues there: from a cgo call (runtime.asmcgocall, whose system-stack
// frame holds the goroutine and its stack depth) onto the goroutine's stack
// through the copied goroutine window, by frame pointers, up to
// runtime.goexit; elsewhere it joins the frame-pointer walk BPF made.
//
// Never invents frames: a frame libunwind could only guess (no CFI for the
// code), a read outside the copied memory, or a way back into Go that cannot
// be proved (the saved goroutine does not match) ends the stack, and the
// reason is returned so the stack can be marked.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"
#include "profiler/base/result.h"
#include "profiler/process_state.h"

namespace golens::profiler {

static_assert(sizeof(golens_native_stack) == 112, "golens_native_stack layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_native_proc) == 24, "golens_native_proc layout changed: bump GOLENS_ABI_VERSION");

// A decoded snapshot; the spans point into the record.
struct NativeSnapshot {
  golens_native_stack head{};
  std::span<const uint8_t> stack;      // user memory from head.sp
  std::span<const uint8_t> go_window;  // user memory from head.go_window
};

// Checks the payload's sizes (a malformed section is an error, never a read
// past its end).
Result<NativeSnapshot> DecodeNativeStack(std::span<const uint8_t> payload);

// Why a native stack ends before its root. kNone: it reached the root
// (runtime.goexit, a thread's first frame, or a frame chain ending in 0).
enum class NativeCut : uint8_t {
  kNone = 0,
  kNoUnwindInfo,   // code without CFI (or unmapped, or its file unreadable)
  kStackShort,     // the unwind needed stack memory BPF did not copy
  kNoWayToGo,      // returned into Go code but could not prove where the goroutine's frames are
  kGoWindowShort,  // the goroutine's frames go on past the copied window
  kDepth,          // more frames than the limit
  kBadSnapshot,    // the snapshot contradicts the frame-pointer walk
  kUnwinderFault,  // libunwind faulted on what it read (hostile memory); caught
};
std::string_view NativeCutName(NativeCut cut);  // "[unwind cut: no unwind info]"...

struct NativeStack {
  std::vector<uint64_t> frames;  // the whole user stack, leaf first
  NativeCut cut = NativeCut::kNone;
  size_t native_frames = 0;      // frames found through CFI
};

// The mapping of a runtime address in the sampled process (null: none).
class CodeLookup {
 public:
  virtual ~CodeLookup() = default;
  virtual const MappingRecord* Find(uint64_t address) = 0;
  // Names the code this lookup sees (a process and its current mappings):
  // while it stays the same, CFI decoded for an address is reused. 0: never.
  virtual uint64_t CacheKey() const { return 0; }
};

// Not thread-safe: one per drain thread. Holds one libunwind address space.
class NativeUnwinder {
 public:
  NativeUnwinder();
  ~NativeUnwinder();
  NativeUnwinder(const NativeUnwinder&) = delete;
  NativeUnwinder& operator=(const NativeUnwinder&) = delete;

  static constexpr size_t kMaxFrames = 256;

  // `fp_frames` is the frame-pointer walk BPF made (the sample's user stack).
  NativeStack Unwind(const NativeSnapshot& snapshot, std::span<const uint64_t> fp_frames, CodeLookup& code,
                     size_t max_frames = kMaxFrames);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace golens::profiler
