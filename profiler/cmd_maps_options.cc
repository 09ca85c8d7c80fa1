#include "profiler/cmd_maps_options.h"

#include <CLI/CLI.hpp>

namespace golens::cli {

void AddMapsFlags(CLI::App* cmd, MapsFlags* flags) {
  cmd->add_option("--maps", flags->mode,
                  "Go map statistics: sampled (samples in map code carry map_len, map_buckets, map_load_pct and "
                  "map_site; no probes), off")
      ->capture_default_str();
}

Result<void> ApplyMapsFlags(const MapsFlags& flags, profiler::SessionOptions::Maps* maps) {
  if (flags.mode == "sampled") {
    maps->mode = profiler::MapsMode::kSampled;
  } else if (flags.mode == "off") {
    maps->mode = profiler::MapsMode::kOff;
  } else {
    return MakeError("--maps: \"" + flags.mode + "\" is not one of sampled, off", ErrorKind::kInvalidArgument);
  }
  return Ok();
}

}  // namespace golens::cli
