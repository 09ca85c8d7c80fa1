// Which processes the agent profiles: given pids, executables by name, or
// every Go program on the host. Decides from /proc/PID/exe; whether a file is
// a Go program (it has Go build info) is cached by file identity, so the
// many non-Go execs of a busy host cost one stat each after the first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace golens::profiler {

struct TargetRules {
  std::set<pid_t> pids;              // these processes (while they live)
  std::set<std::string> exe_names;   // executables with this file name
  bool all_go = false;               // every Go program
  pid_t own_pid = 0;                 // never golens itself
};

class TargetDiscovery {
 public:
  explicit TargetDiscovery(TargetRules rules, size_t cache_entries = 4096);

  // True when `pid` (now running /proc/PID/exe) is to be profiled.
  bool Matches(pid_t pid);
  // Every running process that matches (a /proc scan).
  std::vector<pid_t> Scan();

  // Whether the file behind /proc/PID/exe is a Go program (cached).
  bool IsGoProgram(pid_t pid);

  uint64_t files_checked() const { return files_checked_; }

 private:
  using FileKey = std::tuple<uint64_t, uint64_t, int64_t, int64_t>;  // dev, inode, size, mtime ns

  TargetRules rules_;
  size_t cache_entries_;
  std::mutex mu_;
  std::map<FileKey, bool> go_files_;
  std::list<FileKey> order_;  // oldest first: evicted past cache_entries_
  uint64_t files_checked_ = 0;
};

}  // namespace golens::profiler
