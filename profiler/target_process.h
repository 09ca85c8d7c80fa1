// Per-process state of one recording target: its maps snapshot and opened
// binaries (through the shared BinaryCache, so a process that exits still
// symbolizes), its main executable and the per-binary Go info.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "profiler/base/result.h"
#include "profiler/go_binary_info.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

class TargetProcess {
 public:
  // Reads /proc/PID/exe and maps, opens every executable mapping's binary.
  static Result<std::unique_ptr<TargetProcess>> Attach(pid_t pid, symbolizer::BinaryCache* binaries,
                                                       GoBinaryInfoCache* go_infos);

  pid_t pid() const { return pid_; }
  const std::string& exe_path() const { return exe_path_; }
  // The binary of the main executable (nullptr if it could not be opened).
  const std::shared_ptr<const symbolizer::Binary>& main_binary() const { return main_binary_; }
  const GoBinaryInfo& go_info() const { return *go_info_; }
  symbolizer::ProcessSymbolizer& symbolizer() { return *symbolizer_; }

  // Re-reads the maps (new libraries) and opens new binaries while the
  // process is alive. A vanished process keeps its last snapshot.
  void RefreshMappings();

  // Has the process exited (gone, or a zombie)?
  bool HasExited() const;
  bool ended() const { return ended_; }
  void MarkEnded() { ended_ = true; }

  uint64_t samples = 0;  // counted by the session

 private:
  TargetProcess() = default;
  void OpenExecutableBinaries();

  pid_t pid_ = 0;
  std::string exe_path_;
  std::shared_ptr<const symbolizer::Binary> main_binary_;
  std::shared_ptr<const GoBinaryInfo> go_info_;
  std::unique_ptr<symbolizer::ProcessSymbolizer> symbolizer_;
  bool ended_ = false;
};

// /proc/PID exists and is not a zombie.
bool ProcessIsAlive(pid_t pid);

}  // namespace golens::profiler
