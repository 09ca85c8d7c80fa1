// Loads the BPF sampler (bpf/sampler.bpf.c), attaches it to a cpu-clock
// perf event on every online CPU, and streams its samples to a callback.
// Owns every libbpf object and link (RAII); targets are added and removed
// at any time through the "targets" map.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "bpf/abi.h"
#include "profiler/base/result.h"

struct golens_sampler;
struct ring_buffer;
struct bpf_link;

namespace golens::profiler {

// The ABI as the C++ side sees it; a mismatch with bpf/abi.h is a build error.
static_assert(sizeof(golens_proc_info) == 72, "golens_proc_info layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_sample_extras) == 32, "golens_sample_extras layout changed");
static_assert(sizeof(golens_sample) == 40 + 32 + 24 + 2 * 8 * GOLENS_MAX_FRAMES,
              "golens_sample layout changed: bump GOLENS_ABI_VERSION");
static_assert(offsetof(golens_sample, user_stack) % 8 == 0, "stacks must be 8-byte aligned");

struct SamplerOptions {
  int hz = 99;
  bool kernel_stacks = true;
  bool goroutine_ids = true;
  size_t ringbuf_bytes = 0;  // 0 = sized from CPU count and rate (half a second of samples)
};

using Metrics = std::array<uint64_t, GOLENS_METRIC_COUNT>;
const char* MetricName(int metric);

class BpfSampler {
 public:
  using SampleCallback = std::function<void(const golens_sample&)>;

  // Opens, configures and loads the BPF object (no perf events yet).
  static Result<std::unique_ptr<BpfSampler>> Create(const SamplerOptions& options,
                                                    SampleCallback on_sample);
  ~BpfSampler();
  BpfSampler(const BpfSampler&) = delete;
  BpfSampler& operator=(const BpfSampler&) = delete;

  // Makes `tgid` a target (or updates its state).
  Result<void> SetTarget(pid_t tgid, const golens_proc_info& info);
  void RemoveTarget(pid_t tgid);
  // The map entry as BPF sees it now (PENDING_EXEC is cleared by BPF at exec).
  Result<golens_proc_info> GetTarget(pid_t tgid) const;

  // Opens and attaches one cpu-clock event per online CPU, and the exec hook.
  Result<void> Start();
  // Detaches every perf event: no new samples after this returns.
  void Stop();
  size_t cpu_count() const { return cpu_count_; }

  // Waits up to timeout_ms for data, then delivers everything pending.
  Result<void> Poll(int timeout_ms);
  // Delivers everything pending without waiting.
  Result<void> Drain();

  // Counters summed over CPUs.
  Metrics ReadMetrics() const;

 private:
  BpfSampler() = default;
  static int OnRecord(void* ctx, void* data, size_t size);

  SamplerOptions options_;
  SampleCallback on_sample_;
  struct golens_sampler* skel_ = nullptr;
  struct ring_buffer* ringbuf_ = nullptr;
  std::vector<struct bpf_link*> links_;
  size_t cpu_count_ = 0;
  uint64_t malformed_records_ = 0;
};

}  // namespace golens::profiler
