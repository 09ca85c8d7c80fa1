#include "profiler/pyroscope_pusher.h"

#include <algorithm>

#include "profiler/base/log.h"
#include "profiler/base/percent_encode.h"
#include "profiler/retry_backoff.h"

namespace golens::profiler {
namespace {

// Label names: [a-zA-Z_][a-zA-Z0-9_]* (Prometheus rules, which Pyroscope follows).
std::string SanitizeLabelName(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  return out;
}

}  // namespace

std::string SanitizePushLabelValue(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    bool bad = c < 0x20 || c == 0x7f || c == ',' || c == '{' || c == '}' || c == '=' || c == '"' || c == '\'';
    out += bad ? '_' : static_cast<char>(c);
  }
  return out;
}

std::string PushSeriesName(const PushItem& item) {
  std::string name = SanitizePushLabelValue(item.service);
  std::replace(name.begin(), name.end(), ' ', '_');
  name += ".cpu{";
  std::map<std::string, std::string> labels;
  for (const auto& [k, v] : item.labels) {
    if (!v.empty()) labels[SanitizeLabelName(k)] = SanitizePushLabelValue(v);
  }
  labels["service_name"] = SanitizePushLabelValue(item.service);
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) name += ',';
    first = false;
    name += k + "=" + v;
  }
  return name + "}";
}

Result<std::unique_ptr<PyroscopePusher>> PyroscopePusher::Create(const PushOptions& options) {
  GOLENS_TRY(HttpEndpoint endpoint, ParseHttpEndpoint(options.url, "push URL"));
  std::unique_ptr<PyroscopePusher> pusher(new PyroscopePusher(options));
  pusher->endpoint_ = std::move(endpoint);
  pusher->thread_ = std::thread([p = pusher.get()] { p->Run(); });
  return pusher;
}

PyroscopePusher::PyroscopePusher(PushOptions options) : options_(std::move(options)) {}

PyroscopePusher::~PyroscopePusher() { Stop(std::chrono::milliseconds(0)); }

void PyroscopePusher::Enqueue(PushItem item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    while (queue_.size() >= std::max<size_t>(1, options_.max_queue)) {
      queue_.pop_front();
      ++stats_.dropped_full;
    }
    queue_.push_back(Queued{next_seq_++, 0, std::make_shared<const PushItem>(std::move(item))});
  }
  wake_.notify_all();
}

void PyroscopePusher::Stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + drain;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.dropped_at_stop += queue_.size();
  if (!queue_.empty()) {
    GOLENS_LOG(kWarn) << "push: " << queue_.size() << " profiles not sent to " << options_.url << " before stopping";
  }
  queue_.clear();
}

PushStats PyroscopePusher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PushStats s = stats_;
  s.queue_depth = queue_.size();
  return s;
}

int PyroscopePusher::Send(const PushItem& item, std::string* error) {
  std::string path = endpoint_.path_prefix + "/ingest?name=" + PercentEncode(PushSeriesName(item)) +
                     "&from=" + std::to_string(item.from_s) + "&until=" + std::to_string(item.until_s) +
                     "&format=pprof&spyName=golens&sampleRate=" + std::to_string(options_.hz);
  HttpPostResult result =
      HttpPost(endpoint_, path, options_.headers, item.pprof_gzip, "application/octet-stream", options_.timeout);
  *error = result.error;
  if (!result.reached) return 1;
  if (result.ok()) return 0;
  const int status = result.status;
  // Requests that can never succeed are not retried. Anything else is: 408,
  // 429 and 5xx, but also 422, which Pyroscope answers for a bad profile
  // and for a transient ring state alike ("at least 1 live replicas
  // required" while it shuts down or starts); Run gives up on one profile
  // after kMaxStatusAttempts such answers.
  if (status == 400 || status == 401 || status == 403 || status == 404 || status == 405 || status == 413 ||
      status == 415) {
    return 2;
  }
  return 3;
}

void PyroscopePusher::Run() {
  RetryBackoff backoff(options_.initial_backoff, options_.max_backoff);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    if (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_) return;
    Queued front = queue_.front();  // shared: Enqueue may drop it from the queue meanwhile
    const PushItem& item = *front.item;
    lock.unlock();
    std::string error;
    int outcome = Send(item, &error);
    lock.lock();
    if (outcome == 3) {
      // The server answered but not yet with success: retried, a few times.
      if (!queue_.empty() && queue_.front().seq == front.seq && ++queue_.front().status_attempts < kMaxStatusAttempts) {
        outcome = 1;
      } else {
        outcome = 2;
      }
    }
    if (outcome == 1) {
      ++stats_.failed_attempts;
      if (stats_.server_up) {
        GOLENS_LOG(kWarn) << "push: " << options_.url << " unreachable (" << error << "); retrying with backoff, "
                          << "keeping at most " << options_.max_queue << " profiles";
        stats_.server_up = false;
      }
      backoff.Wait(lock, wake_, stopping_);
      continue;
    }
    if (!stats_.server_up) {
      GOLENS_LOG(kInfo) << "push: " << options_.url << " reachable again; " << queue_.size() << " profiles queued";
      stats_.server_up = true;
    }
    backoff.Reset();
    if (outcome == 0) {
      ++stats_.sent;
    } else {
      ++stats_.rejected;
      GOLENS_LOG(kWarn) << "push: " << options_.url << " refused the profile of " << item.service << " (" << error
                        << "); dropped";
    }
    // Done with it, unless Enqueue already dropped it as the oldest.
    if (!queue_.empty() && queue_.front().seq == front.seq) queue_.pop_front();
  }
}

}  // namespace golens::profiler
