// Loads the BPF programs (bpf/sampler.bpf.c): the sampler on a cpu-clock
// perf event on every online CPU, and the process tracker on the sched
// fork/exec/exit tracepoints and syscalls:sys_enter_munmap. Streams every
// ring buffer record (samples and process events, in order) to a callback.
// Owns every libbpf object and link (RAII); targets are added and removed at
// any time through the "targets" map.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <span>
#include <vector>

#include "bpf/abi.h"
#include "profiler/base/result.h"
#include "profiler/base/scoped_fd.h"

struct golens_sampler;
struct ring_buffer;
struct bpf_link;

namespace golens::profiler {


struct SamplerOptions {
  int hz = 99;
  bool kernel_stacks = true;
  bool goroutine_ids = true;
  bool labels = true;  // copy pprof labels into each sample
  bool spans = false;  // HTTP handler spans (uprobes attached per binary)
  bool maps = false;   // read the header of the Go map a sample is operating on
  size_t ringbuf_bytes = 0;  // 0 = sized from CPU count and rate (half a second of samples)
  // Inode of golens's PID namespace when it is not the initial one (0 = the
  // initial one): BPF then keys targets by the pids golens sees.
  uint32_t pid_namespace_inode = 0;
  // Report execs of non-targets too (GOLENS_PROC_EVENT_EXEC_UNTRACKED).
  bool report_all_execs = false;
  // User stack bytes a native stack snapshot copies (0 = no snapshots).
  uint32_t native_stack_bytes = 0;
};

// The inode of golens's own PID namespace, or 0 in the initial namespace.
uint32_t OwnPidNamespaceInode();

using Metrics = std::array<uint64_t, GOLENS_METRIC_COUNT>;
const char* MetricName(int metric);

class BpfSampler {
 public:
  // One record as BPF wrote it (8-byte aligned; valid during the call).
  using RecordCallback = std::function<void(std::span<const uint8_t>)>;

  // Opens, configures and loads the BPF object (no perf events yet).
  static Result<std::unique_ptr<BpfSampler>> Create(const SamplerOptions& options,
                                                    RecordCallback on_record);
  ~BpfSampler();
  BpfSampler(const BpfSampler&) = delete;
  BpfSampler& operator=(const BpfSampler&) = delete;

  // Makes `tgid` a target (or updates its state).
  Result<void> SetTarget(pid_t tgid, const golens_proc_info& info);
  void RemoveTarget(pid_t tgid);
  // Where Go code is in `tgid` (native stack snapshots; bpf/abi.h).
  Result<void> SetNativeProc(pid_t tgid, const golens_native_proc& proc);
  // The map entry as BPF sees it now (PENDING_EXEC is cleared by BPF at exec).
  Result<golens_proc_info> GetTarget(pid_t tgid) const;

  // Attaches the process tracker, then one cpu-clock event per online CPU.
  Result<void> Start();
  // Detaches every perf event: no new samples after this returns.
  void Stop();
  size_t cpu_count() const { return cpu_count_; }

  // Waits up to timeout_ms for data, then delivers everything pending.
  Result<void> Poll(int timeout_ms);
  // Delivers everything pending without waiting.
  Result<void> Drain();

  // The map-pointer PC table `id` (golens_proc_info.map_table) of a program.
  Result<void> SetMapTable(uint32_t id, const golens_map_pcs& table);
  void RemoveMapTable(uint32_t id);

  // Counters summed over CPUs.
  Metrics ReadMetrics() const;
  // The HTTP span probes on one binary (entry and RET sites of
  // net/http.serverHandler.ServeHTTP), for every process running it; they
  // stay while the returned object lives.
  class Probes {
   public:
    ~Probes();
    Probes(const Probes&) = delete;
    Probes& operator=(const Probes&) = delete;

   private:
    friend class BpfSampler;
    Probes() = default;
    std::vector<bpf_link*> links_;
    std::vector<ScopedFd> link_fds_;  // links made without libbpf (uprobe_multi)
  };
  Result<std::unique_ptr<Probes>> AttachHttpProbes(const std::string& binary_path, uint64_t entry_offset,
                                                   const std::vector<uint64_t>& return_offsets);

  // Deep map mode: probes at (file offset, key size) of one binary, for
  // every process running it; they stay while the returned object lives.
  Result<std::unique_ptr<Probes>> AttachMapProbes(const std::string& binary_path,
                                                  const std::vector<std::pair<uint64_t, uint32_t>>& sites);

  // Whether munmap is tracked (needs the syscalls tracepoint).
  bool tracks_munmap() const { return tracks_munmap_; }

  // Changes the sampling rate of the running cpu-clock events in place
  // (PERF_EVENT_IOC_PERIOD; in frequency mode the value is the rate).
  Result<void> SetFrequency(int hz);
  int frequency() const { return options_.hz; }
  // Turns on the kernel's BPF run-time statistics for as long as this
  // sampler lives (BPF_ENABLE_STATS; costs ~20 ns per program run).
  Result<void> EnableRunTimeStats();
  // Nanoseconds all of this object's BPF programs have run (needs the
  // statistics on; programs only count while they are on).
  uint64_t RunTimeNanos() const;

 private:
  BpfSampler() = default;
  static int OnRecord(void* ctx, void* data, size_t size);

  Result<void> AttachMunmap();

  struct SkeletonDeleter {
    void operator()(golens_sampler* skel) const;
  };
  struct RingBufferDeleter {
    void operator()(ring_buffer* rb) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };
  using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

  SamplerOptions options_;
  RecordCallback on_record_;
  // Members die in reverse order: links first, then the ring buffer, the object last.
  std::unique_ptr<golens_sampler, SkeletonDeleter> skel_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ringbuf_;
  std::vector<LinkPtr> tracker_links_;
  std::vector<LinkPtr> cpu_links_;
  std::vector<ScopedFd> cpu_event_fds_;  // dups of the perf events the links own, for ioctls
  ScopedFd stats_fd_;                    // BPF_ENABLE_STATS while open
  size_t cpu_count_ = 0;
  bool tracks_munmap_ = false;
};

}  // namespace golens::profiler
