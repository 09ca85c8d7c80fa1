#include "profiler/map_site_gauges.h"

#include <algorithm>

namespace golens::profiler {

void MapSiteGauges::Add(const std::string& service, const pprof::Profile& profile) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const pprof::Sample& sample : profile.samples) {
    const pprof::Label* site = nullptr;
    double len = -1, load = -1;
    for (const pprof::Label& l : sample.labels) {
      if (l.key == "map_site" && !l.str.empty()) site = &l;
      else if (l.key == "map_len" && l.str.empty()) len = static_cast<double>(l.num);
      else if (l.key == "map_load_pct" && l.str.empty()) load = static_cast<double>(l.num) / 100.0;
    }
    if (!site) continue;
    auto key = std::make_pair(service, site->str);
    if (sites_.size() >= 4 * max_sites_ && !sites_.count(key)) continue;  // bounded memory, not only output
    Site& s = sites_[key];
    if (!sample.values.empty()) s.samples += sample.values[0];
    if (sample.values.size() > 1) s.cpu_ns += sample.values[1];
    if (len >= 0) s.len = len;
    if (load >= 0) s.load_ratio = load;
  }
}

void MapSiteGauges::AddProbes(const std::string& service, const std::string& site, const MapProbeHistogram& lookups) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(service, site);
  if (sites_.size() >= 4 * max_sites_ && !sites_.count(key)) return;
  sites_[key].lookups.Merge(lookups);
}

std::vector<std::pair<std::pair<std::string, std::string>, MapSiteGauges::Site>> MapSiteGauges::Top() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Rank iterators, copy only the winners: sites carry histograms, and up
  // to 4 x max_sites are tracked.
  using Entry = decltype(sites_)::const_iterator;
  std::vector<Entry> ranked;
  ranked.reserve(sites_.size());
  for (auto it = sites_.begin(); it != sites_.end(); ++it) ranked.push_back(it);
  auto before = [](Entry a, Entry b) {
    if (a->second.cpu_ns != b->second.cpu_ns) return a->second.cpu_ns > b->second.cpu_ns;
    if (a->second.lookups.lookups != b->second.lookups.lookups) {
      return a->second.lookups.lookups > b->second.lookups.lookups;
    }
    return a->first < b->first;
  };
  const size_t n = std::min(max_sites_, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(), before);
  std::vector<std::pair<std::pair<std::string, std::string>, Site>> top;
  top.reserve(n);
  for (size_t i = 0; i < n; ++i) top.emplace_back(ranked[i]->first, ranked[i]->second);
  return top;
}

}  // namespace golens::profiler
