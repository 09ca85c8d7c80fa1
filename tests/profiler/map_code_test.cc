// Map code analysis on real binaries built by the build with several Go
// releases: where the map pointer is, PC by PC, in runtime.mapaccess1_fast64,
// checked against the machine code itself.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <string>

#include "profiler/binary_record.h"
#include "profiler/map_code.h"
#include "profiler/map_pointer_flow.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

const char* kVersions[] = {"1.21.13", "1.23.12", "1.24.13", "local"};

std::string Describe(const std::vector<MapPointerRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    char line[96];
    std::snprintf(line, sizeof line, "  [%#lx, %#lx) where %d slot %#x\n", static_cast<unsigned long>(r.start),
                  static_cast<unsigned long>(r.end), r.where, r.slot);
    out += line;
  }
  return out;
}

uint8_t WhereAt(const std::vector<MapPointerRange>& ranges, uint64_t pc) {
  for (const auto& r : ranges)
    if (pc >= r.start && pc < r.end) return r.where;
  return GOLENS_MAP_PTR_NONE;
}

struct Insn {
  uint64_t address;
  uint64_t next;
  std::string text;
};

std::vector<Insn> Disassemble(std::span<const uint8_t> code, uint64_t entry) {
  csh handle;
  EXPECT_EQ(cs_open(CS_ARCH_X86, CS_MODE_64, &handle), CS_ERR_OK);
  cs_insn* insns = nullptr;
  size_t n = cs_disasm(handle, code.data(), code.size(), entry, 0, &insns);
  std::vector<Insn> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(Insn{insns[i].address, insns[i].address + insns[i].size,
                       std::string(insns[i].mnemonic) + " " + insns[i].op_str});
  }
  cs_free(insns, n);
  cs_close(&handle);
  return out;
}

TEST(MapPointerFlow, Fast64LookupOfEveryBuiltRelease) {
  for (const char* version : kVersions) {
    SCOPED_TRACE(version);
    auto binary = symbolizer::Binary::Open(std::string(GOLENS_FIXTURES) + "/maps-" + version);
    ASSERT_TRUE(binary.ok()) << binary.error().message;
    auto fn = (*binary)->FindSymbol("runtime.mapaccess1_fast64");
    ASSERT_TRUE(fn.has_value());
    auto code = (*binary)->ReadVaddr(fn->vaddr, fn->size);
    auto ranges = TraceMapPointer(code, fn->vaddr, kMapEntryHome);
    auto insns = Disassemble(code, fn->vaddr);
    SCOPED_TRACE(Describe(ranges));
    // At entry the map is in RBX (the register ABI).
    EXPECT_EQ(WhereAt(ranges, fn->vaddr), GOLENS_MAP_PTR_RBX);
    // Right after the key hash is called (an indirect call through the
    // type's hasher), the map is in its spill slot: RBX was clobbered.
    bool saw_hash_call = false;
    for (size_t i = 0; i < insns.size(); ++i) {
      if (insns[i].text.rfind("call r", 0) != 0) continue;
      saw_hash_call = true;
      EXPECT_EQ(WhereAt(ranges, insns[i].next), GOLENS_MAP_PTR_FRAME) << insns[i].text;
      // And the spill that made it so stores RBX into [rsp + frame + 0x18].
    }
    EXPECT_TRUE(saw_hash_call);
    // At every RET the frame is gone: never the slot there.
    for (const Insn& insn : insns) {
      if (insn.text.rfind("ret", 0) == 0) EXPECT_NE(WhereAt(ranges, insn.address), GOLENS_MAP_PTR_FRAME);
    }
  }
}

TEST(MapCode, TablesOfEveryBuiltRelease) {
  for (const char* version : kVersions) {
    SCOPED_TRACE(version);
    auto binary = symbolizer::Binary::Open(std::string(GOLENS_FIXTURES) + "/maps-" + version);
    ASSERT_TRUE(binary.ok()) << binary.error().message;
    BinaryRegistry registry;
    auto record = registry.Get(*binary);
    const MapCode& code = record->map_code();
    ASSERT_TRUE(code.on()) << code.off_reason;
    EXPECT_EQ(code.pcs_dropped, 0u);
    auto fn = (*binary)->FindSymbol("runtime.mapaccess1_fast64");
    ASSERT_TRUE(fn.has_value());
    EXPECT_TRUE(code.IsOperation(fn->vaddr));
    EXPECT_TRUE(code.IsOperation(fn->vaddr + fn->size - 1));
    auto lookup = (*binary)->FindSymbol("main.lookupFull");
    ASSERT_TRUE(lookup.has_value());
    EXPECT_FALSE(code.IsOperation(lookup->vaddr));
    // The PC table is sorted, in range, and has the hash function as a
    // frameless callee.
    uint64_t last_end = 0;
    bool via_caller = false;
    for (const golens_map_pc& pc : code.pcs) {
      EXPECT_GE(pc.start, last_end);
      last_end = pc.start + pc.len;
      via_caller |= pc.where == GOLENS_MAP_PTR_VIA_CALLER;
    }
    EXPECT_LE(last_end, code.text_end - code.text_start);
    EXPECT_TRUE(via_caller);
    auto hash = (*binary)->FindSymbol("runtime.memhash64");
    ASSERT_TRUE(hash.has_value());
    bool hash_listed = false;
    for (const golens_map_pc& pc : code.pcs) {
      hash_listed |= code.text_start + pc.start == hash->vaddr && pc.where == GOLENS_MAP_PTR_VIA_CALLER;
    }
    EXPECT_TRUE(hash_listed);
  }
}

}  // namespace
}  // namespace golens::profiler
