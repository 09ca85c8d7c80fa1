// Command-line durations in Go's syntax (time.ParseDuration): "30s", "1.5s",
// "300ms", "2m30s", "1h1m", "1us" / "1µs", "10ns"; a bare number ("10",
// "1.5") means seconds.
#pragma once

#include <chrono>
#include <string>

#include "profiler/base/result.h"

namespace golens::profiler {

// Positive durations from 1ns to ~31 years; anything else (negative, zero,
// exponents, unknown units, spaces) is a kInvalidArgument error that says
// what is accepted.
Result<std::chrono::nanoseconds> ParseDuration(const std::string& text);

}  // namespace golens::profiler
