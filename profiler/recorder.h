// The recording core without BPF: takes the ring buffer's records (samples
// and process events) in order, keeps per-process state by (pid, start
// time), normalizes every user frame against the mappings in force when the
// sample is drained, restores frameless leaves' callers, collects the
// sample's attributes and aggregates into the current Interval.
// TakeInterval hands that interval out (to be symbolized elsewhere) and
// starts a new one.
//
// Thread-safe: the drain thread calls OnRecord while a client adds targets
// or takes intervals.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>

#include "profiler/attributes.h"
#include "profiler/base/result.h"
#include "profiler/binary_record.h"
#include "profiler/interval.h"
#include "profiler/native_unwind.h"
#include "profiler/process_source.h"
#include "profiler/process_state.h"
#include "profiler/spans.h"

namespace golens::profiler {

struct RecorderOptions {
  AttributeOptions attributes;
  // The depth at which the kernel cuts stacks: min(127, kernel.perf_event_max_stack).
  int max_frames = GOLENS_MAX_FRAMES;
  // A sample outside every known mapping re-reads /proc/PID/maps (a new
  // library), at most this often per process.
  std::chrono::milliseconds refresh_interval{100};
  // Keep every probed map lookup for TakeMapProbes (record --maps-out).
  bool keep_map_probes = false;
};

struct RecorderStats {
  uint64_t samples = 0;            // aggregated
  uint64_t unknown_process = 0;    // samples of no known (pid, start) (dropped)
  uint64_t malformed = 0;          // records that did not decode (dropped)
  uint64_t events = 0;             // process events handled
  uint64_t leaf_restored = 0;      // samples whose frameless leaf got its caller back
  uint64_t stacks_cut = 0;         // user stacks cut at a frame outside executable memory
  uint64_t native_unwound = 0;     // samples whose native snapshot was unwound
  uint64_t native_cut = 0;         // of those, stacks native unwinding could not take to their root
  uint64_t native_malformed = 0;   // snapshots that did not decode (the frame-pointer stack was kept)
  uint64_t maps_reads = 0;         // /proc/PID/maps reads
  uint64_t unreadable_programs = 0;// execs whose program could not be read (exited at once)
  uint64_t assumed_programs = 0;   // of those, mapped from the exec'd file instead
  uint64_t processes_seen = 0;
  AttributeCounts attributes;      // labels cut, dropped, malformed
  uint64_t spans = 0;              // finished requests seen
  uint64_t spans_dropped = 0;      // not kept: kMaxPendingSpans were waiting
  uint64_t map_samples = 0;        // samples in a map operation (with a map_site)
  uint64_t map_probes = 0;         // deep mode: probed lookups seen
  uint64_t map_probes_dropped = 0; // not kept: kMaxPendingSpans were waiting
  size_t processes_live = 0;
};

// What the session must do in BPF when the process set changes.
class RecorderListener {
 public:
  virtual ~RecorderListener() = default;
  // `process` runs a program golens has now looked at (attach or exec).
  virtual void OnProgram(const ProcessState& process) = 0;
  // A target is gone (exited, or detached).
  virtual void OnGone(const ProcessState& process) = 0;
  // A process that is not a target exec'd `filename` (only when BPF reports
  // every exec). Called with the recorder's lock held: queue, do not call back.
  virtual void OnUntrackedExec(pid_t /*pid*/, uint64_t /*start_ticks*/, const std::string& /*filename*/) {}
};

class Recorder {
 public:
  Recorder(RecorderOptions options, ProcessSource* source, BinaryRegistry* binaries,
           RecorderListener* listener = nullptr);

  // A running process: reads its program and mappings now.
  Result<std::shared_ptr<const ProcessState>> Attach(pid_t pid, bool follow_children);
  // A launched command that has not exec'd yet: its state is filled in at
  // the exec event.
  Result<void> ExpectExec(pid_t pid, bool follow_children);
  void Detach(pid_t pid);

  // One ring buffer record.
  void OnRecord(std::span<const uint8_t> record);

  // The samples since the last call, with the wall-clock end set.
  std::unique_ptr<Interval> TakeInterval(int64_t now_wall_ns);
  // The HTTP requests (spans) that finished since the last call.
  std::vector<FinishedSpan> TakeSpans();
  // Deep map mode: the lookups probed since the last call (kept only when
  // keep_map_probes is set, at most kMaxPendingSpans).
  std::vector<golens_map_probe> TakeMapProbes();
  // At most this many finished spans wait to be taken; more are counted.
  static constexpr size_t kMaxPendingSpans = 100000;

  // Processes whose exit was not seen but which are gone (a lost exit
  // event): marks them gone. Cheap enough for every few seconds.
  void CheckLiveness();

  size_t live_processes() const;
  // The processes alive now (a copy of the pointers, for a caller that must
  // revisit every target, e.g. to attach probes again).
  std::vector<std::shared_ptr<const ProcessState>> LiveProcesses() const;
  RecorderStats stats() const;

 private:
  void OnSample(std::span<const uint8_t> record);
  void OnEvent(const golens_proc_event& event);
  void OnMapProbe(const golens_map_probe& probe);
  std::shared_ptr<ProcessState> FindLocked(pid_t pid, uint64_t start_ticks);
  Result<void> ReadProgramLocked(ProcessState& process);
  // For a program that exited before /proc could be read: its file, mapped
  // where a non-PIE executable always is.
  Result<void> AssumeProgramLocked(ProcessState& process, const std::string& path);
  std::shared_ptr<const MappingRecord> NewMappingLocked(pid_t pid, const symbolizer::Mapping& m);
  void RefreshMappingsLocked(ProcessState& process);
  const std::shared_ptr<const MappingRecord>* FindMappingLocked(ProcessState& process, uint64_t address);
  // The user frame that called the map operation the sample is in (its
  // innermost Go frames are map code), or -1.
  int MapSiteFrameLocked(ProcessState& process, const std::vector<uint64_t>& user, bool kernel_mode);
  void RestoreLeafCallerLocked(ProcessState& process, const golens_sample& head, std::vector<uint64_t>& user);
  // Replaces `user` with the unwound native stack; false when the snapshot is unusable.
  bool UnwindNativeLocked(ProcessState& process, const SampleView& view, const SampleSection& section,
                          std::vector<uint64_t>& user, NativeCut* cut);
  void GoneLocked(std::shared_ptr<ProcessState> process);  // by value: it may be the map's own copy

  RecorderOptions options_;
  ProcessSource* source_;
  BinaryRegistry* binaries_;
  RecorderListener* listener_;

  mutable std::mutex mu_;
  std::unordered_map<pid_t, std::shared_ptr<ProcessState>> processes_;
  std::unique_ptr<Interval> interval_;
  std::optional<ProcessIdentity> first_target_;  // its executable is mapping[0]
  RecorderStats stats_;
  AttributeSet scratch_attributes_;
  NativeUnwinder native_;
  std::vector<FinishedSpan> spans_;
  std::vector<golens_map_probe> map_probes_;
};

// now, in ns since the epoch.
int64_t WallClockNanos();

}  // namespace golens::profiler
