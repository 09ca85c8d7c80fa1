#include "profiler/target_discovery.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "symbolizer/elf_file.h"
#include "symbolizer/go_buildinfo.h"
#include "symbolizer/mapped_file.h"

namespace golens::profiler {
namespace {

std::string ExeLink(pid_t pid) { return "/proc/" + std::to_string(pid) + "/exe"; }

std::string ExeName(pid_t pid) {
  char buffer[4096];
  ssize_t n = ::readlink(ExeLink(pid).c_str(), buffer, sizeof(buffer) - 1);
  if (n <= 0) return "";
  std::string path(buffer, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool FileHasGoBuildInfo(const std::string& path) {
  auto image = symbolizer::FileImage::Map(path);
  if (!image.ok()) return false;
  auto elf = symbolizer::ElfFile::Parse(image->bytes());
  if (!elf.ok()) return false;
  return symbolizer::ReadGoBuildInfo(*elf).has_value();
}

}  // namespace

TargetDiscovery::TargetDiscovery(TargetRules rules, size_t cache_entries)
    : rules_(std::move(rules)), cache_entries_(cache_entries) {}

bool TargetDiscovery::IsGoProgram(pid_t pid) {
  std::string link = ExeLink(pid);
  struct stat st;
  if (::stat(link.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  FileKey key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = go_files_.find(key);
    if (it != go_files_.end()) return it->second;
  }
  bool go = FileHasGoBuildInfo(link);
  std::lock_guard<std::mutex> lock(mu_);
  ++files_checked_;
  if (go_files_.emplace(key, go).second) {
    order_.push_back(key);
    while (order_.size() > cache_entries_) {
      go_files_.erase(order_.front());
      order_.pop_front();
    }
  }
  return go;
}

bool TargetDiscovery::Matches(pid_t pid) {
  if (pid <= 0 || pid == rules_.own_pid) return false;
  if (rules_.pids.count(pid)) return true;
  if (!rules_.exe_names.empty() && rules_.exe_names.count(ExeName(pid))) return true;
  return rules_.all_go && IsGoProgram(pid);
}

std::vector<pid_t> TargetDiscovery::Scan() {
  std::vector<pid_t> found;
  DIR* dir = ::opendir("/proc");
  if (!dir) return found;
  while (struct dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 0) continue;
    if (Matches(static_cast<pid_t>(pid))) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return found;
}

}  // namespace golens::profiler
