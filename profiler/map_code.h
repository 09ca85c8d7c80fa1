// The Go map code of one binary, found once per binary (BinaryRecord): which
// functions are map operations (for the map_site attribution), and, for the
// BPF sampler, the PC ranges where the map pointer can be recovered
// (profiler/map_pointer_flow.h) plus the frameless key-hash functions those
// operations call (a sample there finds the pointer through the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpf/abi.h"

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

  bool on() const { return off_reason.empty() && !pcs.empty(); }
  bool IsOperation(uint64_t vaddr) const;
};

// Map code of a Go binary (x86-64 only; other architectures: off).
MapCode AnalyzeMapCode(const symbolizer::Binary& binary, const GoBinaryInfo& info);

}  // namespace golens::profiler
