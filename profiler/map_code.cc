#include "profiler/map_code.h"

#include <capstone/capstone.h>

#include <algorithm>

#include "profiler/function_frame.h"
#include "profiler/go_binary_info.h"
#include "profiler/go_offsets.h"
#include "profiler/map_pointer_flow.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

// Functions larger than this are not map code we can reason about.
constexpr uint64_t kMaxFunctionBytes = 1 << 14;

// Prefixes of map operations (go-runtime.md 5.3; Go 1.24+ keeps the
// runtime.* names through linkname, the helpers are internal/runtime/maps.*).
constexpr const char* kOperationPrefixes[] = {"runtime.mapaccess", "runtime.mapassign", "runtime.mapdelete",
                                              "runtime.mapclear", "internal/runtime/maps."};
// The key hash functions map operations call through the type's hasher
// (runtime/alg.go, asm_amd64.s): assembly without a frame, so RBP stays the
// calling operation's and [RSP] is the return address into it.
constexpr const char* kHashPrefixes[] = {"runtime.memhash", "runtime.strhash", "aeshashbody", "runtime.aeshash"};

// Lookups deep mode walks: their keys are compared as plain integers.
struct FastLookup {
  const char* name;
  uint32_t key_size;
};
constexpr FastLookup kFastLookups[] = {{"runtime.mapaccess1_fast64", 8}, {"runtime.mapaccess2_fast64", 8},
                                       {"runtime.mapaccess1_fast32", 4}, {"runtime.mapaccess2_fast32", 4}};

}  // namespace

std::optional<uint64_t> FindHashReturnSite(std::span<const uint8_t> code, uint64_t entry,
                                           const std::vector<MapPointerRange>& ranges) {
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return std::nullopt;
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insns = nullptr;
  size_t n = cs_disasm(handle, code.data(), code.size(), entry, 0, &insns);
  std::optional<uint64_t> site;
  int indirect_calls = 0;
  for (size_t i = 0; i < n; ++i) {
    const cs_x86& x86 = insns[i].detail->x86;
    if (insns[i].id != X86_INS_CALL || x86.op_count != 1 || x86.operands[0].type != X86_OP_REG) continue;
    ++indirect_calls;
    site = insns[i].address + insns[i].size;
  }
  if (insns) cs_free(insns, n);
  cs_close(&handle);
  // Exactly one hasher call, and the pointer spilled where it returns.
  if (indirect_calls != 1) return std::nullopt;
  for (const MapPointerRange& r : ranges) {
    if (*site >= r.start && *site < r.end) {
      return r.where == GOLENS_MAP_PTR_FRAME && r.slot == 0x18 ? site : std::nullopt;
    }
  }
  return std::nullopt;
}

bool MapCode::IsOperation(uint64_t vaddr) const {
  auto it = std::upper_bound(operations.begin(), operations.end(), vaddr,
                             [](uint64_t v, const std::pair<uint64_t, uint64_t>& r) { return v < r.first; });
  if (it == operations.begin()) return false;
  --it;
  return vaddr >= it->first && vaddr < it->second;
}

MapCode AnalyzeMapCode(const symbolizer::Binary& binary, const GoBinaryInfo& info) {
  MapCode code;
  if (!info.go_features_on()) {
    code.off_reason = info.go_features_off_reason.empty() ? "Go features are off" : info.go_features_off_reason;
    return code;
  }
  if (!info.offsets_exact) {
    code.off_reason = info.go_version + " is newer than golens's tables";
    return code;
  }
  std::optional<GoVersion> version = ParseGoVersion(info.go_version);
  // Register arguments (the pointer in RBX/RAX) from Go 1.17 on amd64; the
  // header layouts are known through Go 1.27 (go-runtime.md 5.1, 5.2).
  if (!version || *version < GoVersion{1, 17, 0} || GoVersion{1, 27, 0} < *version) {
    code.off_reason = "map statistics need Go 1.17 to 1.27 (this is " +
                      (info.go_version.empty() ? std::string("an unknown release") : info.go_version) + ")";
    return code;
  }

  struct Traced {
    uint64_t vaddr;
    std::vector<MapPointerRange> ranges;
  };
  std::vector<MapPointerRange> all;
  for (const char* prefix : kOperationPrefixes) {
    for (const symbolizer::Symbol& fn : binary.FindSymbolsWithPrefix(prefix)) {
      if (fn.size == 0 || fn.size > kMaxFunctionBytes) continue;
      code.operations.emplace_back(fn.vaddr, fn.vaddr + fn.size);
      std::optional<MapPointerHome> home;
      if (fn.name.starts_with("runtime.map")) home = kMapEntryHome;
      if (fn.name.starts_with("internal/runtime/maps.(*Map).")) home = kMapMethodHome;
      if (!home) continue;
      std::span<const uint8_t> bytes = binary.ReadVaddr(fn.vaddr, fn.size);
      if (bytes.size() != fn.size) continue;
      std::vector<MapPointerRange> ranges = TraceMapPointer(bytes, fn.vaddr, *home);
      if (!ranges.empty()) ++code.traced_functions;
      // Deep mode reads the map type's group layout as of Go 1.24-1.26 (1.27
      // changed it) and the bucket layout before.
      for (const FastLookup& fast : kFastLookups) {
        if (fn.name != fast.name || GoVersion{1, 26, 99} < *version) continue;
        if (auto site = FindHashReturnSite(bytes, fn.vaddr, ranges)) {
          code.probe_sites.push_back(MapCode::ProbeSite{*site, fast.key_size});
        }
      }
      all.insert(all.end(), ranges.begin(), ranges.end());
    }
  }
  for (const char* prefix : kHashPrefixes) {
    for (const symbolizer::Symbol& fn : binary.FindSymbolsWithPrefix(prefix)) {
      if (fn.size == 0 || fn.size > kMaxFunctionBytes) continue;
      std::span<const uint8_t> bytes = binary.ReadVaddr(fn.vaddr, fn.size);
      if (bytes.size() != fn.size) continue;
      if (!AnalyzeFunctionFrame(bytes.data(), bytes.size(), fn.vaddr).frameless) continue;
      all.push_back(MapPointerRange{fn.vaddr, fn.vaddr + fn.size, GOLENS_MAP_PTR_VIA_CALLER, 0});
    }
  }
  std::sort(code.operations.begin(), code.operations.end());
  std::sort(all.begin(), all.end(), [](const MapPointerRange& a, const MapPointerRange& b) { return a.start < b.start; });
  // Overlaps only come from one symbol listed twice (an alias): keep the first.
  std::vector<MapPointerRange> ranges;
  for (const MapPointerRange& r : all) {
    if (!ranges.empty() && r.start < ranges.back().end) continue;
    ranges.push_back(r);
  }
  if (ranges.empty()) {
    code.off_reason = "no map operations found in the binary";
    return code;
  }
  if (ranges.size() > GOLENS_MAX_MAP_PCS) {
    code.pcs_dropped = ranges.size() - GOLENS_MAX_MAP_PCS;
    ranges.resize(GOLENS_MAX_MAP_PCS);
  }
  code.text_start = ranges.front().start;
  code.text_end = ranges.back().end;
  if (code.text_end - code.text_start > UINT32_MAX) {
    code.off_reason = "map code spread over more than 4 GiB";
    return code;
  }
  for (const MapPointerRange& r : ranges) {
    if (r.end - r.start > UINT16_MAX) continue;
    golens_map_pc pc{};
    pc.start = static_cast<uint32_t>(r.start - code.text_start);
    pc.len = static_cast<uint16_t>(r.end - r.start);
    pc.where = r.where;
    pc.slot = r.slot;
    code.pcs.push_back(pc);
  }
  return code;
}

}  // namespace golens::profiler
