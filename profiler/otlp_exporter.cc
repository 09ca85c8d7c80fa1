#include "profiler/otlp_exporter.h"

#include <httplib.h>

#include <algorithm>

#include "profiler/base/log.h"
#include "profiler/otlp_trace.pb.h"

namespace golens::profiler {

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(const OtlpOptions& options) {
  const std::string& url = options.endpoint;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return MakeError("OTLP endpoint " + url + ": want http://host:port", ErrorKind::kInvalidArgument);
  }
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return MakeError("OTLP endpoint " + url + ": only http and https are supported (OTLP/HTTP)",
                     ErrorKind::kInvalidArgument);
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string host_port = url.substr(scheme_end + 3, path_start == std::string::npos ? std::string::npos
                                                                                       : path_start - scheme_end - 3);
  if (host_port.empty()) return MakeError("OTLP endpoint " + url + ": no host", ErrorKind::kInvalidArgument);
  if (options.max_queue == 0 || options.max_batch == 0) {
    return MakeError("OTLP exporter: queue and batch sizes must be positive", ErrorKind::kInvalidArgument);
  }
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(options));
  exporter->scheme_host_port_ = scheme + "://" + host_port;
  std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  // As OTEL_EXPORTER_OTLP_ENDPOINT: the base URL, signal path appended.
  exporter->path_ = prefix + "/v1/traces";
  exporter->traces_url_ = exporter->scheme_host_port_ + exporter->path_;
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
  httplib::Client client(scheme_host_port_);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count();
  client.set_connection_timeout(std::max<time_t>(1, seconds));
  client.set_read_timeout(std::max<time_t>(1, seconds));
  client.set_write_timeout(std::max<time_t>(1, seconds));
  httplib::Headers headers;
  for (const auto& [k, v] : options_.headers) headers.emplace(k, v);
  auto result = client.Post(path_, headers, body, "application/x-protobuf");
  if (!result) {
    *error = httplib::to_string(result.error());
    return Outcome::kUnreachable;
  }
  int status = result->status;
  if (status >= 200 && status < 300) {
    // The answer is an ExportTraceServiceResponse; a partial success names
    // how many spans were refused. An empty or unparsable body is a full success.
    otlp::ExportTraceServiceResponse response;
    if (!result->body.empty() && response.ParseFromString(result->body) && response.has_partial_success()) {
      *rejected = std::max<int64_t>(0, response.partial_success().rejected_spans());
      *error = response.partial_success().error_message();
    }
    return Outcome::kOk;
  }
  std::string text = result->body.substr(0, 200);
  *error = "HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
  // The OTLP spec's retryable codes (429, 502, 503, 504), plus 408 and other 5xx.
  if (status == 408 || status == 429 || status >= 500) return Outcome::kRetry;
  return Outcome::kRejected;
}

void OtlpExporter::Run() {
  auto backoff = options_.initial_backoff;
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
      // While stopping, retry every 100 ms until the drain deadline instead
      // of sleeping through it; a stop request ends a backoff wait at once.
      const bool was_stopping = stopping_;
      auto until = std::chrono::steady_clock::now() + (was_stopping ? std::chrono::milliseconds(100) : backoff);
      wake_.wait_until(lock, until, [&] { return stopping_ != was_stopping; });
      backoff = std::min(options_.max_backoff, backoff * 2);
      continue;
    }
    if (!stats_.receiver_up) {
      GOLENS_LOG(kInfo) << "otlp: " << traces_url_ << " reachable again; " << queue_.size() << " spans queued";
      stats_.receiver_up = true;
    }
    backoff = options_.initial_backoff;
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
