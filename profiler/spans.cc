#include "profiler/spans.h"

#include <time.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "profiler/attributes.h"

namespace golens::profiler {
namespace {

std::string Hex(const uint8_t* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

bool LowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

int64_t MonotonicToUnixNs() {
  timespec mono{}, real{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  return (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
}

SpanIds DecodeSpanIds(const golens_span& span) {
  SpanIds ids;
  uint8_t span_id[8];
  std::memcpy(span_id, &span.span_id, 8);
  ids.span_id = Hex(span_id, 8);
  // "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>" (W3C Trace
  // Context, version 00); anything else is ignored as the spec says.
  if (span.flags & GOLENS_SPAN_HAS_TRACEPARENT) {
    std::string_view tp(span.traceparent, strnlen(span.traceparent, sizeof(span.traceparent)));
    if (tp.size() == 55 && tp.substr(0, 3) == "00-" && tp[35] == '-' && tp[52] == '-') {
      std::string_view trace = tp.substr(3, 32), parent = tp.substr(36, 16);
      if (LowerHex(trace) && LowerHex(parent) && !AllZero(trace) && !AllZero(parent)) {
        ids.trace_id = trace;
        ids.parent_span_id = parent;
      }
    }
  }
  if (ids.trace_id.empty()) ids.trace_id = Hex(span.trace_id, sizeof(span.trace_id));
  return ids;
}

std::string SpanMethod(const golens_span& span) {
  return std::string(span.method, std::min<size_t>(span.method_len, sizeof(span.method)));
}

std::string SpanPath(const golens_span& span) {
  std::string path(span.path, std::min<size_t>(span.path_len, sizeof(span.path)));
  if (span.flags & GOLENS_SPAN_PATH_CUT) path += kCutMarker;
  return path;
}

FinishedSpan MakeFinishedSpan(const golens_span_end& end) {
  FinishedSpan f;
  f.ids = DecodeSpanIds(end.span);
  f.method = SpanMethod(end.span);
  f.path = SpanPath(end.span);
  f.tgid = end.tgid;
  f.goid = end.goid;
  f.start_ktime_ns = end.span.start_ns;
  f.end_ktime_ns = end.end_ns;
  f.cpu_samples = end.span.samples;
  return f;
}

std::string SpanJson(const FinishedSpan& span, int64_t monotonic_to_unix_ns) {
  nlohmann::ordered_json j;
  j["trace_id"] = span.ids.trace_id;
  j["span_id"] = span.ids.span_id;
  j["parent_span_id"] = span.ids.parent_span_id;
  j["method"] = span.method;
  j["path"] = span.path;
  j["pid"] = span.tgid;
  j["goroutine"] = span.goid;
  j["start_unix_nanos"] = static_cast<int64_t>(span.start_ktime_ns) + monotonic_to_unix_ns;
  j["duration_nanos"] = span.end_ktime_ns >= span.start_ktime_ns ? span.end_ktime_ns - span.start_ktime_ns : 0;
  j["cpu_samples"] = span.cpu_samples;
  // Paths come from the network: never let invalid UTF-8 stop the line.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace golens::profiler
