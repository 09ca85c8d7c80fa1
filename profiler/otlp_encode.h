// Finished HTTP spans as an OTLP ExportTraceServiceRequest (protobuf), the
// body golens posts to a receiver's /v1/traces. One ResourceSpans per
// process (service.name, host.name, process.pid); each span keeps the ids
// golens recorded (the client's trace id and parent from traceparent), is a
// SERVER span named "METHOD PATH" (no route templates are known: the raw
// path is what golens has), and carries its CPU sample count and the
// `golens serve` query that opens its CPU profile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/spans.h"

namespace golens::profiler {

struct ExportSpan {
  FinishedSpan span;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  std::string service;  // of the process that served the request
  std::string host;
};

// `span` with its monotonic times moved to Unix time.
ExportSpan MakeExportSpan(const FinishedSpan& span, int64_t monotonic_to_unix_ns, std::string service,
                          std::string host);

// The /api/flame query of `golens serve` for the span's samples: its
// service, the span_id label and the whole seconds around the request (the
// store selects the intervals that overlap them).
std::string SpanProfileQuery(const std::string& service, const std::string& span_id, int64_t start_unix_ns,
                             int64_t end_unix_ns);

struct EncodedTraces {
  std::string body;    // serialized ExportTraceServiceRequest
  size_t spans = 0;    // spans in it
  size_t invalid = 0;  // left out: ids that are not hex of the right length
};

EncodedTraces EncodeOtlpTraces(const std::vector<ExportSpan>& spans);

}  // namespace golens::profiler
