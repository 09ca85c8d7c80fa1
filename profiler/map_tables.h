// The session's side of map statistics: one BPF PC table per program
// (shared by every process running it, so forked children that BPF makes
// targets on its own find it too), ids handed out here, and the map fields
// of a target's golens_proc_info.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "profiler/binary_record.h"
#include "profiler/bpf_sampler.h"
#include "profiler/map_probe_cycler.h"
#include "profiler/process_state.h"

namespace golens::profiler {

enum class MapsMode { kOff, kSampled, kDeep };

class MapTables {
 public:
  // Tables stay at most this many programs: BPF's map_pcs has 256 slots.
  static constexpr size_t kMaxTables = 256;
  // `deep`: deep mode's duty cycle, null in sampled mode.
  MapTables(BpfSampler* sampler, MapProbeCycler* deep) : sampler_(sampler), deep_(deep) {}

  // Fills the map fields of `info` (and GOLENS_PROC_MAPS) for a process
  // running `binary`. `process` gives its mappings (PIE load address); null
  // before its exec, when only a non-PIE program can be placed. Warns once
  // per program when a Go program's map code cannot be used (a program with
  // Go features off is already reported by the command).
  // `probe_path` is where deep mode's probes attach (/proc/PID/exe).
  void Fill(const std::shared_ptr<BinaryRecord>& binary, const ProcessState* process, const std::string& exe,
            const std::string& probe_path, golens_proc_info* info);

 private:
  struct Table {
    std::weak_ptr<BinaryRecord> binary;  // the table goes when the program is forgotten
    uint32_t id = 0;                     // 0: no table (map code off or not loadable)
  };
  uint32_t TableFor(const std::shared_ptr<BinaryRecord>& binary, const std::string& exe);

  BpfSampler* sampler_;
  MapProbeCycler* deep_;
  std::mutex mu_;
  std::map<uint64_t, Table> tables_;  // by BinaryRecord::cache_key()
  std::vector<uint32_t> free_ids_;
  std::set<uint64_t> no_probe_sites_warned_;  // programs told deep mode has nothing to probe
  uint32_t next_id_ = 1;
};

}  // namespace golens::profiler
