#include "profiler/map_probe_stats.h"

#include <cstdio>

namespace golens::profiler {

void MapProbeHistogram::Add(const golens_map_probe& probe) {
  ++probes[probe.probes];
  ++depth[probe.depth];
  ++lookups;
  if (probe.flags & GOLENS_MAP_PROBE_HIT) ++hits;
}

void MapProbeHistogram::Merge(const MapProbeHistogram& other) {
  for (const auto& [value, n] : other.probes) probes[value] += n;
  for (const auto& [value, n] : other.depth) depth[value] += n;
  lookups += other.lookups;
  hits += other.hits;
}

uint32_t HistogramQuantile(const std::map<uint32_t, uint64_t>& histogram, double q) {
  uint64_t total = 0;
  for (const auto& [value, n] : histogram) total += n;
  if (total == 0) return 0;
  const double at = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (const auto& [value, n] : histogram) {
    seen += n;
    if (static_cast<double>(seen) >= at) return value;
  }
  return histogram.rbegin()->first;
}

void MapProbeHistogram::AppendLabels(std::vector<pprof::Label>* labels) const {
  if (lookups == 0) return;
  uint64_t over5 = 0;
  for (const auto& [value, n] : probes) over5 += value > 5 ? n : 0;
  auto num = [&](const char* key, uint64_t value, const char* unit = "") {
    labels->push_back(pprof::Label{key, "", static_cast<int64_t>(value), unit});
  };
  num(kMapProbedKey, lookups);
  num(kMapProbesP50Key, HistogramQuantile(probes, 0.5));
  num(kMapProbesP99Key, HistogramQuantile(probes, 0.99));
  num(kMapProbesMaxKey, probes.rbegin()->first);
  num(kMapProbesOver5Key, over5 * 100 / lookups, "percent");
  num(kMapDepthP50Key, HistogramQuantile(depth, 0.5));
  num(kMapDepthP99Key, HistogramQuantile(depth, 0.99));
  num(kMapDepthMaxKey, depth.rbegin()->first);
}

std::string MapProbeJson(const golens_map_probe& p) {
  char line[384];
  std::snprintf(line, sizeof line,
                "{\"pid\":%u,\"map\":\"0x%llx\",\"key\":%llu,\"hash\":\"0x%llx\",\"site\":\"0x%llx\",\"index\":%llu,"
                "\"depth\":%u,\"probes\":%u,\"hit\":%s,\"swiss\":%s,\"old_bucket\":%s,\"cut\":%s}",
                p.tgid, static_cast<unsigned long long>(p.map), static_cast<unsigned long long>(p.key),
                static_cast<unsigned long long>(p.hash), static_cast<unsigned long long>(p.site),
                static_cast<unsigned long long>(p.index), p.depth, p.probes,
                (p.flags & GOLENS_MAP_PROBE_HIT) ? "true" : "false", (p.flags & GOLENS_MAP_PROBE_SWISS) ? "true" : "false",
                (p.flags & GOLENS_MAP_PROBE_OLD) ? "true" : "false", (p.flags & GOLENS_MAP_PROBE_CUT) ? "true" : "false");
  return line;
}

}  // namespace golens::profiler
