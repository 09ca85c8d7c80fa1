#include "profiler/map_probe_cycler.h"

#include "profiler/base/log.h"

namespace golens::profiler {

void MapProbeCycler::Add(const std::shared_ptr<BinaryRecord>& binary, const std::string& path, const std::string& exe) {
  const MapCode& code = binary->map_code();
  std::lock_guard<std::mutex> lock(mu_);
  if (programs_.count(binary->cache_key())) return;
  Program program;
  program.binary = binary;
  program.path = path;
  program.exe = exe;
  for (const MapCode::ProbeSite& site : code.probe_sites) {
    if (auto offset = binary->binary().VaddrToFileOffset(site.vaddr)) program.sites.emplace_back(*offset, site.key_size);
  }
  programs_.emplace(binary->cache_key(), std::move(program));
}

void MapProbeCycler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void MapProbeCycler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t MapProbeCycler::windows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return windows_;
}

void MapProbeCycler::SetActive(bool active) {
  std::lock_guard<std::mutex> lock(mu_);
  active_ = active;
}

bool MapProbeCycler::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

bool MapProbeCycler::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void MapProbeCycler::Loop() {
  const auto off = cycle_.period > cycle_.window ? cycle_.period - cycle_.window : std::chrono::milliseconds(0);
  while (Sleep(off)) {
    std::vector<std::unique_ptr<BpfSampler::Probes>> attached;
    auto attach_start = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase_if(programs_, [](const auto& entry) { return entry.second.binary.expired(); });
      if (!active_) continue;
      for (auto& [key, program] : programs_) {
        if (program.sites.empty()) continue;
        auto probes = sampler_->AttachMapProbes(program.path, program.sites);
        if (probes.ok()) {
          attached.push_back(std::move(probes).value());
        } else if (!program.warned) {
          program.warned = true;
          GOLENS_LOG(kWarn) << "--maps deep: " << probes.error().message << "; " << program.exe
                            << " gets sampled statistics only";
        }
      }
      ++windows_;
    }
    GOLENS_LOG(kDebug) << "--maps deep: attaching took "
                       << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                                attach_start)
                              .count()
                       << " us";
    auto in = std::chrono::steady_clock::now();
    bool go_on = Sleep(cycle_.window);
    auto detach = std::chrono::steady_clock::now();
    attached.clear();  // detach before anything else
    auto out = std::chrono::steady_clock::now();
    GOLENS_LOG(kDebug) << "--maps deep: probes in for "
                       << std::chrono::duration_cast<std::chrono::microseconds>(out - in).count()
                       << " us (detaching took "
                       << std::chrono::duration_cast<std::chrono::microseconds>(out - detach).count() << " us)";
    if (!go_on) break;
  }
}

}  // namespace golens::profiler
