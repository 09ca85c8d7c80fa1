#include "profiler/process_source.h"

#include "profiler/fixed_mappings.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace golens::profiler {

std::string DeviceName(dev_t dev) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02x:%02x", major(dev), minor(dev));
  return buf;
}

uint64_t ClockTicksPerSecond() {
  static const uint64_t ticks = [] {
    long t = sysconf(_SC_CLK_TCK);
    return t > 0 ? static_cast<uint64_t>(t) : 100;
  }();
  return ticks;
}

uint64_t NanosToTicks(uint64_t ns) { return ns / (1000000000ull / ClockTicksPerSecond()); }

Result<ProcStat> ParseProcStat(const std::string& text) {
  // "pid (comm) S ...": comm may contain spaces and parentheses; the state
  // follows the last ')'. starttime is field 22 (the 20th after comm).
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) {
    return MakeError("unreadable /proc stat line", ErrorKind::kCorrupt);
  }
  ProcStat stat;
  stat.state = text[close + 2];
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) stat.start_ticks = std::strtoull(field.c_str(), nullptr, 10);
  }
  return stat;
}

Result<std::vector<symbolizer::Mapping>> ProcessSource::ProgramMappings(const std::string& path) {
  return FixedAddressMappings(path);
}

Result<std::string> ProcfsSource::ExePath(pid_t pid) {
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  char buf[4096];
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) {
    int err = errno;
    if (err == ENOENT && kill(pid, 0) != 0 && errno == ESRCH) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    if (err == ENOENT) return std::string();  // a kernel thread, or a zombie
    if (err == EACCES || err == EPERM) {
      Error e = ErrnoError("read " + link, err);
      e.message += " (needs CAP_SYS_PTRACE over that process)";
      return e;
    }
    return ErrnoError("readlink " + link, err);
  }
  std::string path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
}

Result<uint64_t> ProcfsSource::StartTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return ErrnoError("pid " + std::to_string(pid), ESRCH);
  GOLENS_TRY(ProcStat stat, ParseProcStat(text));
  return stat.start_ticks;
}

Result<std::vector<symbolizer::Mapping>> ProcfsSource::Mappings(pid_t pid) {
  return symbolizer::ReadProcessMappings(pid);
}

Result<std::shared_ptr<const symbolizer::Binary>> ProcfsSource::OpenBinary(pid_t pid, const symbolizer::Mapping& mapping) {
  auto binary = cache_.GetForMapping(pid, mapping);
  if (binary.ok() || mapping.path.empty() || mapping.path[0] != '/') return binary;
  // The process is gone (its map_files with it): the file at the path is
  // still the one it mapped when device and inode agree.
  struct stat st {};
  if (stat(mapping.path.c_str(), &st) != 0 || st.st_ino != mapping.inode ||
      mapping.dev != DeviceName(st.st_dev)) {
    return binary;
  }
  return cache_.GetForPath(mapping.path);
}

Result<std::shared_ptr<const symbolizer::Binary>> ProcfsSource::OpenPath(const std::string& path) {
  return cache_.GetForPath(path);
}

bool ProcfsSource::Alive(pid_t pid, uint64_t start_ticks) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return false;
  auto stat = ParseProcStat(text);
  return stat.ok() && stat->state != 'Z' && stat->state != 'X' && stat->start_ticks == start_ticks;
}

Result<pid_t> ThreadGroupOf(pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/status");
  if (!in) return ErrnoError("pid " + std::to_string(tid), ESRCH);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Tgid:", 0) == 0) return static_cast<pid_t>(std::strtol(line.c_str() + 5, nullptr, 10));
  }
  return MakeError("pid " + std::to_string(tid) + ": no Tgid in its status", ErrorKind::kCorrupt);
}

}  // namespace golens::profiler
