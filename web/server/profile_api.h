// The HTTP API of `golens serve` as plain functions of (path, parameters):
// no sockets here (web/server/http_server.* serves it), so tests call it
// directly and through real HTTP alike. A stable contract (README "golens
// serve"):
//   GET /api/services                          services and their builds (deploys)
//   GET /api/profile?SELECTION                 merged pprof (gzip)
//   GET /api/flame?SELECTION                   flame graph SVG
//   GET /api/top?SELECTION[&limit=N]           per-function flat/cum JSON
//   GET /api/labels?SELECTION                  label keys and values offered for filters
//   GET /api/timeline?SELECTION&step=60        CPU per step with the build in force
//   GET /api/diff?service=S&base_build_id=A&build_id=B   (or base_from/base_to with from/to)
//        [&format=svg|pprof|json]              differential SVG, diff pprof, regression table
// SELECTION = service=S[&build_id=B][&from=T][&to=T][&tag=KEY=VALUE ...]; T is
// Unix seconds, RFC 3339 or now[-DURATION]. 400 with {"error": ...} for bad
// parameters, 404 for an unknown service, 413 when a selection holds more
// profiles than may be merged in time.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pprof/store/store.h"

namespace golens::web {

struct ApiRequest {
  std::string path;
  std::multimap<std::string, std::string> params;
};

struct ApiResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ApiOptions {
  int64_t max_profiles = 50000;          // per selection; more -> 413
  size_t cache_entries = 64;             // merged results kept while the store is unchanged
  size_t cache_bytes = 256u << 20;
  int flame_width = 1200;
};

class ProfileApi {
 public:
  ProfileApi(store::Store* store, ApiOptions options = {});
  ApiResponse Handle(const ApiRequest& request);

  struct CacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  CacheStats cache_stats() const;

 private:
  struct Cached {
    std::string key;
    ApiResponse response;
  };
  ApiResponse HandleUncached(const ApiRequest& request);
  std::string CacheKey(const ApiRequest& request, int64_t generation) const;

  store::Store* store_;
  ApiOptions options_;
  mutable std::mutex cache_mu_;
  std::list<Cached> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Cached>::iterator> index_;
  size_t cache_used_ = 0;
  CacheStats cache_stats_;
};

}  // namespace golens::web
