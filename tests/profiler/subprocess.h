// Test helper: runs a program with its stdout and stderr captured in the
// background, so a test can wait for a line ("recording ...") while the
// program keeps running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace golens::testing {

class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();  // kills and reaps a child that still runs
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until `needle` appears in stdout (or stderr); false on timeout or exit.
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout, bool on_stderr = false);
  // Waits for exit; nullopt on timeout. Exit code, or 128 + signal.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Kill(int sig = 9);

  std::string out() const;
  std::string err() const;

 private:
  void Reader(int fd, std::string* sink);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  int readers_open_ = 0;
  std::thread out_thread_, err_thread_;
};

struct CommandResult {
  int exit_code = -1;  // -1: timed out (killed)
  std::string out;
  std::string err;
};

CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace golens::testing
