// The map statistics flags of `golens record` and `golens agent`:
// --maps sampled|deep|off, deep mode's duty cycle (--maps-window,
// --maps-period) and --maps-out (one JSON line per probed lookup).
#pragma once

#include <string>
#include <vector>

#include "profiler/base/result.h"
#include "profiler/session.h"
#include "web/flamegraph.h"

namespace CLI {
class App;
}

namespace golens::cli {

struct MapsFlags {
  std::string mode = "sampled";
  std::string window = "10ms";
  std::string period = "1s";
  std::string out;
};

// `probe_file`: also --maps-out (record; the agent keeps histograms instead).
void AddMapsFlags(CLI::App* cmd, MapsFlags* flags, bool probe_file = true);
// Checks the flags (a usage error names the bad one) and sets `maps`.
Result<void> ApplyMapsFlags(const MapsFlags& flags, profiler::SessionOptions::Maps* maps);
// --maps-out: the probed lookups as JSON lines. Adds what it wrote to
// `written`; false when the file could not be written (said on stderr).
// Map frames of a flame graph of `profile`: color intensity and tooltips
// from its map statistics (nothing when it has none).
void AddMapFlameHints(const pprof::Profile& profile, web::FlameOptions* flame);
bool WriteMapProbes(const MapsFlags& flags, profiler::Session& session, std::vector<std::string>* written);

}  // namespace golens::cli
