// golens record (--pid PID [--pid PID ...] | -- CMD [ARGS...]) [--duration 30s]
//               [--hz 99] [-o cpu.pb.gz] [--svg flame.svg] [--per-goroutine] [--no-kernel]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "profiler/base/log.h"
#include "profiler/commands.h"
#include "profiler/duration.h"
#include "profiler/record_session.h"

namespace golens::cli {

namespace {

struct RecordFlags {
  std::vector<int> pids;
  std::vector<std::string> command;
  std::string duration = "30s";
  int hz = 99;
  std::string output = "cpu.pb.gz";
  std::string svg;
  bool per_goroutine = false;
  bool no_kernel = false;
};

int RunRecordCommand(const RecordFlags& flags) {
  profiler::RecordOptions options;
  for (int pid : flags.pids) options.pids.push_back(static_cast<pid_t>(pid));
  options.command = flags.command;
  auto duration = profiler::ParseDuration(flags.duration);
  if (!duration.ok()) {
    GOLENS_LOG(kError) << "--duration: " << duration.error().message;
    return 2;
  }
  options.duration = *duration;
  options.hz = flags.hz;
  options.output = flags.output;
  options.svg = flags.svg;
  options.per_goroutine = flags.per_goroutine;
  options.kernel_stacks = !flags.no_kernel;

  auto summary = profiler::RunRecord(options);
  if (!summary.ok()) {
    GOLENS_LOG(kError) << summary.error().message;
    return summary.error().exit_code;
  }
  const profiler::RecordSummary& s = *summary;
  std::string outputs = options.output;
  if (!options.svg.empty()) outputs += ", " + options.svg;
  std::printf("golens: %llu samples, %llu lost, %zu process%s, %.1fs -> %s%s\n",
              static_cast<unsigned long long>(s.samples), static_cast<unsigned long long>(s.lost),
              s.processes, s.processes == 1 ? "" : "es", s.seconds, outputs.c_str(),
              s.command_exit.empty() ? "" : ("; command " + s.command_exit).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

void RegisterRecordCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<RecordFlags>();
  CLI::App* cmd = app.add_subcommand(
      "record", "Record a CPU profile of running Go processes (--pid) or of a command (-- CMD)");
  cmd->add_option("--pid", flags->pids, "Process to profile (repeatable)");
  cmd->add_option("--duration", flags->duration, "How long to record (e.g. 30s, 500ms, 2m)")
      ->capture_default_str();
  cmd->add_option("--hz", flags->hz, "Samples per second per CPU")->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "pprof output file (gzip)")->capture_default_str();
  cmd->add_option("--svg", flags->svg, "Also write a flame graph SVG here");
  cmd->add_flag("--per-goroutine", flags->per_goroutine,
                "Keep samples apart per goroutine (numeric label 'goroutine')");
  cmd->add_flag("--no-kernel", flags->no_kernel, "Leave out kernel stacks");
  cmd->add_option("command", flags->command, "Command to start and profile, after --");
  cmd->positionals_at_end(false);
  cmd->callback([flags, exit_code] { *exit_code = RunRecordCommand(*flags); });
}

}  // namespace golens::cli
