#include "profiler/process_launcher.h"

#include <sys/resource.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

namespace golens::profiler {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::string> ResolveExecutable(const std::string& name) {
  if (name.empty()) return MakeError("empty command", ErrorKind::kInvalidArgument);
  if (name.find('/') != std::string::npos) {
    if (!IsExecutableFile(name)) return ErrnoError("command " + name, errno ? errno : EACCES);
    return name;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return MakeError("command not found: " + name, ErrorKind::kInvalidArgument);
}

Result<std::unique_ptr<LaunchedProcess>> LaunchedProcess::Fork(const std::vector<std::string>& argv) {
  if (argv.empty()) return MakeError("no command given after --", ErrorKind::kInvalidArgument);
  GOLENS_TRY(std::string executable, ResolveExecutable(argv[0]));

  int go_pipe[2];
  int status_pipe[2];
  if (pipe2(go_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  ScopedFd go_read(go_pipe[0]), go_write(go_pipe[1]);
  if (pipe2(status_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  ScopedFd status_read(status_pipe[0]), status_write(status_pipe[1]);

  // Everything the child needs is prepared before fork (no allocation after).
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    close(go_write.get());  // so that golens exiting early unblocks the read below
    close(status_read.get());
    char byte;
    ssize_t n;
    do {
      n = read(go_read.get(), &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // golens went away before releasing us
    // Signals the parent handles stay default for the command.
    // (An ignored SIGPIPE would survive exec and change how the command
    // behaves in a pipeline.)
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(executable.c_str(), args.data());
    int err = errno;
    ssize_t ignored = write(status_write.get(), &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }

  std::unique_ptr<LaunchedProcess> child(new LaunchedProcess());
  child->pid_ = pid;
  child->executable_ = executable;
  child->go_write_ = std::move(go_write);
  child->status_read_ = std::move(status_read);
  return child;  // go_read and status_write close here (parent's copies)
}

Result<void> LaunchedProcess::Release() {
  char byte = 1;
  if (write(go_write_.get(), &byte, 1) != 1) return ErrnoError("release child");
  go_write_.Reset();
  int err = 0;
  ssize_t n;
  do {
    n = read(status_read_.get(), &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  status_read_.Reset();
  if (n == static_cast<ssize_t>(sizeof(err))) {
    TryReap();
    return ErrnoError("exec " + executable_, err).Context("command");
  }
  return Ok();  // EOF: exec closed the pipe
}

bool LaunchedProcess::TryReap() {
  if (status_) return true;
  int status = 0;
  struct rusage usage {};
  pid_t r = wait4(pid_, &status, WNOHANG, &usage);
  if (r == pid_) {
    status_ = status;
    cpu_seconds_ = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  return status_.has_value();
}

void LaunchedProcess::Terminate(std::chrono::milliseconds grace) {
  if (TryReap()) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (TryReap()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  struct rusage usage {};
  if (wait4(pid_, &status, 0, &usage) == pid_) {
    status_ = status;
    cpu_seconds_ = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
}

std::optional<int> LaunchedProcess::exit_code() const {
  if (!status_) return std::nullopt;
  if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
  if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
  return std::nullopt;
}

std::string LaunchedProcess::DescribeExit() const {
  if (!status_) return "still running";
  if (WIFEXITED(*status_)) return "exited with code " + std::to_string(WEXITSTATUS(*status_));
  if (WIFSIGNALED(*status_)) {
    int sig = WTERMSIG(*status_);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended";
}

LaunchedProcess::~LaunchedProcess() {
  if (pid_ > 0 && !status_) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
}

}  // namespace golens::profiler
