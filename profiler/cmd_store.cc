// golens store list|export: what the agent stored, and one merged pprof of
// a selection of it. Flags and messages here; the work is store::Store.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "pprof/output_file.h"
#include "pprof/profile_io.h"
#include "pprof/sample_filter.h"
#include "pprof/store/store.h"
#include "profiler/base/log.h"
#include "profiler/cli_errors.h"
#include "profiler/commands.h"
#include "profiler/recorder.h"
#include "profiler/base/wall_time.h"

namespace golens::cli {
namespace {

struct StoreFlags {
  std::string store;
  std::string service;
  std::string build_id;
  std::string from;
  std::string to;
  std::vector<std::string> tags;
  std::string output = "merged.pb.gz";
};

std::string FormatTime(int64_t ns) {
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<store::Selection> MakeSelection(const StoreFlags& flags) {
  store::Selection selection;
  selection.service = flags.service;
  selection.build_id = flags.build_id;
  int64_t now = profiler::WallClockNanos();
  if (!flags.from.empty()) {
    auto t = profiler::ParseWallTime(flags.from, now);
    if (!t.ok()) return t.error().Context("--from");
    selection.from_ns = *t;
  }
  if (!flags.to.empty()) {
    auto t = profiler::ParseWallTime(flags.to, now);
    if (!t.ok()) return t.error().Context("--to");
    selection.to_ns = *t;
  }
  if (selection.from_ns && selection.to_ns && *selection.from_ns >= *selection.to_ns) {
    return MakeError("--from must be before --to", ErrorKind::kInvalidArgument);
  }
  GOLENS_TRY(selection.tags, pprof::ParseTagFilters(flags.tags));
  return selection;
}

Result<void> List(const StoreFlags& flags) {
  store::StoreOptions options;
  options.read_only = true;
  GOLENS_TRY(std::unique_ptr<store::Store> store, store::Store::Open(flags.store, options));
  GOLENS_TRY(std::vector<store::ServiceInfo> services, store->ListServices());
  if (services.empty()) std::printf("no profiles in %s\n", flags.store.c_str());
  for (const store::ServiceInfo& service : services) {
    std::printf("%s\n", service.service.c_str());
    for (const store::BuildInfo& build : service.builds) {
      std::printf("  build %s  %s  %s .. %s  %lld profiles  %lld samples\n",
                  build.build_id.empty() ? "-" : build.build_id.c_str(),
                  build.go_version.empty() ? "-" : build.go_version.c_str(), FormatTime(build.first_seen_ns).c_str(),
                  FormatTime(build.last_seen_ns).c_str(), static_cast<long long>(build.profiles),
                  static_cast<long long>(build.samples));
    }
  }
  return Ok();
}

Result<void> Export(const StoreFlags& flags) {
  GOLENS_TRY(store::Selection selection, MakeSelection(flags));
  GOLENS_TRY_VOID(pprof::CheckWritable(flags.output));
  store::StoreOptions options;
  options.read_only = true;
  GOLENS_TRY(std::unique_ptr<store::Store> store, store::Store::Open(flags.store, options));
  GOLENS_TRY(store::MergeResult merged, store->Merge(selection));
  if (merged.profiles == 0) {
    return MakeError("no stored profiles of service \"" + flags.service + "\" match" +
                         (flags.build_id.empty() ? "" : " build " + flags.build_id) +
                         (flags.from.empty() && flags.to.empty() ? "" : " in that time range") +
                         " (golens store list --store " + flags.store + " shows what there is)",
                     ErrorKind::kNotFound);
  }
  GOLENS_TRY_VOID(pprof::WritePprofFile(merged.profile, flags.output));
  std::string note = "store export: " + std::to_string(merged.profiles) + " profiles merged into " +
                     flags.output;
  if (merged.skipped_corrupt) note += " (" + std::to_string(merged.skipped_corrupt) + " corrupt entries skipped)";
  GOLENS_LOG(kInfo) << note;
  return Ok();
}

void Report(const Result<void>& outcome, int* exit_code) {
  if (!outcome.ok()) {
    GOLENS_LOG(kError) << outcome.error().message;
    *exit_code = ExitCodeFor(outcome.error());
    return;
  }
  *exit_code = 0;
}

}  // namespace

void RegisterStoreCommands(CLI::App& app, int* exit_code) {
  CLI::App* store = app.add_subcommand("store", "Read the agent's profile store");
  store->require_subcommand(1);

  auto list_flags = std::make_shared<StoreFlags>();
  CLI::App* list = store->add_subcommand("list", "Services and builds in the store, with their time ranges");
  list->add_option("--store", list_flags->store, "Store directory")->required();
  list->callback([list_flags, exit_code] { Report(List(*list_flags), exit_code); });

  auto flags = std::make_shared<StoreFlags>();
  CLI::App* exp = store->add_subcommand("export", "Merge stored profiles of a service into one pprof");
  exp->add_option("--store", flags->store, "Store directory")->required();
  exp->add_option("--service", flags->service, "Service name")->required();
  exp->add_option("--build-id", flags->build_id, "Only this build");
  exp->add_option("--from", flags->from, "Start: Unix seconds, RFC 3339 or now-1h (default: all retained)");
  exp->add_option("--to", flags->to, "End: Unix seconds, RFC 3339 or now (default: all retained)");
  exp->add_option("--tag", flags->tags, "Only samples with this label, key=value (repeatable)");
  exp->add_option("-o,--output", flags->output, "pprof output file (gzip); - for stdout")->capture_default_str();
  exp->callback([flags, exit_code] { Report(Export(*flags), exit_code); });
}

}  // namespace golens::cli
