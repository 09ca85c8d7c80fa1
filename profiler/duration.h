// Command-line durations: "30s", "1.5m", "500ms", "2h", "10" (seconds).
#pragma once

#include <chrono>
#include <string>

#include "profiler/base/result.h"

namespace golens::profiler {

// Positive durations only; errors carry exit code 2 (usage).
Result<std::chrono::nanoseconds> ParseDuration(const std::string& text);

}  // namespace golens::profiler
