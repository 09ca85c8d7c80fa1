#include "profiler/sample_aggregator.h"

#include <algorithm>
#include <fstream>

namespace golens::profiler {
namespace {

inline void Mix(size_t& h, uint64_t v) { h ^= std::hash<uint64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }

}  // namespace

int KernelMaxStackFrames() {
  std::ifstream in("/proc/sys/kernel/perf_event_max_stack");
  int value = 0;
  if (in >> value && value > 0 && value < GOLENS_MAX_FRAMES) return value;
  return GOLENS_MAX_FRAMES;
}

size_t StackKeyHash::operator()(const StackKey& key) const {
  size_t h = key.tgid;
  Mix(h, key.goid);
  for (uint64_t pc : key.user) Mix(h, pc);
  Mix(h, 0x5eed);
  for (uint64_t pc : key.kernel) Mix(h, pc);
  Mix(h, (key.user_truncated ? 1 : 0) | (key.kernel_truncated ? 2 : 0) | (key.kernel_mode ? 4 : 0));
  return h;
}

void SampleAggregator::Add(const golens_sample& sample, std::vector<uint64_t> user) {
  StackKey key;
  key.tgid = sample.tgid;
  if (per_goroutine_ && (sample.flags & GOLENS_SAMPLE_GOID_VALID)) key.goid = sample.extras.goid;
  key.user_truncated = sample.user_frames >= max_frames_;
  key.user = std::move(user);
  if (sample.kernel_frames > 0) {
    int n = std::min(sample.kernel_frames, GOLENS_MAX_FRAMES);
    key.kernel.assign(sample.kernel_stack, sample.kernel_stack + n);
    key.kernel_truncated = sample.kernel_frames >= max_frames_;
  }
  key.kernel_mode = (sample.flags & GOLENS_SAMPLE_KERNEL_MODE) != 0;
  ++stacks_[std::move(key)];
  ++total_;
}

}  // namespace golens::profiler
