#include "profiler/target_process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "profiler/base/log.h"

namespace golens::profiler {

bool ProcessIsAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!stat || !std::getline(stat, text)) return false;
  // "pid (comm) S ...": comm may contain spaces and parentheses; the state
  // follows the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return false;
  char state = text[close + 2];
  return state != 'Z' && state != 'X';
}

Result<std::unique_ptr<TargetProcess>> TargetProcess::Attach(pid_t pid,
                                                             symbolizer::BinaryCache* binaries,
                                                             GoBinaryInfoCache* go_infos) {
  std::unique_ptr<TargetProcess> target(new TargetProcess());
  target->pid_ = pid;
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  char buf[4096];
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) {
    if (errno == ENOENT) {
      if (kill(pid, 0) != 0 && errno == ESRCH) {
        return MakeError("no such process: " + std::to_string(pid), 2);
      }
      return MakeError("pid " + std::to_string(pid) + " has no executable (a kernel thread?)", 2);
    }
    return ErrnoError("readlink " + link);
  }
  target->exe_path_.assign(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (target->exe_path_.size() > kDeleted.size() &&
      target->exe_path_.ends_with(kDeleted)) {
    target->exe_path_.resize(target->exe_path_.size() - kDeleted.size());
  }

  auto symbolizer = symbolizer::ProcessSymbolizer::Create(pid, binaries);
  if (!symbolizer.ok()) return symbolizer.error().Context("pid " + std::to_string(pid));
  target->symbolizer_ = std::move(symbolizer).value();
  target->OpenExecutableBinaries();

  // The main binary: the mapping of /proc/PID/exe (so deleted/replaced files
  // still resolve through map_files), else the path.
  const auto& mappings = target->symbolizer_->mappings();
  for (size_t i = 0; i < mappings.size() && !target->main_binary_; ++i) {
    if (mappings[i].path == target->exe_path_) target->main_binary_ = target->symbolizer_->BinaryFor(i);
  }
  if (!target->main_binary_) {
    auto binary = binaries->GetForPath("/proc/" + std::to_string(pid) + "/exe");
    if (binary.ok()) {
      target->main_binary_ = binary.value();
    } else {
      GOLENS_LOG(kWarn) << "pid " << pid << ": cannot read " << target->exe_path_ << ": "
                        << binary.error().message;
    }
  }
  if (target->main_binary_) {
    target->go_info_ = go_infos->Get(*target->main_binary_);
  } else {
    auto info = std::make_shared<GoBinaryInfo>();
    info->go_features_off_reason = "executable could not be read";
    target->go_info_ = info;
  }
  return target;
}

void TargetProcess::OpenExecutableBinaries() {
  const auto& mappings = symbolizer_->mappings();
  for (size_t i = 0; i < mappings.size(); ++i) {
    if (mappings[i].executable() && !mappings[i].path.empty() && mappings[i].path[0] == '/') {
      (void)symbolizer_->BinaryFor(i);  // opened now, while /proc/PID/map_files exists
    }
  }
}

void TargetProcess::RefreshMappings() {
  if (ended_) return;
  // Refresh keeps the last snapshot when the process is gone or a zombie.
  if (symbolizer_->Refresh().ok()) OpenExecutableBinaries();
}

bool TargetProcess::HasExited() const { return !ProcessIsAlive(pid_); }

}  // namespace golens::profiler
