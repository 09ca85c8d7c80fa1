// Deep map mode's lookups of an interval by call site, named the way the
// map_site label of CPU samples names a site ("function file:line" of the
// call), so metrics and profiles agree on what a site is. The agent turns
// them into Prometheus histograms; a site's lookups count whether or not a
// CPU sample landed in its map code (lookups are short: at 19 Hz most are
// never sampled).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "profiler/frame_cache.h"
#include "profiler/interval.h"
#include "profiler/map_probe_stats.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

// "function file:line" of the innermost frame of a symbolized call site
// (the code that made the call); empty when nothing is known.
std::string MapSiteName(const symbolizer::SymbolizedAddress& call);

struct MapSiteProbes {
  std::string site;  // MapSiteName, or "0x<address> <mapping file>" when it cannot be symbolized
  MapProbeHistogram lookups;
};

// The probed lookups of one process of `interval` (a key of
// IntervalProcess), by site; sites of one name (inlined copies) are merged.
std::vector<MapSiteProbes> MapSiteProbesOf(const Interval& interval, uint32_t process, FrameCache* frames);

}  // namespace golens::profiler
