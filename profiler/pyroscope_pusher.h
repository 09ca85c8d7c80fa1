// Sends each interval's profiles to a Grafana Pyroscope server (or anything
// that speaks its HTTP ingest API: Grafana Cloud Profiles, phlare) without
// ever blocking the agent: a bounded queue, one sender thread, retries with
// exponential backoff while the server is down. When the queue is full the
// oldest profile is dropped (the newest say more about now); every drop is
// counted, and the log says when the server goes down and comes back, not on
// every attempt.
//
// API: `POST {url}/ingest?name=SERVICE.cpu{labels}&from=S&until=S&format=pprof`
// with the gzip'd pprof as body. Chosen over Connect's PusherService/Push
// because it is the API every Pyroscope version (and Grafana Cloud) accepts,
// needs no protobuf schema of Pyroscope's, and keeps the profile's own
// sample labels as Pyroscope labels.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "profiler/base/result.h"
#include "profiler/http_post.h"

namespace golens::profiler {

struct PushOptions {
  std::string url;  // http(s)://host[:port][/prefix]
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization, X-Scope-OrgID
  size_t max_queue = 512;  // profiles waiting; older ones are dropped beyond it
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  int hz = 19;  // sampleRate query parameter
};

struct PushItem {
  std::string service;
  std::map<std::string, std::string> labels;  // series labels (service_name is added)
  int64_t from_s = 0;
  int64_t until_s = 0;
  std::string pprof_gzip;
};

struct PushStats {
  uint64_t sent = 0;
  uint64_t failed_attempts = 0;  // attempts that did not succeed (retried)
  uint64_t dropped_full = 0;     // oldest dropped: the queue was full
  uint64_t rejected = 0;         // refused by the server with a 4xx (not retried)
  uint64_t dropped_at_stop = 0;  // still queued when the agent stopped
  size_t queue_depth = 0;
  bool server_up = true;
};

// A label value as Pyroscope's series key syntax allows: characters that
// would end the key (",{}=" and quotes) or control bytes become '_'.
std::string SanitizePushLabelValue(const std::string& value);
// "service.cpu{k=v,...}" with keys sorted.
std::string PushSeriesName(const PushItem& item);

class PyroscopePusher {
 public:
  // kInvalidArgument for a URL that is not http(s)://host[:port][/path].
  static Result<std::unique_ptr<PyroscopePusher>> Create(const PushOptions& options);
  ~PyroscopePusher();  // Stop(0)
  PyroscopePusher(const PyroscopePusher&) = delete;
  PyroscopePusher& operator=(const PyroscopePusher&) = delete;

  // Never blocks on the network.
  void Enqueue(PushItem item);
  // Tries to send what is queued for up to `drain`, then stops the sender.
  void Stop(std::chrono::milliseconds drain);
  PushStats stats() const;

 private:
  explicit PyroscopePusher(PushOptions options);
  void Run();
  // 0 ok, 1 unreachable (retry later), 2 rejected for good, 3 answered
  // without success (retried a few times).
  int Send(const PushItem& item, std::string* error);

  PushOptions options_;
  HttpEndpoint endpoint_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  static constexpr int kMaxStatusAttempts = 5;  // answers other than success before a profile is dropped
  struct Queued {
    uint64_t seq;
    int status_attempts = 0;
    std::shared_ptr<const PushItem> item;
  };
  std::deque<Queued> queue_;
  uint64_t next_seq_ = 0;
  PushStats stats_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::thread thread_;
};

}  // namespace golens::profiler
