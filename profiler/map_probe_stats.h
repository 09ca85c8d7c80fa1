// Deep map mode's per-site statistics: the probe counts and bucket depths
// of the lookups probed at one call site during an interval, and the pprof
// labels they become on that site's CPU samples.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "pprof/profile.h"

namespace golens::profiler {

inline constexpr const char* kMapProbedKey = "map_probed";  // probed lookups at the site
inline constexpr const char* kMapProbesP50Key = "map_probes_p50";
inline constexpr const char* kMapProbesP99Key = "map_probes_p99";
inline constexpr const char* kMapProbesMaxKey = "map_probes_max";
inline constexpr const char* kMapProbesOver5Key = "map_probes_over5_pct";
inline constexpr const char* kMapDepthP50Key = "map_depth_p50";
inline constexpr const char* kMapDepthP99Key = "map_depth_p99";
inline constexpr const char* kMapDepthMaxKey = "map_depth_max";

struct MapProbeHistogram {
  std::map<uint32_t, uint64_t> probes;  // value -> lookups
  std::map<uint32_t, uint64_t> depth;
  uint64_t lookups = 0;
  uint64_t hits = 0;

  void Add(const golens_map_probe& probe);
  void Merge(const MapProbeHistogram& other);
  // map_probed, map_probes_{p50,p99,max,over5_pct}, map_depth_{p50,p99,max}.
  void AppendLabels(std::vector<pprof::Label>* labels) const;
};

// The q-quantile (0..1) of a histogram (0 when empty).
uint32_t HistogramQuantile(const std::map<uint32_t, uint64_t>& histogram, double q);

// One probed lookup as a JSON line (record --maps-out), without newline.
std::string MapProbeJson(const golens_map_probe& probe);

}  // namespace golens::profiler
