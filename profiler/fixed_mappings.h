// Where a non-PIE executable's code sits without asking /proc: an ET_EXEC
// ELF file is always mapped at its link addresses. Used for programs that
// exit before golens can read their /proc/PID/maps (short tool runs in a
// build); Go builds non-PIE executables by default on linux/amd64.
#pragma once

#include <string>
#include <vector>

#include "profiler/base/result.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

// The executable PT_LOAD segments of `path` as the mappings the kernel would
// create; kUnsupported for position-independent files (their base is chosen
// at exec time).
Result<std::vector<symbolizer::Mapping>> FixedAddressMappings(const std::string& path);

}  // namespace golens::profiler
