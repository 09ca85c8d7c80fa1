// Aggregates raw BPF samples in user space: equal (process, goroutine,
// user stack, kernel stack, extras) keys add up. Raw addresses only;
// symbolization happens once at the end (profiler/cpu_profile.*).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"

namespace golens::profiler {

// The kernel's stack depth limit for BPF (kernel.perf_event_max_stack),
// capped at GOLENS_MAX_FRAMES.
int KernelMaxStackFrames();

struct StackKey {
  uint32_t tgid = 0;
  uint64_t goid = 0;                 // 0 unless aggregating per goroutine
  std::vector<uint64_t> user;        // leaf first, raw PCs (return addresses above the leaf)
  std::vector<uint64_t> kernel;      // leaf first
  bool user_truncated = false;       // the stack hit GOLENS_MAX_FRAMES
  bool kernel_truncated = false;
  bool kernel_mode = false;          // user[0] is a syscall resume address, not an executing PC
  bool operator==(const StackKey&) const = default;
};

struct StackKeyHash {
  size_t operator()(const StackKey& key) const;
};

class SampleAggregator {
 public:
  // `max_frames`: the depth at which the kernel cuts stacks, min(127,
  // kernel.perf_event_max_stack); a stack that reaches it is marked truncated.
  explicit SampleAggregator(bool per_goroutine, int max_frames = GOLENS_MAX_FRAMES)
      : per_goroutine_(per_goroutine), max_frames_(max_frames) {}

  // `user` is the (possibly fixed-up) user stack of `sample`.
  void Add(const golens_sample& sample, std::vector<uint64_t> user);

  const std::unordered_map<StackKey, uint64_t, StackKeyHash>& stacks() const { return stacks_; }
  uint64_t total() const { return total_; }

 private:
  bool per_goroutine_;
  int max_frames_;
  std::unordered_map<StackKey, uint64_t, StackKeyHash> stacks_;
  uint64_t total_ = 0;
};

}  // namespace golens::profiler
