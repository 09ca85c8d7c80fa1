// The samples of one interval (from one snapshot to the next), aggregated by
// (normalized user stack, kernel stack, attribute set). Frames are raw
// addresses plus the mapping they fell in when drained; the interval holds
// those mappings (and through them the binaries) until it is turned into a
// profile, then lets them go. Memory is bounded by the interval's content.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "profiler/attributes.h"
#include "profiler/map_probe_stats.h"
#include "profiler/process_state.h"

namespace golens::profiler {

inline constexpr uint32_t kNoMapping = UINT32_MAX;

struct StackKey {
  std::vector<uint64_t> user;          // leaf first, raw addresses (return addresses above the leaf)
  std::vector<uint32_t> user_mapping;  // per user frame: index into Interval::mappings(), or kNoMapping
  std::vector<uint64_t> kernel;        // leaf first
  AttributeSetId attributes = 0;
  uint32_t process = 0;  // IntervalProcess::key of the process sampled (profiles per process split on it)
  bool user_truncated = false;    // the stack hit the kernel's depth limit
  bool kernel_truncated = false;
  bool kernel_mode = false;       // user[0] is a syscall resume address, not an executing PC
  uint8_t native_cut = 0;         // NativeCut: why native unwinding ended the user stack early (0: it did not)
  bool operator==(const StackKey&) const = default;
};

struct StackKeyHash {
  size_t operator()(const StackKey& key) const;
};

// A process (one program it ran) that contributed samples to the interval.
struct IntervalProcess {
  ProcessIdentity id;
  std::string exe_path;
  std::string go_version;
  uint32_t main_mapping = kNoMapping;  // index into mappings()
  uint64_t samples = 0;
  uint32_t key = 0;  // stable index (order of first sample): StackKey::process refers to it
};

class Interval {
 public:
  explicit Interval(int64_t start_wall_ns) : start_wall_ns_(start_wall_ns) {}

  // The index of `mapping` in this interval (added on first use).
  uint32_t MappingIndex(const std::shared_ptr<const MappingRecord>& mapping);
  // Counts one sample of `process`; returns its IntervalProcess::key.
  uint32_t CountProcess(const ProcessState& process);
  // The IntervalProcess::key of `process`, without counting a sample (its
  // probed map lookups may come before or without any sample).
  uint32_t ProcessKey(const ProcessState& process);
  void Add(StackKey key, uint64_t count = 1);
  // Deep map mode: one probed lookup of process `process` (a ProcessKey)
  // called from return address `site` in mapping `mapping` (an index from
  // MappingIndex).
  void AddMapProbe(uint32_t process, uint32_t mapping, uint64_t site, const golens_map_probe& probe);
  // The lookups a process probed at a site (a user frame of a stack), or null.
  const MapProbeHistogram* MapProbes(uint32_t process, uint32_t mapping, uint64_t site) const;
  // Every probed site: (process key, mapping, return address) -> lookups.
  using MapProbeKey = std::tuple<uint32_t, uint32_t, uint64_t>;
  const std::map<MapProbeKey, MapProbeHistogram>& map_probes() const { return map_probes_; }
  // Moves the programs of process `pid` (with that start) to the front of
  // processes(): its executable becomes the profile's mapping[0].
  void PutFirst(const ProcessIdentity& id);

  AttributeTable& attributes() { return attributes_; }
  const AttributeTable& attributes() const { return attributes_; }
  const std::unordered_map<StackKey, uint64_t, StackKeyHash>& stacks() const { return stacks_; }
  const std::vector<std::shared_ptr<const MappingRecord>>& mappings() const { return mappings_; }
  const std::vector<IntervalProcess>& processes() const { return processes_; }
  uint64_t total() const { return total_; }
  int64_t start_wall_ns() const { return start_wall_ns_; }
  int64_t end_wall_ns() const { return end_wall_ns_; }
  void set_end_wall_ns(int64_t ns) { end_wall_ns_ = ns; }

 private:
  int64_t start_wall_ns_;
  int64_t end_wall_ns_ = 0;
  AttributeTable attributes_;
  std::unordered_map<StackKey, uint64_t, StackKeyHash> stacks_;
  std::vector<std::shared_ptr<const MappingRecord>> mappings_;
  std::unordered_map<const MappingRecord*, uint32_t> mapping_index_;
  const MappingRecord* last_mapping_ = nullptr;  // the last MappingIndex answer
  uint32_t last_index_ = 0;
  std::vector<IntervalProcess> processes_;
  std::map<MapProbeKey, MapProbeHistogram> map_probes_;
  std::map<std::tuple<pid_t, uint64_t, uint32_t>, size_t> process_index_;  // (pid, start, program generation)
  uint64_t total_ = 0;
};

}  // namespace golens::profiler
