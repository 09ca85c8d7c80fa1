#include "profiler/base/wall_time.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "profiler/base/duration.h"

namespace golens::profiler {
namespace {

Error Bad(const std::string& text) {
  return MakeError("bad time \"" + text +
                       "\": want Unix seconds (1764662400), RFC 3339 (2026-12-02T07:00:00Z) or now[-DURATION] (now-1h)",
                   ErrorKind::kInvalidArgument);
}

bool Digits(const std::string& s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[pos + i]))) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  *out = v;
  return true;
}

Result<int64_t> ParseRfc3339(const std::string& s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return Bad(s);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Bad(s);
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (scale > 0) nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return Bad(s);
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om)) {
      return Bad(s);
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return Bad(s);  // RFC 3339 needs a zone
  }
  if (pos != s.size()) return Bad(s);
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return seconds * 1000000000 + nanos;
}

}  // namespace

Result<int64_t> ParseWallTime(const std::string& text, int64_t now_ns) {
  if (text.empty()) return Bad(text);
  if (text == "now") return now_ns;
  if (text.starts_with("now-")) {
    auto d = ParseDuration(text.substr(4));
    if (!d.ok()) return Bad(text);
    return now_ns - d->count();
  }
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    if (!end || *end != '\0' || !std::isfinite(seconds) || seconds > 9.2e9) return Bad(text);
    return static_cast<int64_t>(std::llround(seconds * 1e9));
  }
  return ParseRfc3339(text);
}

}  // namespace golens::profiler
