// The agent's own health and the Go map statistics it sees, in the
// Prometheus text exposition format (version 0.0.4), for
// `golens agent --metrics-listen`. Names follow Prometheus conventions: base
// units (seconds, bytes, ratios), `_total` for counters, `golens_` prefix
// except the standard process_* metrics. Map sites are bounded: only the
// top N sites by CPU get series.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "pprof/profile.h"
#include "profiler/agent.h"
#include "profiler/map_site_gauges.h"

namespace golens::profiler {

struct ProcessSelfStats {
  double cpu_seconds = 0;  // user + system of golens itself
  int64_t rss_bytes = 0;
};
ProcessSelfStats ReadProcessSelfStats();

// Bytes of the regular files directly in `dir` (the store's database, WAL, shm).
int64_t DirectoryBytes(const std::string& dir);

std::string PrometheusText(const AgentStats& stats, const ProcessSelfStats& self, int64_t store_bytes,
                           const MapSiteGauges& maps);

// A label value escaped for the text format (backslash, quote, newline).
std::string EscapePrometheusLabel(const std::string& value);

}  // namespace golens::profiler
