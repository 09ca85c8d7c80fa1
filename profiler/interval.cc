#include "profiler/interval.h"

#include <algorithm>

namespace golens::profiler {

void Interval::AddMapProbe(uint32_t process, uint32_t mapping, uint64_t site, const golens_map_probe& probe) {
  map_probes_[{process, mapping, site}].Add(probe);
}

const MapProbeHistogram* Interval::MapProbes(uint32_t process, uint32_t mapping, uint64_t site) const {
  auto it = map_probes_.find({process, mapping, site});
  return it == map_probes_.end() ? nullptr : &it->second;
}
namespace {

inline void Mix(size_t& h, uint64_t v) {
  h ^= std::hash<uint64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
}

}  // namespace

size_t StackKeyHash::operator()(const StackKey& key) const {
  size_t h = key.attributes;
  Mix(h, key.process);
  for (uint64_t pc : key.user) Mix(h, pc);
  for (uint32_t m : key.user_mapping) Mix(h, m);
  Mix(h, 0x5eed);
  for (uint64_t pc : key.kernel) Mix(h, pc);
  Mix(h, (key.user_truncated ? 1 : 0) | (key.kernel_truncated ? 2 : 0) | (key.kernel_mode ? 4 : 0) |
             (size_t{key.native_cut} << 3));
  return h;
}

uint32_t Interval::MappingIndex(const std::shared_ptr<const MappingRecord>& mapping) {
  // Most frames of a sample fall in the mapping of the frame before.
  if (last_mapping_ == mapping.get()) return last_index_;
  auto it = mapping_index_.find(mapping.get());
  if (it == mapping_index_.end()) {
    it = mapping_index_.emplace(mapping.get(), static_cast<uint32_t>(mappings_.size())).first;
    mappings_.push_back(mapping);
  }
  last_mapping_ = mapping.get();
  last_index_ = it->second;
  return last_index_;
}

uint32_t Interval::CountProcess(const ProcessState& process) {
  uint32_t key = ProcessKey(process);
  ++processes_[key].samples;
  return key;
}

uint32_t Interval::ProcessKey(const ProcessState& process) {
  auto key = std::make_tuple(process.pid(), process.id().start_ticks, process.program_generation());
  auto [it, inserted] = process_index_.emplace(key, processes_.size());
  if (inserted) {
    IntervalProcess p;
    p.id = process.id();
    p.key = static_cast<uint32_t>(processes_.size());
    p.exe_path = process.exe_path();
    if (process.main_binary()) p.go_version = process.main_binary()->binary().go_version();
    if (auto main = process.MainMapping()) p.main_mapping = MappingIndex(main);
    processes_.push_back(std::move(p));
  }
  return processes_[it->second].key;
}

void Interval::PutFirst(const ProcessIdentity& id) {
  std::stable_partition(processes_.begin(), processes_.end(), [&](const IntervalProcess& p) { return p.id == id; });
  // Prefer its last program (after exec) over what it ran before.
  auto end = std::find_if(processes_.begin(), processes_.end(), [&](const IntervalProcess& p) { return !(p.id == id); });
  std::reverse(processes_.begin(), end);
  process_index_.clear();  // indexes moved; the interval is complete when this is called
}

void Interval::Add(StackKey key, uint64_t count) {
  stacks_[std::move(key)] += count;
  total_ += count;
}

}  // namespace golens::profiler
