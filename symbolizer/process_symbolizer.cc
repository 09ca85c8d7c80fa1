// ProcessSymbolizer: per-PID maps snapshot over shared, cached binaries.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

bool SameMapping(const Mapping& a, const Mapping& b) {
  return a.start == b.start && a.end == b.end && a.file_offset == b.file_offset && a.inode == b.inode &&
         a.dev == b.dev && a.path == b.path;
}

std::string AddressError(const char* what, uint64_t address) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s 0x%" PRIx64, what, address);
  return buf;
}

}  // namespace

Result<std::unique_ptr<ProcessSymbolizer>> ProcessSymbolizer::Create(pid_t pid, BinaryCache* cache) {
  auto maps = ReadProcessMappings(pid);
  if (!maps.ok()) return maps.error();
  return std::make_unique<ProcessSymbolizer>(pid, std::move(maps).value(), cache);
}

ProcessSymbolizer::ProcessSymbolizer(pid_t pid, std::vector<Mapping> mappings, BinaryCache* cache)
    : pid_(pid), mappings_(std::move(mappings)), cache_(cache) {
  std::sort(mappings_.begin(), mappings_.end(), [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
  binaries_.resize(mappings_.size());
  binary_tried_.assign(mappings_.size(), false);
  binary_errors_.resize(mappings_.size());
}

std::shared_ptr<const Binary> ProcessSymbolizer::BinaryFor(size_t mapping_index) {
  return LoadBinary(mapping_index);
}

std::shared_ptr<const Binary> ProcessSymbolizer::LoadBinary(size_t i) const {
  if (i >= mappings_.size()) return nullptr;
  if (!binary_tried_[i]) {
    binary_tried_[i] = true;
    const Mapping& m = mappings_[i];
    // Mappings of the same file share one Binary; reuse a sibling's.
    for (size_t j = 0; j < mappings_.size(); ++j) {
      if (j != i && binaries_[j] && mappings_[j].inode == m.inode && mappings_[j].dev == m.dev &&
          mappings_[j].path == m.path) {
        binaries_[i] = binaries_[j];
        return binaries_[i];
      }
    }
    if (cache_ == nullptr) {
      binary_errors_[i] = "no binary cache";
    } else if (m.path.empty() || (m.path[0] != '/' && m.path != "[vdso]")) {
      binary_errors_[i] = m.path.empty() ? "anonymous mapping" : m.path + " is not a file";
    } else {
      auto b = cache_->GetForMapping(pid_, m);
      if (b.ok())
        binaries_[i] = std::move(b).value();
      else
        binary_errors_[i] = b.error().message;
    }
  }
  return binaries_[i];
}

std::optional<size_t> ProcessSymbolizer::MappingIndex(uint64_t address) const {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), address,
                             [](uint64_t a, const Mapping& m) { return a < m.start; });
  if (it == mappings_.begin()) return std::nullopt;
  --it;
  if (address >= it->end) return std::nullopt;
  return static_cast<size_t>(it - mappings_.begin());
}

std::optional<ProcessSymbolizer::Normalized> ProcessSymbolizer::Normalize(uint64_t address) const {
  auto index = MappingIndex(address);
  if (!index) return std::nullopt;
  const Mapping& m = mappings_[*index];
  Normalized n;
  n.mapping_index = *index;
  n.file_offset = address - m.start + m.file_offset;
  if (auto binary = LoadBinary(*index)) n.vaddr = binary->FileOffsetToVaddr(n.file_offset).value_or(0);
  return n;
}

std::vector<SymbolizedAddress> ProcessSymbolizer::Symbolize(std::span<const uint64_t> addresses) {
  std::vector<SymbolizedAddress> results(addresses.size());
  // Group by mapping so each binary gets one sorted batch.
  std::vector<std::pair<size_t, uint32_t>> by_mapping;  // (mapping, input index)
  by_mapping.reserve(addresses.size());
  for (uint32_t i = 0; i < addresses.size(); ++i) {
    auto index = MappingIndex(addresses[i]);
    if (!index) {
      results[i].error = AddressError("no mapping contains", addresses[i]);
      continue;
    }
    by_mapping.emplace_back(*index, i);
  }
  std::sort(by_mapping.begin(), by_mapping.end());
  std::vector<uint64_t> vaddrs;
  std::vector<uint32_t> slots;
  for (size_t k = 0; k < by_mapping.size();) {
    const size_t mi = by_mapping[k].first;
    size_t end = k;
    while (end < by_mapping.size() && by_mapping[end].first == mi) ++end;
    const Mapping& m = mappings_[mi];
    auto binary = LoadBinary(mi);
    vaddrs.clear();
    slots.clear();
    for (size_t j = k; j < end; ++j) {
      uint32_t i = by_mapping[j].second;
      if (!binary) {
        results[i].error = binary_errors_[mi];
        continue;
      }
      auto vaddr = binary->FileOffsetToVaddr(addresses[i] - m.start + m.file_offset);
      if (!vaddr) {
        results[i].error = AddressError("no PT_LOAD covers", addresses[i]);
        continue;
      }
      vaddrs.push_back(*vaddr);
      slots.push_back(i);
    }
    if (!vaddrs.empty()) {
      auto batch = binary->Symbolize(vaddrs);
      for (size_t j = 0; j < slots.size(); ++j) results[slots[j]] = std::move(batch[j]);
    }
    k = end;
  }
  return results;
}

Result<void> ProcessSymbolizer::Refresh() {
  auto maps = ReadProcessMappings(pid_);
  if (!maps.ok()) return maps.error();
  // A zombie (exited, not yet reaped) has no address space: its maps read as
  // empty. Keep the last snapshot so its samples still symbolize.
  if (maps->empty()) {
    return MakeError("/proc/" + std::to_string(pid_) + "/maps is empty (process exited); keeping the last snapshot");
  }
  std::vector<Mapping> fresh = std::move(maps).value();
  std::sort(fresh.begin(), fresh.end(), [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
  std::vector<std::shared_ptr<const Binary>> binaries(fresh.size());
  std::vector<bool> tried(fresh.size(), false);
  std::vector<std::string> errors(fresh.size());
  for (size_t i = 0; i < fresh.size(); ++i) {
    auto old = MappingIndex(fresh[i].start);
    if (old && SameMapping(mappings_[*old], fresh[i])) {
      binaries[i] = binaries_[*old];
      tried[i] = binary_tried_[*old];
      errors[i] = binary_errors_[*old];
    }
  }
  mappings_ = std::move(fresh);
  binaries_ = std::move(binaries);
  binary_tried_ = std::move(tried);
  binary_errors_ = std::move(errors);
  return Ok();
}

}  // namespace golens::symbolizer
