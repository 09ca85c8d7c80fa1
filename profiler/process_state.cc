#include "profiler/process_state.h"

#include <algorithm>

namespace golens::profiler {

std::optional<uint64_t> MappingRecord::Vaddr(uint64_t address) const {
  if (!binary || !Contains(address)) return std::nullopt;
  return binary->binary().FileOffsetToVaddr(address - start + file_offset);
}

std::shared_ptr<const MappingRecord> MakeMappingRecord(const symbolizer::Mapping& m,
                                                       std::shared_ptr<BinaryRecord> binary) {
  auto record = std::make_shared<MappingRecord>();
  record->start = m.start;
  record->end = m.end;
  record->file_offset = m.file_offset;
  record->inode = m.inode;
  record->dev = m.dev;
  record->path = m.path;
  record->binary = std::move(binary);
  return record;
}

const std::shared_ptr<const MappingRecord>* ProcessState::Find(uint64_t address) const {
  if (last_found_ < mappings_.size() && mappings_[last_found_]->Contains(address)) return &mappings_[last_found_];
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                             [](uint64_t a, const std::shared_ptr<const MappingRecord>& m) { return a < m->start; });
  if (it == mappings_.begin()) return nullptr;
  --it;
  if (!(*it)->Contains(address)) return nullptr;
  last_found_ = static_cast<size_t>(it - mappings_.begin());
  return &*it;
}

std::shared_ptr<const MappingRecord> ProcessState::MainMapping() const {
  for (const auto& m : mappings_) {
    if (m->path == exe_path_ || (main_binary_ && m->binary == main_binary_)) return m;
  }
  return nullptr;
}

void ProcessState::SetProgram(std::string exe_path, std::shared_ptr<BinaryRecord> main_binary) {
  exe_path_ = std::move(exe_path);
  main_binary_ = std::move(main_binary);
  ++program_generation_;
}

void ProcessState::SetMappings(std::vector<std::shared_ptr<const MappingRecord>> mappings) {
  std::sort(mappings.begin(), mappings.end(), [](const auto& a, const auto& b) { return a->start < b->start; });
  mappings_ = std::move(mappings);
}

void ProcessState::Unmap(uint64_t addr, uint64_t len) {
  uint64_t end = len > UINT64_MAX - addr ? UINT64_MAX : addr + len;
  std::erase_if(mappings_, [&](const auto& m) { return m->start < end && addr < m->end; });
  stale = true;
}

}  // namespace golens::profiler
