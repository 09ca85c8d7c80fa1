// A recording session with a lifecycle: add and remove targets at any time,
// Start, take a Snapshot (the profile of what was collected since the last
// one) as often as wanted, Stop. `golens record` takes one snapshot at the
// end; the agent takes one per interval. No flags, signals, output files or
// exit codes here: the commands own those.
//
// Threads: Start() runs a drain thread that only decodes, normalizes and
// aggregates ring buffer records (profiler/recorder.h). Symbolization runs in
// TakeSnapshot, on the caller's thread, so a slow symbolization never lets
// the ring buffer overflow.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"
#include "profiler/binary_record.h"
#include "profiler/bpf_sampler.h"
#include "profiler/cpu_profile.h"
#include "profiler/frame_cache.h"
#include "profiler/map_site_probes.h"
#include "profiler/map_tables.h"
#include "profiler/native_target.h"
#include "profiler/process_source.h"
#include "profiler/recorder.h"

namespace golens::profiler {

struct SessionOptions {
  int hz = 99;
  bool kernel_stacks = true;
  AttributeOptions attributes;
  size_t ringbuf_bytes = 0;  // 0 = sized from CPU count and rate
  std::chrono::milliseconds poll_interval{25};  // also how long Stop() may wait for the drain thread
  // A backstop for lost exit events: how often processes are checked in /proc.
  std::chrono::seconds liveness_interval{5};
  size_t frame_cache_entries = FrameCache::kDefaultMaxEntries;
  std::string comment_prefix = "golens record";
  // Key targets by the pids golens sees when it runs in a PID namespace of
  // its own (containers). Off only to debug (the targets are then missed).
  bool translate_pid_namespace = true;
  // Zero-code HTTP spans: uprobes on net/http's handler dispatch of every
  // target binary that has it; samples then carry the request's span
  // (attributes.spans decides whether it becomes labels).
  bool spans = false;
  // BPF reports execs of processes that are not targets (the agent's
  // discovery; see SetUntrackedExecCallback).
  bool report_all_execs = false;
  // Go map statistics (profiler/map_tables.h): kSampled reads the header of
  // the map a sample is operating on; kOff leaves map code alone.
  struct Maps {
    MapsMode mode = MapsMode::kSampled;
    MapProbeCycle deep;  // kDeep: how long the lookup probes stay in, per period
    bool keep_probes = false;  // kDeep: keep every probed lookup for TakeMapProbes
  } maps;
  // Native and cgo stacks: snapshot samples outside Go code, unwind them with CFI.
  NativeOptions native;
};

struct TargetOptions {
  bool follow_children = false;  // processes it forks become targets too
};

struct Snapshot {
  pprof::Profile profile;
  std::vector<IntervalProcess> processes;  // the processes with samples in it
  uint64_t samples = 0;
};

// One process's share of an interval (the agent stores one per process).
struct ProcessSnapshot {
  IntervalProcess process;
  pprof::Profile profile;  // empty when the process only had probed map lookups
  std::vector<MapSiteProbes> map_sites;  // deep map mode: its lookups by call site
};

struct SessionStats {
  RecorderStats recorder;
  Metrics bpf{};
  FrameCache::Stats frames;
  size_t binaries_live = 0;
  bool tracks_munmap = false;
  // Samples taken but not in any profile: the ring buffer was full, a
  // sampler stage failed, or the recorder could not use the record.
  uint64_t lost() const {
    return bpf[GOLENS_METRIC_RINGBUF_FULL] + bpf[GOLENS_METRIC_STAGE_ERROR] + recorder.malformed +
           recorder.unknown_process;
  }
};

class Session : private RecorderListener {
 public:
  static Result<std::unique_ptr<Session>> Create(const SessionOptions& options);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A running process (kNotFound when it is gone, kPermissionDenied when
  // its program cannot be read).
  Result<std::shared_ptr<const ProcessState>> AddTarget(pid_t pid, const TargetOptions& options);
  // A forked child that has not exec'd `executable` yet (record -- CMD):
  // sampled from its first instruction after exec.
  Result<void> AddLaunchedTarget(pid_t pid, const std::string& executable, const TargetOptions& options);
  void RemoveTarget(pid_t pid);

  // Called (on the drain thread) whenever golens looks at a target's program:
  // at attach and after each exec. For messages; must not call back.
  void SetProgramCallback(std::function<void(const ProcessState&)> callback);
  // Called (on the drain thread) when a target is gone: exited, or detached.
  void SetGoneCallback(std::function<void(const ProcessState&)> callback);
  // Called (on the drain thread, with recorder state locked: queue the pid,
  // do not call back) when a process that is not a target execs a program.
  // Needs SessionOptions::report_all_execs.
  using ExecCallback = std::function<void(pid_t pid, uint64_t start_ticks, const std::string& filename)>;
  void SetUntrackedExecCallback(ExecCallback callback);

  Result<void> Start();
  // No new samples after this; what BPF already wrote is drained.
  void Stop();
  // The profile of everything since the previous snapshot (or the start).
  Snapshot TakeSnapshot();
  // The same interval split by process (and by program, after an exec): one
  // profile each, in the order the processes were first sampled.
  std::vector<ProcessSnapshot> TakeProcessSnapshots();
  // The HTTP requests that finished since the last call (with spans on).
  std::vector<FinishedSpan> TakeSpans() { return recorder_->TakeSpans(); }
  // Deep map mode: the lookups probed since the last call (maps.keep_probes).
  std::vector<golens_map_probe> TakeMapProbes() { return recorder_->TakeMapProbes(); }

  size_t live_targets() const { return recorder_->live_processes(); }
  SessionStats stats() const;

  // Run-time knobs for an overhead budget (the agent's --max-overhead).
  // The sampling rate of the running session: profiles taken after the call
  // weigh samples with the new period (call it right after a snapshot).
  Result<void> SetHz(int hz);
  int hz() const;
  // Span probes off (detached: no uprobe cost) or on again (attached to the
  // live targets' programs again). Only with SessionOptions::spans.
  void SetSpansActive(bool active);
  bool spans_active() const { return spans_active_.load(); }
  // Deep map mode's lookup probes paused (no uprobe cost; samples keep their
  // sampled map statistics) or cycling again. Only with MapsMode::kDeep.
  void SetMapProbesActive(bool active);
  bool map_probes_active() const;
  // The in-kernel cost: nanoseconds the session's BPF programs ran since
  // EnableBpfRunTime (kernel BPF statistics; ~20 ns per program run).
  Result<void> EnableBpfRunTime() { return sampler_->EnableRunTimeStats(); }
  uint64_t BpfRunTimeNanos() const { return sampler_->RunTimeNanos(); }
  size_t cpu_count() const { return sampler_->cpu_count(); }

 private:
  explicit Session(const SessionOptions& options);
  void DrainLoop();
  void OnProgram(const ProcessState& process) override;
  void OnGone(const ProcessState& process) override;
  void OnUntrackedExec(pid_t pid, uint64_t start_ticks, const std::string& filename) override;
  CpuProfileOptions ProfileOptions();
  // The BPF map entry for a process running `binary` (null: unknown), with
  // span probes attached through `probe_path` when spans are on.
  golens_proc_info TargetInfo(const std::shared_ptr<BinaryRecord>& binary, bool follow_children,
                              const std::string& probe_path, const std::string& exe);
  // Span probes on a program (attached through `path`, named `exe` in
  // messages); false when it has none.
  bool EnsureHttpProbes(const std::shared_ptr<BinaryRecord>& binary, const std::string& path, const std::string& exe);

  struct HttpProbeSet {
    std::weak_ptr<BinaryRecord> binary;  // probes go when the binary is forgotten
    std::unique_ptr<BpfSampler::Probes> probes;
  };

  SessionOptions options_;
  ProcfsSource source_;
  BinaryRegistry binaries_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<BpfSampler> sampler_;
  std::unique_ptr<MapProbeCycler> map_cycler_;  // --maps deep only
  std::unique_ptr<MapTables> map_tables_;  // null with maps off
  std::unique_ptr<symbolizer::Kallsyms> kallsyms_;
  mutable std::mutex snapshot_mu_;  // the frame cache
  FrameCache frames_;
  std::function<void(const ProcessState&)> on_program_;
  std::function<void(const ProcessState&)> on_gone_;
  ExecCallback on_untracked_exec_;
  std::mutex probes_mu_;                          // guards http_probes_
  std::map<uint64_t, HttpProbeSet> http_probes_;  // by BinaryRecord::cache_key()
  // The programs of launched commands, kept from before their exec so that
  // their probes (attached then) are still there when the exec happens.
  std::vector<std::shared_ptr<BinaryRecord>> launched_programs_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> spans_active_{true};
  std::thread drain_thread_;
  bool started_ = false;
  int64_t stopped_wall_ns_ = 0;  // when sampling stopped; 0 while it runs
};

}  // namespace golens::profiler
