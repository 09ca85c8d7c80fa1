// The Go map code of one binary, found once per binary (BinaryRecord): which
// functions are map operations (for the map_site attribution), and, for the
// BPF sampler, the PC ranges where the map pointer can be recovered
// (profiler/map_pointer_flow.h) plus the frameless key-hash functions those
// operations call (a sample there finds the pointer through the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "profiler/map_pointer_flow.h"

namespace golens::symbolizer {
class Binary;
}

namespace golens::profiler {

struct GoBinaryInfo;

struct MapCode {
  // Empty when map features are off for the binary (off_reason says why).
  std::string off_reason;
  // Map operations: runtime.mapaccess*/mapassign*/mapdelete*/mapclear and
  // internal/runtime/maps.*, as [start, end) vaddr ranges sorted by start.
  std::vector<std::pair<uint64_t, uint64_t>> operations;
  // For BPF: PC ranges relative to text_start, sorted, at most
  // GOLENS_MAX_MAP_PCS (the rest dropped, counted in pcs_dropped).
  uint64_t text_start = 0;  // vaddr
  uint64_t text_end = 0;    // vaddr, exclusive
  std::vector<golens_map_pc> pcs;
  size_t pcs_dropped = 0;
  size_t traced_functions = 0;

  // Deep mode: in runtime.mapaccess{1,2}_fast{32,64}, the instruction right
  // after the key hash returns (RAX = hash, map/type/key spilled), as vaddrs
  // with the key size. Empty where the layouts are not known (Go > 1.26).
  struct ProbeSite {
    uint64_t vaddr = 0;
    uint32_t key_size = 8;
  };
  std::vector<ProbeSite> probe_sites;

  bool on() const { return off_reason.empty() && !pcs.empty(); }
  bool IsOperation(uint64_t vaddr) const;
};

// Map code of a Go binary (x86-64 only; other architectures: off).
MapCode AnalyzeMapCode(const symbolizer::Binary& binary, const GoBinaryInfo& info);

// The deep-mode probe site of one fast lookup function (its code at
// `entry`): the instruction after its one indirect call (the hasher) when
// the map pointer is in its spill slot there. nullopt otherwise.
std::optional<uint64_t> FindHashReturnSite(std::span<const uint8_t> code, uint64_t entry,
                                           const std::vector<MapPointerRange>& ranges);

}  // namespace golens::profiler
