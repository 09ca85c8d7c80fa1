// The map access sites of a profile (golens record --maps): one row per
// map_site label with its CPU, the statistics its samples carried and, from
// deep mode, the distributions of probe count and bucket depth. Works on any
// pprof file; a profile without map labels gives no rows.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pprof/profile.h"

namespace golens::profiler {

// A weighted distribution of one numeric label.
struct MapLabelStats {
  int64_t weight = 0;  // samples (or probed lookups) that carried the label
  int64_t p50 = 0, p99 = 0, max = 0;
  double over5_share = 0;  // share of the weight with a value over 5 (< 0: not known)
  bool empty() const { return weight == 0; }
};

struct MapSiteRow {
  std::string site;          // "function file:line", or "(unknown site)"
  int64_t cpu_ns = 0;        // CPU of the samples in map code called from the site
  int64_t samples = 0;
  int64_t labelled = 0;      // of those, with map header statistics
  MapLabelStats len, buckets, load_pct;
  MapLabelStats probes, depth;  // deep mode: the site's probed lookups (weight) and their distributions
};

// Rows sorted by CPU, highest first.
std::vector<MapSiteRow> BuildMapReport(const pprof::Profile& profile);

// Flame graph hints per map-operation function name (runtime.mapaccess1_fast64):
// intensity in [0, 1] (from the probe counts of deep mode, else the load) and
// a tooltip line with the statistics of the samples in it.
struct MapFrameHint {
  double intensity = 0;
  std::string tooltip;
};
std::map<std::string, MapFrameHint> MapFrameHints(const pprof::Profile& profile);

// A plain-text table of the rows (at most `top`; 0 = all).
std::string FormatMapReport(const std::vector<MapSiteRow>& rows, size_t top = 0);

}  // namespace golens::profiler
