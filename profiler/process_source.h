// Where per-process facts come from: /proc in real use, fixed answers in
// tests (so the recording core runs without root or BPF).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "profiler/base/result.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

class ProcessSource {
 public:
  virtual ~ProcessSource() = default;
  // The executable's path ("" when it cannot be read); kNotFound when gone.
  virtual Result<std::string> ExePath(pid_t pid) = 0;
  // Start time in clock ticks since boot (/proc/PID/stat field 22).
  virtual Result<uint64_t> StartTicks(pid_t pid) = 0;
  virtual Result<std::vector<symbolizer::Mapping>> Mappings(pid_t pid) = 0;
  // The file behind a mapping, opened while the process still maps it.
  virtual Result<std::shared_ptr<const symbolizer::Binary>> OpenBinary(pid_t pid, const symbolizer::Mapping& mapping) = 0;
  // The binary a path names (the program a launched command will exec).
  virtual Result<std::shared_ptr<const symbolizer::Binary>> OpenPath(const std::string& path) = 0;
  // The process with this pid and start time still runs (not a zombie).
  virtual bool Alive(pid_t pid, uint64_t start_ticks) = 0;
  // Where a program's code is mapped, known without the process (non-PIE
  // executables only; profiler/fixed_mappings.h).
  virtual Result<std::vector<symbolizer::Mapping>> ProgramMappings(const std::string& path);
};

// /proc, with parsed binaries shared through a bounded BinaryCache.
class ProcfsSource : public ProcessSource {
 public:
  // Parsed binaries kept beyond their last user, for quick re-use by the
  // next process of the same program (BinaryRecords keep the ones in use).
  static constexpr size_t kCachedBinaries = 16;
  ProcfsSource() : cache_(kCachedBinaries) {}

  Result<std::string> ExePath(pid_t pid) override;
  Result<uint64_t> StartTicks(pid_t pid) override;
  Result<std::vector<symbolizer::Mapping>> Mappings(pid_t pid) override;
  Result<std::shared_ptr<const symbolizer::Binary>> OpenBinary(pid_t pid, const symbolizer::Mapping& mapping) override;
  Result<std::shared_ptr<const symbolizer::Binary>> OpenPath(const std::string& path) override;
  bool Alive(pid_t pid, uint64_t start_ticks) override;

  symbolizer::BinaryCache& cache() { return cache_; }

 private:
  symbolizer::BinaryCache cache_;
};

// A device as /proc/PID/maps names it ("fd:01", hex major:minor).
std::string DeviceName(dev_t dev);

// Clock ticks per second for start times (sysconf(_SC_CLK_TCK)).
uint64_t ClockTicksPerSecond();
// Boot-time nanoseconds (BPF's start_boottime) -> clock ticks, as /proc does.
uint64_t NanosToTicks(uint64_t ns);

// Parses "pid (comm) S ppid ..." of /proc/PID/stat: state and start ticks.
struct ProcStat {
  char state = '?';
  uint64_t start_ticks = 0;
};
Result<ProcStat> ParseProcStat(const std::string& text);

// The thread group (process) a thread id belongs to (Tgid in /proc/TID/status).
Result<pid_t> ThreadGroupOf(pid_t tid);

}  // namespace golens::profiler
