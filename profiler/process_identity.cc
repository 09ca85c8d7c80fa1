#include "profiler/process_identity.h"

#include <sys/utsname.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

namespace golens::profiler {
namespace {

// environ and cgroup are small; a bound keeps a hostile process from making
// the agent read megabytes.
constexpr size_t kMaxProcFileBytes = 1 << 20;

std::string ReadProcFile(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name, std::ios::binary);
  std::string text;
  char buffer[8192];
  while (in && text.size() < kMaxProcFileBytes) {
    in.read(buffer, sizeof(buffer));
    text.append(buffer, static_cast<size_t>(in.gcount()));
  }
  return text;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A replaced or deleted binary reads "/path/app (deleted)".
  constexpr std::string_view kDeleted = " (deleted)";
  if (base.size() > kDeleted.size() && base.ends_with(kDeleted)) base.resize(base.size() - kDeleted.size());
  return base;
}

}  // namespace

std::optional<std::string> ProcessEnvironmentValue(pid_t pid, const std::string& name) {
  std::string environ = ReadProcFile(pid, "environ");
  std::string prefix = name + "=";
  size_t pos = 0;
  while (pos < environ.size()) {
    size_t end = environ.find('\0', pos);
    if (end == std::string::npos) end = environ.size();
    std::string_view entry(environ.data() + pos, end - pos);
    if (entry.starts_with(prefix)) return std::string(entry.substr(prefix.size()));
    pos = end + 1;
  }
  return std::nullopt;
}

std::string ContainerIdFromCgroup(const std::string& text) {
  std::string found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // "hierarchy-ID:controllers:path"; the path is after the second ':'.
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string_view path(line.data() + second + 1, line.size() - second - 1);
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t end = path.find('/', pos);
      if (end == std::string_view::npos) end = path.size();
      std::string_view part = path.substr(pos, end - pos);
      if (part.ends_with(".scope")) part.remove_suffix(6);
      size_t dash = part.rfind('-');
      std::string_view tail = dash == std::string_view::npos ? part : part.substr(dash + 1);
      if (IsHex64(tail)) found = std::string(tail);
      pos = end + 1;
    }
  }
  return found;
}

ProcessIdentityInfo ReadProcessIdentity(pid_t pid, const std::string& exe_path) {
  ProcessIdentityInfo info;
  for (const char* variable : {"GOLENS_SERVICE", "OTEL_SERVICE_NAME"}) {
    auto value = ProcessEnvironmentValue(pid, variable);
    if (value && !value->empty()) {
      info.service = *value;
      break;
    }
  }
  if (info.service.empty()) info.service = BaseName(exe_path);
  if (info.service.empty()) info.service = "unknown";
  info.container_id = ContainerIdFromCgroup(ReadProcFile(pid, "cgroup"));
  return info;
}

std::string HostName() {
  struct utsname name;
  if (::uname(&name) != 0) return "unknown";
  return name.nodename;
}

}  // namespace golens::profiler
