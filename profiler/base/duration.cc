#include "profiler/base/duration.h"

#include <cstdint>
#include <string_view>

namespace golens::profiler {
namespace {

constexpr int64_t kMaxNanos = 1'000'000'000'000'000'000;  // ~31.7 years

// Nanoseconds per unit; 0 for an unknown unit. Both micro signs are accepted
// (U+00B5 and U+03BC), as Go does.
int64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return 0;
}

Error Bad(const std::string& text, const std::string& why) {
  return MakeError("bad duration \"" + text + "\": " + why + " (examples: 30s, 1.5s, 300ms, 2m30s, 1h)",
                   ErrorKind::kInvalidArgument);
}

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(const std::string& text) {
  if (text.empty()) return MakeError("empty duration (examples: 30s, 1.5s, 300ms, 2m30s, 1h)", ErrorKind::kInvalidArgument);
  if (text[0] == '-') return Bad(text, "must be positive");
  std::string_view rest = text;
  if (rest[0] == '+') rest.remove_prefix(1);
  const bool bare = rest.find_first_not_of("0123456789.") == std::string_view::npos;
  // Go's grammar: one or more "[digits][.digits]unit" pieces.
  long double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    uint64_t whole = 0;
    bool digits = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (whole > (UINT64_MAX - 9) / 10) return Bad(text, "out of range");
      whole = whole * 10 + static_cast<uint64_t>(rest[i] - '0');
      digits = true;
      ++i;
    }
    long double fraction = 0, scale = 1;
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        if (scale < 1e30L) {
          fraction = fraction * 10 + (rest[i] - '0');
          scale *= 10;
        }
        digits = true;
        ++i;
      }
    }
    if (!digits) return Bad(text, "expected a number");
    size_t u = i;
    while (u < rest.size() && !(rest[u] >= '0' && rest[u] <= '9') && rest[u] != '.') ++u;
    std::string_view unit = rest.substr(i, u - i);
    int64_t per = unit.empty() && bare ? 1'000'000'000 : UnitNanos(unit);
    if (per == 0) {
      return Bad(text, unit.empty() ? "missing unit" : "unknown unit \"" + std::string(unit) + "\" (use ns, us, ms, s, m or h)");
    }
    total += static_cast<long double>(whole) * per + fraction / scale * per;
    if (total > kMaxNanos) return Bad(text, "out of range (1ns to ~31 years)");
    rest.remove_prefix(u);
  }
  // Below 1 ns a positive value would truncate to a zero duration.
  if (total < 1) return Bad(text, "must be at least 1ns");
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

}  // namespace golens::profiler
