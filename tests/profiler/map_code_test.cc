// Map code analysis on real binaries built by the build with several Go
// releases: where the map pointer is, PC by PC, in runtime.mapaccess1_fast64,
// checked against the machine code itself.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <string>

#include "profiler/attributes.h"
#include "profiler/binary_record.h"
#include "profiler/map_probe_stats.h"
#include "profiler/map_report.h"
#include "profiler/sample_record.h"
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
    // Deep mode probes the fast64 lookup right after its hash call.
    ASSERT_FALSE(code.probe_sites.empty());
    bool fast64_site = false;
    for (const auto& site : code.probe_sites) fast64_site |= site.vaddr > fn->vaddr && site.vaddr < fn->vaddr + fn->size;
    EXPECT_TRUE(fast64_site);
  }
}

golens_map_stats Stats(uint64_t count, uint64_t buckets, uint64_t capacity, uint16_t flags, uint32_t dir_len = 0,
                       uint32_t dir_seen = 0) {
  golens_map_stats st{};
  st.count = count;
  st.buckets = buckets;
  st.capacity = capacity;
  st.flags = flags;
  st.dir_len = dir_len;
  st.dir_seen = dir_seen;
  return st;
}

TEST(MapLoad, PercentOfWhatEachImplementationAllows) {
  EXPECT_EQ(MapLoadPercent(Stats(6656, 1024, 0, 0)), 100);                  // 6.5 per bucket (Go 1.22+)
  EXPECT_EQ(MapLoadPercent(Stats(6657, 2048, 0, 0)), 50);
  EXPECT_EQ(MapLoadPercent(Stats(6144, 1024, 0, GOLENS_MAP_LOAD_6)), 100);  // 6 per bucket (Go <= 1.21)
  EXPECT_EQ(MapLoadPercent(Stats(4, 1, 8, GOLENS_MAP_SWISS)), 50);          // small Swiss map: 8 slots
  EXPECT_EQ(MapLoadPercent(Stats(896, 128, 1024, GOLENS_MAP_SWISS, 1, 1)), 100);  // 7/8 of the slots
  EXPECT_EQ(MapLoadPercent(Stats(897, 256, 2048, GOLENS_MAP_SWISS, 2, 2)), 50);
  // Not every table read: BPF's estimate of the capacity counts the same.
  EXPECT_EQ(MapLoadPercent(Stats(7168, 2048, 16384, GOLENS_MAP_SWISS | GOLENS_MAP_DIR_CUT, 16, 16)), 50);
  EXPECT_EQ(MapLoadPercent(Stats(1, 0, 0, 0)), -1);
}

TEST(MapAttributes, SectionAndSiteBecomeLabels) {
  SampleRecordBuilder b;
  b.User({0x401000, 0x402000, 0x403000});
  golens_map_stats st = Stats(897, 256, 2048, GOLENS_MAP_SWISS, 2, 2);
  b.Section(GOLENS_SECTION_MAP, 0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&st), sizeof(st)));
  auto view = DecodeSample(b.bytes());
  ASSERT_TRUE(view.ok()) << view.error().message;
  AttributeSet set;
  CollectAttributes(*view, AttributeOptions{}, &set, nullptr, 2);
  AttributeTable table;
  const AttributeSet& sorted = table.Get(table.Intern(set));
  auto labels = ToPprofLabels(sorted, [](const Attribute& a, size_t frame, std::vector<pprof::Label>* out) {
    if (a.key == kMapSiteKey && frame == 2) out->push_back(pprof::Label{a.key, "main.f main.go:7", 0, ""});
  });
  std::map<std::string, pprof::Label> by_key;
  for (const auto& l : labels) by_key[l.key] = l;
  EXPECT_EQ(by_key["map_len"].num, 897);
  EXPECT_EQ(by_key["map_buckets"].num, 256);
  EXPECT_EQ(by_key["map_load_pct"].num, 50);
  EXPECT_EQ(by_key["map_load_pct"].num_unit, "percent");
  EXPECT_EQ(by_key["map_site"].str, "main.f main.go:7");
  // No namer (or no name): no map_site label, the rest stays.
  EXPECT_EQ(ToPprofLabels(sorted).size(), 3u);

  AttributeSet off;
  AttributeOptions no_maps;
  no_maps.maps = false;
  CollectAttributes(*view, no_maps, &off, nullptr, 2);
  EXPECT_TRUE(off.empty());
}

TEST(MapReport, SitesSortedByCpuWithDistributions) {
  pprof::Profile p;
  p.sample_types = {{"samples", "count"}, {"cpu", "nanoseconds"}};
  auto sample = [&](int64_t n, std::vector<pprof::Label> labels) {
    p.samples.push_back(pprof::Sample{{}, {n, n * 10000000}, std::move(labels)});
  };
  // Deep mode: the site's distributions on each of its samples.
  MapProbeHistogram h;
  for (uint16_t probes = 1; probes <= 10; ++probes) {
    golens_map_probe probe{};
    probe.probes = probes;
    probe.depth = probes > 8 ? 2 : 1;
    probe.flags = GOLENS_MAP_PROBE_HIT;
    h.Add(probe);
  }
  std::vector<pprof::Label> deep = {{"map_site", "main.a a.go:1", 0, ""}, {"map_len", "", 100, ""}};
  h.AppendLabels(&deep);
  for (int i = 0; i < 10; ++i) sample(1, deep);
  sample(20, {{"map_site", "main.b b.go:2", 0, ""}, {"map_len", "", 7, ""}, {"map_buckets", "", 1, ""},
              {"map_load_pct", "", 87, "percent"}});
  sample(5, {{"map_site", "main.b b.go:2", 0, ""}});  // in map code, no header read
  sample(50, {});                                      // not map code
  auto rows = BuildMapReport(p);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].site, "main.b b.go:2");
  EXPECT_EQ(rows[0].samples, 25);
  EXPECT_EQ(rows[0].labelled, 20);
  EXPECT_EQ(rows[0].cpu_ns, 250000000);
  EXPECT_EQ(rows[0].load_pct.p50, 87);
  EXPECT_TRUE(rows[0].probes.empty());
  EXPECT_EQ(rows[1].probes.weight, 10);
  EXPECT_EQ(rows[1].probes.p50, 5);
  EXPECT_EQ(rows[1].probes.p99, 10);
  EXPECT_EQ(rows[1].probes.max, 10);
  EXPECT_DOUBLE_EQ(rows[1].probes.over5_share, 0.5);
  EXPECT_EQ(rows[1].depth.p50, 1);
  EXPECT_EQ(rows[1].depth.max, 2);
  std::string text = FormatMapReport(rows, 1);
  EXPECT_NE(text.find("main.b b.go:2"), std::string::npos) << text;
  EXPECT_EQ(text.find("main.a"), std::string::npos) << text;
}

}  // namespace
}  // namespace golens::profiler
