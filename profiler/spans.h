// Zero-code HTTP spans as golens reports them: the ids (W3C trace context),
// method and path of one request a Go program served with net/http, from
// the span BPF kept for the serving goroutine (bpf/abi.h golens_span).
#pragma once

#include <cstdint>
#include <string>

#include "bpf/abi.h"

namespace golens::profiler {

struct SpanIds {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // 16 lowercase hex from traceparent, or ""
};

// The request's trace id (from a valid traceparent header, else the fresh
// random one BPF made), its fresh span id and the parent from the header.
SpanIds DecodeSpanIds(const golens_span& span);
std::string SpanMethod(const golens_span& span);
std::string SpanPath(const golens_span& span);  // cut paths end with "…[cut]"

struct FinishedSpan {
  SpanIds ids;
  std::string method;
  std::string path;
  uint32_t tgid = 0;
  uint64_t goid = 0;
  uint64_t start_ktime_ns = 0;  // CLOCK_MONOTONIC (bpf_ktime_get_ns)
  uint64_t end_ktime_ns = 0;
  uint64_t cpu_samples = 0;
};

FinishedSpan MakeFinishedSpan(const golens_span_end& end);

// What to add to CLOCK_MONOTONIC (BPF's clock) for Unix time, now.
int64_t MonotonicToUnixNs();

// One line of --spans-out (JSON, no newline). `monotonic_to_unix_ns` is
// added to the BPF clock to get Unix time.
std::string SpanJson(const FinishedSpan& span, int64_t monotonic_to_unix_ns);

}  // namespace golens::profiler
