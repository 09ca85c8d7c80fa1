#include "profiler/otlp_exporter.h"

#include <algorithm>

#include "profiler/base/log.h"
#include "profiler/otlp_trace.pb.h"
#include "profiler/retry_backoff.h"

namespace golens::profiler {

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(const OtlpOptions& options) {
  GOLENS_TRY(HttpEndpoint endpoint, ParseHttpEndpoint(options.endpoint, "OTLP endpoint"));
  if (options.max_queue == 0 || options.max_batch == 0) {
    return MakeError("OTLP exporter: queue and batch sizes must be positive", ErrorKind::kInvalidArgument);
  }
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(options));
  // As OTEL_EXPORTER_OTLP_ENDPOINT: the base URL, signal path appended.
  exporter->path_ = endpoint.path_prefix + "/v1/traces";
  exporter->traces_url_ = endpoint.scheme_host_port + exporter->path_;
  exporter->endpoint_ = std::move(endpoint);
  exporter->thread_ = std::thread([e = exporter.get()] { e->Run(); });
  return exporter;
}

OtlpExporter::OtlpExporter(OtlpOptions options) : options_(std::move(options)) {}

OtlpExporter::~OtlpExporter() { Stop(std::chrono::milliseconds(0)); }

void OtlpExporter::Enqueue(std::vector<ExportSpan> spans) {
  if (spans.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    for (ExportSpan& span : spans) {
      if (queue_.size() >= options_.max_queue) {
        queue_.pop_front();
        ++stats_.dropped_full;
      }
      queue_.push_back(std::move(span));
    }
  }
  wake_.notify_all();
}

void OtlpExporter::Stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + drain;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t left = queue_.size() + in_flight_;
  stats_.dropped_at_stop += left;
  if (left) {
    GOLENS_LOG(kWarn) << "otlp: " << left << " spans not sent to " << traces_url_ << " before stopping";
  }
  queue_.clear();
  in_flight_ = 0;
}

OtlpStats OtlpExporter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  OtlpStats s = stats_;
  s.queue_depth = queue_.size() + in_flight_;
  return s;
}

OtlpExporter::Outcome OtlpExporter::Post(const std::string& body, int64_t* rejected, std::string* error) {
  HttpPostResult result =
      HttpPost(endpoint_, path_, options_.headers, body, "application/x-protobuf", options_.timeout);
  *error = result.error;
  if (!result.reached) return Outcome::kUnreachable;
  if (result.ok()) {
    // The answer is an ExportTraceServiceResponse; a partial success names
    // how many spans were refused. An empty or unparsable body is a full success.
    otlp::ExportTraceServiceResponse response;
    if (!result.body.empty() && response.ParseFromString(result.body) && response.has_partial_success()) {
      *rejected = std::max<int64_t>(0, response.partial_success().rejected_spans());
      *error = response.partial_success().error_message();
    }
    return Outcome::kOk;
  }
  const int status = result.status;
  // The OTLP spec's retryable codes (429, 502, 503, 504), plus 408 and other 5xx.
  if (status == 408 || status == 429 || status >= 500) return Outcome::kRetry;
  return Outcome::kRejected;
}

void OtlpExporter::Run() {
  RetryBackoff backoff(options_.initial_backoff, options_.max_backoff);
  std::string body;  // the encoded batch in flight (in_flight_ spans), kept across retries
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (in_flight_ == 0) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      if (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_) return;
      std::vector<ExportSpan> batch;
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = n;
      lock.unlock();
      EncodedTraces encoded = EncodeOtlpTraces(batch);  // off the lock: Enqueue never waits for it
      lock.lock();
      stats_.invalid_spans += encoded.invalid;
      in_flight_ = encoded.spans;
      if (encoded.spans == 0) continue;
      body = std::move(encoded.body);
    } else if (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_) {
      return;  // Stop counts the batch in flight as dropped
    }
    lock.unlock();
    int64_t rejected = 0;
    std::string error;
    Outcome outcome = Post(body, &rejected, &error);
    lock.lock();
    if (outcome == Outcome::kUnreachable || outcome == Outcome::kRetry) {
      ++(outcome == Outcome::kUnreachable ? stats_.failed_unreachable : stats_.failed_retryable);
      if (stats_.receiver_up) {
        GOLENS_LOG(kWarn) << "otlp: " << traces_url_ << " " << (outcome == Outcome::kUnreachable ? "unreachable" : "busy")
                          << " (" << error << "); retrying with backoff, keeping at most " << options_.max_queue
                          << " spans";
        stats_.receiver_up = false;
      }
      backoff.Wait(lock, wake_, stopping_);
      continue;
    }
    if (!stats_.receiver_up) {
      GOLENS_LOG(kInfo) << "otlp: " << traces_url_ << " reachable again; " << queue_.size() << " spans queued";
      stats_.receiver_up = true;
    }
    backoff.Reset();
    if (outcome == Outcome::kOk) {
      uint64_t refused = std::min<uint64_t>(static_cast<uint64_t>(rejected), in_flight_);
      ++stats_.requests;
      stats_.exported += in_flight_ - refused;
      stats_.rejected_spans += refused;
      if (refused) {
        GOLENS_LOG(kWarn) << "otlp: " << traces_url_ << " refused " << refused << " of " << in_flight_
                          << " spans" << (error.empty() ? "" : " (" + error + ")");
      }
    } else {
      ++stats_.failed_rejected;
      stats_.rejected_spans += in_flight_;
      GOLENS_LOG(kWarn) << "otlp: " << traces_url_ << " refused " << in_flight_ << " spans (" << error
                        << "); dropped";
    }
    in_flight_ = 0;
    body.clear();
  }
}

}  // namespace golens::profiler
