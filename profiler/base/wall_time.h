// Points in time on the command line and in the HTTP API: Unix seconds
// ("1764662400", "1764662400.5"), RFC 3339 ("2026-12-02T07:00:00Z",
// "2026-12-02T08:00:00.25+01:00"), or relative to now ("now", "now-1h",
// "now-90s", Go duration syntax).
#pragma once

#include <cstdint>
#include <string>

#include "profiler/base/result.h"

namespace golens::profiler {

// Unix nanoseconds; kInvalidArgument saying what is accepted otherwise.
Result<int64_t> ParseWallTime(const std::string& text, int64_t now_ns);

}  // namespace golens::profiler
