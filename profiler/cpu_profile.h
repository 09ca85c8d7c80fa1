// Aggregated raw stacks -> a pprof CPU profile shaped like Go's own:
// sample types samples/count and cpu/nanoseconds, period 1e9/hz, one
// mapping set per process (mapping[0] = the first target's executable),
// locations at the call instruction (return address - 1) for non-leaf
// frames, inline chains innermost first, kernel frames in a [kernel] mapping.
//
// Labels: like Go's profiler, none by default; "goroutine" (numeric) with
// --per-goroutine. No "pid" label even with several targets: per-process
// labels keep samples from cancelling in diffs across deploys (see
// pprof-and-flamegraphs.md 2.3); each process has its own mapping set and a
// comment naming it instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"
#include "profiler/sample_aggregator.h"
#include "profiler/target_process.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

struct CpuProfileInput {
  const SampleAggregator* samples = nullptr;
  std::vector<TargetProcess*> targets;            // targets[0] provides mapping[0]
  const symbolizer::Kallsyms* kallsyms = nullptr; // null: kernel frames unsymbolized
  int hz = 99;
  int64_t time_nanos = 0;      // start, ns since the epoch
  int64_t duration_nanos = 0;
  bool per_goroutine = false;  // numeric label "goroutine" on each sample
  std::vector<std::string> comments;
};

inline constexpr const char* kTruncatedFrame = "[truncated]";

Result<pprof::Profile> BuildCpuProfile(const CpuProfileInput& input);

}  // namespace golens::profiler
