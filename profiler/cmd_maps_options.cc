#include "profiler/cmd_maps_options.h"

#include <CLI/CLI.hpp>

#include "pprof/output_file.h"
#include "profiler/base/log.h"
#include "profiler/base/duration.h"
#include "profiler/map_probe_stats.h"
#include "profiler/map_report.h"

namespace golens::cli {
namespace {

Error Usage(const std::string& message) { return MakeError(message, ErrorKind::kInvalidArgument); }

Result<std::chrono::milliseconds> Millis(const std::string& flag, const std::string& text) {
  auto parsed = profiler::ParseDuration(text);
  if (!parsed.ok()) return Usage(flag + ": " + parsed.error().message);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  if (ms.count() < 1) return Usage(flag + ": " + text + " is shorter than 1ms");
  return ms;
}

}  // namespace

void AddMapsFlags(CLI::App* cmd, MapsFlags* flags, bool probe_file) {
  cmd->add_option("--maps", flags->mode,
                  "Go map statistics: sampled (samples in map code carry map_len, map_buckets, map_load_pct and "
                  "map_site; no probes), deep (also probe fast32/fast64 lookups for probe counts and bucket "
                  "depths, duty-cycled), off")
      ->capture_default_str();
  cmd->add_option("--maps-window", flags->window, "With --maps deep: how long the lookup probes stay in each period")
      ->capture_default_str();
  cmd->add_option("--maps-period", flags->period, "With --maps deep: one probe window per this long")
      ->capture_default_str();
  if (probe_file) cmd->add_option("--maps-out", flags->out, "With --maps deep: one JSON line per probed lookup");
}

Result<void> ApplyMapsFlags(const MapsFlags& flags, profiler::SessionOptions::Maps* maps) {
  if (flags.mode == "sampled") {
    maps->mode = profiler::MapsMode::kSampled;
  } else if (flags.mode == "deep") {
    maps->mode = profiler::MapsMode::kDeep;
  } else if (flags.mode == "off") {
    maps->mode = profiler::MapsMode::kOff;
  } else {
    return Usage("--maps: \"" + flags.mode + "\" is not one of sampled, deep, off");
  }
  GOLENS_TRY(maps->deep.window, Millis("--maps-window", flags.window));
  GOLENS_TRY(maps->deep.period, Millis("--maps-period", flags.period));
  if (maps->deep.window > maps->deep.period) {
    return Usage("--maps-window " + flags.window + " is longer than --maps-period " + flags.period);
  }
  if (!flags.out.empty() && maps->mode != profiler::MapsMode::kDeep) return Usage("--maps-out needs --maps deep");
  if (!flags.out.empty()) GOLENS_TRY_VOID(pprof::CheckWritable(flags.out));
  maps->keep_probes = !flags.out.empty();
  return Ok();
}

void AddMapFlameHints(const pprof::Profile& profile, web::FlameOptions* flame) {
  for (auto& [name, hint] : profiler::MapFrameHints(profile)) {
    flame->map_intensity[name] = hint.intensity;
    flame->map_tooltip[name] = hint.tooltip;
  }
}

bool WriteMapProbes(const MapsFlags& flags, profiler::Session& session, std::vector<std::string>* written) {
  if (flags.out.empty()) return true;
  std::vector<golens_map_probe> probes = session.TakeMapProbes();
  std::string jsonl;
  for (const auto& probe : probes) jsonl += profiler::MapProbeJson(probe) + "\n";
  if (auto w = pprof::WriteOutputFile(flags.out, jsonl); !w.ok()) {
    GOLENS_LOG(kError) << "map probes not written: " << w.error().message;
    return false;
  }
  written->push_back(flags.out + " (" + std::to_string(probes.size()) + " probed lookups)");
  return true;
}

}  // namespace golens::cli
