#include "tests/profiler/subprocess.h"

#include <fcntl.h>
#include <cerrno>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace golens::testing {

Subprocess::Subprocess(std::vector<std::string> argv) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    std::perror("pipe");
    std::abort();
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    execv(args[0], args.data());
    std::perror(args[0]);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  readers_open_ = 2;
  out_thread_ = std::thread(&Subprocess::Reader, this, out[0], &out_);
  err_thread_ = std::thread(&Subprocess::Reader, this, err[0], &err_);
}

Subprocess::~Subprocess() {
  if (!exit_code_) {
    Kill(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
}

void Subprocess::Reader(int fd, std::string* sink) {
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    sink->append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  --readers_open_;
  cv_.notify_all();
}

bool Subprocess::WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout,
                               bool on_stderr) {
  std::unique_lock<std::mutex> lock(mu_);
  const std::string& text = on_stderr ? err_ : out_;
  return cv_.wait_for(lock, timeout, [&] {
    return text.find(needle) != std::string::npos || readers_open_ == 0;
  }) && text.find(needle) != std::string::npos;
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Let the readers see EOF before the caller looks at the output.
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [&] { return readers_open_ == 0; });
  return exit_code_;
}

void Subprocess::Kill(int sig) {
  if (!exit_code_ && pid_ > 0) kill(pid_, sig);
}

std::string Subprocess::out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string Subprocess::err() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  Subprocess p(argv);
  CommandResult result;
  std::optional<int> code = p.Wait(timeout);
  if (!code) {
    p.Kill(SIGKILL);
    p.Wait(std::chrono::seconds(10));
  }
  result.exit_code = code.value_or(-1);
  result.out = p.out();
  result.err = p.err();
  return result;
}

}  // namespace golens::testing
