// The map statistics flags of `golens record` (and later the agent):
// --maps sampled|deep|off and the deep mode's duty cycle.
#pragma once

#include <string>

#include "profiler/base/result.h"
#include "profiler/session.h"

namespace CLI {
class App;
}

namespace golens::cli {

struct MapsFlags {
  std::string mode = "sampled";
};

void AddMapsFlags(CLI::App* cmd, MapsFlags* flags);
// Checks the flags (a usage error names the bad one) and sets `maps`.
Result<void> ApplyMapsFlags(const MapsFlags& flags, profiler::SessionOptions::Maps* maps);

}  // namespace golens::cli
