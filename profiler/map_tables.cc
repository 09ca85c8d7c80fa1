#include "profiler/map_tables.h"

#include "profiler/base/log.h"

namespace golens::profiler {

uint32_t MapTables::TableFor(const std::shared_ptr<BinaryRecord>& binary, const std::string& exe) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = tables_.begin(); it != tables_.end();) {
    if (it->second.binary.expired()) {
      if (it->second.id != 0) {
        sampler_->RemoveMapTable(it->second.id);
        free_ids_.push_back(it->second.id);
      }
      it = tables_.erase(it);
    } else {
      ++it;
    }
  }
  auto found = tables_.find(binary->cache_key());
  if (found != tables_.end()) return found->second.id;

  Table table;
  table.binary = binary;
  const MapCode& code = binary->map_code();
  if (!code.on()) {
    // A program with Go features off or newer than the tables is reported
    // once by the command already (with map statistics named there).
    if (binary->go_info().go_features_on() && binary->go_info().offsets_exact) {
      GOLENS_LOG(kWarn) << exe << ": map statistics are off (" << code.off_reason << ")";
    }
  } else if (free_ids_.empty() && next_id_ > kMaxTables) {
    GOLENS_LOG(kWarn) << exe << ": map statistics are off (more than " << kMaxTables << " programs)";
  } else {
    uint32_t id = next_id_;
    if (free_ids_.empty()) {
      ++next_id_;
    } else {
      id = free_ids_.back();
      free_ids_.pop_back();
    }
    auto pcs = std::make_unique<golens_map_pcs>();
    *pcs = {};
    pcs->count = static_cast<uint32_t>(code.pcs.size());
    for (size_t i = 0; i < code.pcs.size(); ++i) pcs->pcs[i] = code.pcs[i];
    if (auto set = sampler_->SetMapTable(id, *pcs); set.ok()) {
      table.id = id;
      GOLENS_LOG(kDebug) << exe << ": map statistics from " << code.traced_functions << " map functions, "
                         << code.pcs.size() << " PC ranges";
    } else {
      free_ids_.push_back(id);
      GOLENS_LOG(kWarn) << exe << ": map statistics are off (" << set.error().message << ")";
    }
  }
  tables_.emplace(binary->cache_key(), table);
  return table.id;
}

void MapTables::Fill(const std::shared_ptr<BinaryRecord>& binary, const ProcessState* process, const std::string& exe,
                     const std::string& probe_path, golens_proc_info* info) {
  if (!binary || !(info->flags & GOLENS_PROC_GO)) return;
  const MapCode& code = binary->map_code();
  if (!code.on()) {
    (void)TableFor(binary, exe);  // for its one warning
    return;
  }
  // Where the program's map code is in this process: ELF addresses for a
  // non-PIE executable; a PIE one through the mapping that holds it.
  uint64_t start = code.text_start;
  if (binary->binary().is_pie()) {
    if (!process) return;  // placed at its exec (OnProgram)
    bool placed = false;
    for (const auto& m : process->mappings()) {
      if (m->binary != binary) continue;
      std::optional<uint64_t> vaddr = m->Vaddr(m->start);
      if (!vaddr || code.text_start < *vaddr || code.text_start - *vaddr >= m->end - m->start) continue;
      start = m->start + (code.text_start - *vaddr);
      placed = true;
      break;
    }
    if (!placed) return;
  }
  uint32_t id = TableFor(binary, exe);
  if (id == 0) return;
  info->map_text_start = start;
  info->map_text_len = static_cast<uint32_t>(code.text_end - code.text_start);
  info->map_table = id;
  info->flags |= GOLENS_PROC_MAPS;
  if (deep_ && !code.probe_sites.empty()) {
    deep_->Add(binary, probe_path, exe);
    info->flags |= GOLENS_PROC_MAPS_DEEP;
  } else if (deep_) {
    std::lock_guard<std::mutex> lock(mu_);
    if (no_probe_sites_warned_.insert(binary->cache_key()).second) {
      GOLENS_LOG(kWarn) << exe << ": --maps deep has no lookups to probe (no fast32/fast64 lookups, or Go newer "
                               "than 1.26); sampled statistics only";
    }
  }
}

}  // namespace golens::profiler
