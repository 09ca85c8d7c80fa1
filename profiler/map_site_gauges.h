// Go map statistics per (service, call site), accumulated by the agent for
// Prometheus: from the profiles it stores (sampled mode) the last map_len and
// load seen at a site and the CPU spent in map code called from it; from deep
// mode's probed lookups the distributions of probe count and bucket depth
// since the agent started (cumulative, as Prometheus histograms are).
// Bounded: at most 4 x max_sites sites are tracked, max_sites exported.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pprof/profile.h"
#include "profiler/map_probe_stats.h"

namespace golens::profiler {

// Per (service, map_site): what sampled map statistics said last, and the
// CPU samples spent in map code called from that site so far.
class MapSiteGauges {
 public:
  explicit MapSiteGauges(size_t max_sites = 100) : max_sites_(max_sites) {}
  // Folds in one stored profile's samples with a map_site label.
  void Add(const std::string& service, const pprof::Profile& profile);
  // Folds in one interval's probed lookups at a site (deep mode).
  void AddProbes(const std::string& service, const std::string& site, const MapProbeHistogram& lookups);

  struct Site {
    int64_t samples = 0;         // first sample type, summed
    int64_t cpu_ns = 0;          // second sample type (cpu), summed
    double len = -1;             // last map_len seen (-1: never labelled)
    double load_ratio = -1;      // last map_load_pct / 100
    MapProbeHistogram lookups;   // deep mode: every probed lookup so far
  };
  // The top `max_sites` sites by CPU (then by probed lookups), largest first.
  std::vector<std::pair<std::pair<std::string, std::string>, Site>> Top() const;
  size_t max_sites() const { return max_sites_; }

 private:
  size_t max_sites_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Site> sites_;  // (service, site)
};

}  // namespace golens::profiler
