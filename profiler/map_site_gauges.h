// Sampled Go map statistics per (service, call site), accumulated by the
// agent from the profiles it stores, for Prometheus gauges: the last map_len
// and load seen at a site and the CPU spent in map code called from it.
// Bounded: at most 4 x max_sites sites are tracked, max_sites exported.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pprof/profile.h"

namespace golens::profiler {

// Per (service, map_site): what sampled map statistics said last, and the
// CPU samples spent in map code called from that site so far.
class MapSiteGauges {
 public:
  explicit MapSiteGauges(size_t max_sites = 100) : max_sites_(max_sites) {}
  // Folds in one stored profile's samples with a map_site label.
  void Add(const std::string& service, const pprof::Profile& profile);

  struct Site {
    int64_t samples = 0;         // first sample type, summed
    int64_t cpu_ns = 0;          // second sample type (cpu), summed
    double len = -1;             // last map_len seen (-1: never labelled)
    double load_ratio = -1;      // last map_load_pct / 100
  };
  // The top `max_sites` sites by CPU, largest first.
  std::vector<std::pair<std::pair<std::string, std::string>, Site>> Top() const;
  size_t max_sites() const { return max_sites_; }

 private:
  size_t max_sites_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Site> sites_;  // (service, site)
};

}  // namespace golens::profiler
