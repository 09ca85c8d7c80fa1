// perf_event_open for the sampler: one software cpu-clock event per online
// CPU, system-wide (pid = -1), in frequency mode. The BPF program attached
// to them keeps only the target processes.
#pragma once

#include <vector>

#include "profiler/base/result.h"
#include "profiler/base/scoped_fd.h"

namespace golens::profiler {

// CPUs listed in /sys/devices/system/cpu/online ("0-3,6").
Result<std::vector<int>> OnlineCpus();
// Parses the kernel's CPU list syntax.
Result<std::vector<int>> ParseCpuList(const char* text);

struct CpuClockEvent {
  int cpu = -1;
  ScopedFd fd;
};

// Opens a disabled-until-attached cpu-clock event sampling at `hz` on each
// online CPU. Errors name the capability that is missing (EACCES/EPERM).
Result<std::vector<CpuClockEvent>> OpenCpuClockEvents(int hz);

}  // namespace golens::profiler
