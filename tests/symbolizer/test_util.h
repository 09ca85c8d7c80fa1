// Helpers shared by the symbolizer tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace golens::symbolizer::testing {

inline std::string Fixture(const std::string& name) { return std::string(GOLENS_SYM_FIXTURES) + "/" + name; }

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr too when merge_stderr).
inline CommandResult RunCommand(const std::string& cmd, bool merge_stderr = false) {
  CommandResult r;
  std::string full = merge_stderr ? cmd + " 2>&1" : cmd;
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

}  // namespace golens::symbolizer::testing

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace golens::symbolizer::testing {

// A fixture started as `BINARY spin`: it prints "ready <pid> <hex addr of work.Spin>"
// and burns CPU until its stdin closes.
class SpinningProcess {
 public:
  explicit SpinningProcess(const std::string& binary) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execl(binary.c_str(), binary.c_str(), "spin", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    unsigned long long addr = 0;
    int pid = 0;
    if (std::sscanf(line.c_str(), "ready %d %llx", &pid, &addr) == 2) spin_address_ = addr;
  }
  ~SpinningProcess() { Stop(); }
  void Stop() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      int status;
      // Closing stdin ends it; SIGKILL if that did not work within ~5 s.
      for (int i = 0; i < 500 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(10000);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  uint64_t spin_address() const { return spin_address_; }
  bool ok() const { return pid_ > 0 && spin_address_ != 0; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  uint64_t spin_address_ = 0;
};

}  // namespace golens::symbolizer::testing
