// One `golens record` run: targets (running PIDs or a launched command),
// the BPF sampler, the drain loop, and the profile written at the end.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "profiler/base/result.h"

namespace golens::profiler {

struct RecordOptions {
  std::vector<pid_t> pids;
  std::vector<std::string> command;  // `-- CMD ARGS`
  std::chrono::nanoseconds duration = std::chrono::seconds(30);
  int hz = 99;
  std::string output = "cpu.pb.gz";
  std::string svg;  // "" = no flame graph
  bool per_goroutine = false;
  bool kernel_stacks = true;
};

struct RecordSummary {
  uint64_t samples = 0;
  uint64_t lost = 0;
  size_t processes = 0;
  double seconds = 0;
  std::string command_exit;           // "exited with code 0" in command mode
  std::optional<int> command_exit_code;
};

// Runs the whole recording; SIGINT/SIGTERM end it early (the profile is
// still written). Errors carry exit code 2 for usage/permission problems.
Result<RecordSummary> RunRecord(const RecordOptions& options);

}  // namespace golens::profiler
