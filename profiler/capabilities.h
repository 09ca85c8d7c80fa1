// Checks, before any BPF work, that this process may load BPF programs and
// open system-wide perf events, so the user gets "missing CAP_BPF" instead
// of an EPERM deep inside libbpf.
#pragma once

#include "profiler/base/result.h"

namespace golens::profiler {

// OK when the effective set has CAP_SYS_ADMIN, or both CAP_BPF and
// CAP_PERFMON. Otherwise an Error (exit code 2) naming what is missing.
Result<void> CheckSamplingCapabilities();

}  // namespace golens::profiler
