// One Interval -> a pprof CPU profile shaped like Go's own: sample types
// samples/count and cpu/nanoseconds, period 1e9/hz, mapping[0] = the first
// process's executable, locations at the call instruction (return address -
// 1) for non-leaf frames, inline chains innermost first, kernel frames in a
// [kernel] mapping, labels from the samples' attribute sets. Symbolizes
// here, per interval, through a FrameCache: never on the drain thread.
//
// No "pid" label: per-process labels keep samples from cancelling in diffs
// across deploys (see pprof-and-flamegraphs.md 2.3). Each process has its own
// mappings and a comment line:
//   golens record: pid <PID> start <TICKS> exe <PATH>[ go <VERSION>] samples <N>
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/frame_cache.h"
#include "profiler/interval.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

struct CpuProfileOptions {
  int hz = 99;
  const symbolizer::Kallsyms* kallsyms = nullptr;  // null: kernel frames unsymbolized
  FrameCache* frames = nullptr;                    // null: a cache for this call only
  std::string comment_prefix = "golens record";
  // Only the samples of this process (IntervalProcess::key): the agent
  // stores one profile per process. Unset: all processes in one profile.
  std::optional<uint32_t> only_process;
};

inline constexpr const char* kTruncatedFrame = "[truncated]";

// The comment line that names one process (the format above).
std::string ProcessComment(const std::string& prefix, const IntervalProcess& process);

pprof::Profile BuildCpuProfile(const Interval& interval, const CpuProfileOptions& options);

}  // namespace golens::profiler
