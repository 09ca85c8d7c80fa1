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

std::vector<std::pair<std::pair<std::string, std::string>, MapSiteGauges::Site>> MapSiteGauges::Top() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::pair<std::string, std::string>, Site>> top(sites_.begin(), sites_.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second.cpu_ns != b.second.cpu_ns ? a.second.cpu_ns > b.second.cpu_ns : a.first < b.first;
  });
  if (top.size() > max_sites_) top.resize(max_sites_);
  return top;
}

}  // namespace golens::profiler
