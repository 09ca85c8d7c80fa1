// golens maps PROFILE [--top N]: the map access sites of a profile recorded
// with --maps (sampled or deep), as a table sorted by CPU.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "pprof/profile_io.h"
#include "profiler/base/log.h"
#include "profiler/cli_errors.h"
#include "profiler/commands.h"
#include "profiler/map_report.h"

namespace golens::cli {
namespace {

struct MapsArgs {
  std::string profile;
  size_t top = 0;
};

Result<void> Maps(const MapsArgs& a) {
  GOLENS_TRY(pprof::Profile profile, pprof::ReadProfileFile(a.profile));
  std::vector<profiler::MapSiteRow> rows = profiler::BuildMapReport(profile);
  if (rows.empty()) {
    GOLENS_LOG(kInfo) << a.profile
                      << ": no map statistics (recorded with --maps off, by another profiler, or no samples in map code)";
    return Ok();
  }
  std::string table = profiler::FormatMapReport(rows, a.top);
  std::fwrite(table.data(), 1, table.size(), stdout);
  std::fflush(stdout);
  return Ok();
}

}  // namespace

void RegisterMapsCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<MapsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "maps", "Map access sites of a profile recorded with --maps: CPU, map_len, buckets, load, probe counts");
  cmd->add_option("PROFILE", args->profile, "pprof file (gzip or raw); - for stdin")->required();
  cmd->add_option("--top", args->top, "Show only the N sites with the most CPU (0 = all)")->capture_default_str();
  cmd->callback([args, exit_code] {
    auto result = Maps(*args);
    if (!result.ok()) {
      GOLENS_LOG(kError) << result.error().message;
      *exit_code = ExitCodeFor(result.error());
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace golens::cli
