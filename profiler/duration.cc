#include "profiler/duration.h"

#include <cmath>

namespace golens::profiler {

Result<std::chrono::nanoseconds> ParseDuration(const std::string& text) {
  if (text.empty()) return MakeError("empty duration", 2);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return MakeError("bad duration \"" + text + "\" (examples: 30s, 500ms, 2m)", 2);
  }
  std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "m") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return MakeError("bad duration unit in \"" + text + "\" (use ms, s, m or h)", 2);
  // Below 1 ns a positive value ("1e-54") would truncate to a zero duration.
  if (!(value > 0) || !std::isfinite(value) || value * scale > 1e18 || value * scale < 1) {
    return MakeError("duration out of range: " + text + " (1ns to ~31 years)", 2);
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(value * scale));
}

}  // namespace golens::profiler
