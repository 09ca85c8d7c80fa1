// Sends finished HTTP spans to an OpenTelemetry receiver over OTLP/HTTP
// (protobuf, POST {endpoint}/v1/traces) without ever blocking the agent,
// with the properties of the Pyroscope pusher: a bounded queue (of spans;
// the oldest are dropped when it is full, counted), one sender thread that
// encodes and posts batches, retries with exponential backoff while the
// receiver is down or overloaded, and log lines when it goes down and comes
// back rather than on every attempt. Spans the receiver refuses for good
// (4xx other than 408/429, or rejected_spans of a partial success) are
// counted and not retried, as the OTLP spec asks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "profiler/base/result.h"
#include "profiler/http_post.h"
#include "profiler/otlp_encode.h"

namespace golens::profiler {

struct OtlpOptions {
  std::string endpoint;  // http(s)://host[:port][/prefix]; spans go to {endpoint}/v1/traces
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  size_t max_queue = 65536;  // spans waiting; older ones are dropped beyond it
  size_t max_batch = 512;    // spans per request (~250 KB)
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
};

struct OtlpStats {
  uint64_t exported = 0;             // spans the receiver accepted
  uint64_t requests = 0;             // requests answered 2xx
  uint64_t failed_unreachable = 0;   // attempts with no answer: connection refused, timeout (retried)
  uint64_t failed_retryable = 0;     // attempts answered 408, 429 or 5xx (retried)
  uint64_t failed_rejected = 0;      // requests refused for good (4xx): their spans are dropped
  uint64_t rejected_spans = 0;       // spans refused for good (4xx or partial success)
  uint64_t invalid_spans = 0;        // not encodable (malformed ids)
  uint64_t dropped_full = 0;         // oldest spans dropped: the queue was full
  uint64_t dropped_at_stop = 0;      // still queued when the agent stopped
  size_t queue_depth = 0;
  bool receiver_up = true;
};

class OtlpExporter {
 public:
  // kInvalidArgument for an endpoint that is not http(s)://host[:port][/path].
  static Result<std::unique_ptr<OtlpExporter>> Create(const OtlpOptions& options);
  ~OtlpExporter();  // Stop(0)
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Never blocks on the network.
  void Enqueue(std::vector<ExportSpan> spans);
  // Tries to send what is queued for up to `drain`, then stops the sender.
  void Stop(std::chrono::milliseconds drain);
  OtlpStats stats() const;
  const std::string& traces_url() const { return traces_url_; }

 private:
  explicit OtlpExporter(OtlpOptions options);
  void Run();
  enum class Outcome { kOk, kUnreachable, kRetry, kRejected };
  // Posts one encoded request; on kOk, *rejected holds the partial success's count.
  Outcome Post(const std::string& body, int64_t* rejected, std::string* error);

  OtlpOptions options_;
  HttpEndpoint endpoint_;
  std::string path_;  // prefix + /v1/traces
  std::string traces_url_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<ExportSpan> queue_;
  size_t in_flight_ = 0;  // spans taken from queue_ by the sender, not yet answered
  OtlpStats stats_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::thread thread_;
};

}  // namespace golens::profiler
