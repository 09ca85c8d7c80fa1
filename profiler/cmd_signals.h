// Signal handling shared by the long-running commands (record, agent):
// SIGINT, SIGTERM and SIGHUP (an ssh session that drops) ask the command to
// finish its work and exit cleanly; SIGPIPE is ignored, so a closed stderr
// (`2>&1 | head -1`) never kills golens. Old dispositions come back after.
#pragma once

#include <signal.h>

#include <atomic>

namespace golens::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received (0: none yet).
  int received() const;
  // Set once a stop signal arrived: for loops that poll a flag.
  const std::atomic<bool>& stop_flag() const;

 private:
  static constexpr int kStop[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3] {};
  struct sigaction old_pipe_ {};
};

}  // namespace golens::cli
