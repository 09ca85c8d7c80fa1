// `golens record -- CMD ARGS`: starts the command so it is profiled from its
// first instruction. The child is forked and waits on a pipe; the session
// makes it a target and attaches the perf events, then Release() lets it
// exec. A close-on-exec status pipe tells whether exec worked.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "profiler/base/result.h"
#include "profiler/base/scoped_fd.h"

namespace golens::profiler {

// argv[0] resolved like execvp (PATH search when it has no '/').
Result<std::string> ResolveExecutable(const std::string& name);

class LaunchedProcess {
 public:
  // Forks the child; it does not run the command until Release().
  static Result<std::unique_ptr<LaunchedProcess>> Fork(const std::vector<std::string>& argv);
  ~LaunchedProcess();  // a child still running is killed and reaped
  LaunchedProcess(const LaunchedProcess&) = delete;
  LaunchedProcess& operator=(const LaunchedProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& executable() const { return executable_; }

  // Lets the child exec; returns once it has (or with exec's error).
  Result<void> Release();

  // Reaps the child if it has exited (non-blocking). True once it has.
  bool TryReap();
  bool exited() const { return status_.has_value(); }
  // SIGTERM, then SIGKILL after `grace` if it is still running; reaps it.
  void Terminate(std::chrono::milliseconds grace);
  // "exited with code 3", "killed by signal 9 (Killed)", "still running".
  std::string DescribeExit() const;
  // Exit code, or 128 + signal; nullopt while running.
  std::optional<int> exit_code() const;
  // CPU time the command itself used (user + system), once reaped.
  double cpu_seconds() const { return cpu_seconds_; }

 private:
  LaunchedProcess() = default;
  pid_t pid_ = -1;
  std::string executable_;
  ScopedFd go_write_;      // parent -> child: one byte releases the child
  ScopedFd status_read_;   // child -> parent: errno of a failed exec; EOF on success
  std::optional<int> status_;  // wait status once reaped
  double cpu_seconds_ = 0;
};

}  // namespace golens::profiler
