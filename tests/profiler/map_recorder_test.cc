// Map statistics through the recording core without BPF or root: samples
// and deep-mode probe records encoded as BPF writes them, for a process
// running the maps fixture (Go 1.26, non-PIE: its text at 0x400000) described
// by a fake /proc, through the Recorder (map_site attribution) and
// BuildCpuProfile (labels).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/cpu_profile.h"
#include "profiler/recorder.h"
#include "profiler/sample_record.h"

namespace golens::profiler {
namespace {

const std::string kProgram = std::string(GOLENS_FIXTURES) + "/maps-local";

class OneProcess : public ProcessSource {
 public:
  OneProcess(pid_t pid, uint64_t start) : pid_(pid), start_(start) {}
  Result<std::string> ExePath(pid_t pid) override {
    if (pid != pid_) return ErrnoError("pid", ESRCH);
    return kProgram;
  }
  Result<uint64_t> StartTicks(pid_t pid) override {
    if (pid != pid_) return ErrnoError("pid", ESRCH);
    return start_;
  }
  Result<std::vector<symbolizer::Mapping>> Mappings(pid_t) override {
    symbolizer::Mapping text;
    text.start = 0x400000;
    text.end = 0x600000;
    text.perms = "r-xp";
    text.inode = 1;
    text.dev = "00:01";
    text.path = kProgram;
    return std::vector<symbolizer::Mapping>{text};
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenBinary(pid_t, const symbolizer::Mapping& m) override {
    return symbolizer::Binary::Open(m.path);
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenPath(const std::string& path) override {
    return symbolizer::Binary::Open(path);
  }
  bool Alive(pid_t pid, uint64_t start) override { return pid == pid_ && start == start_; }

 private:
  pid_t pid_;
  uint64_t start_;
};

uint64_t StartNanos(uint64_t ticks) { return ticks * (1000000000ull / ClockTicksPerSecond()); }

const pprof::Label* Find(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels)
    if (l.key == key) return &l;
  return nullptr;
}

TEST(MapRecorder, SiteStatisticsAndProbesBecomeLabels) {
  auto binary = symbolizer::Binary::Open(kProgram);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  auto fn = [&](const char* name) {
    auto sym = (*binary)->FindSymbol(name);
    EXPECT_TRUE(sym.has_value()) << name;
    return sym ? sym->vaddr : 0;
  };
  const uint64_t lookup = fn("runtime.mapaccess1_fast64"), hash = fn("runtime.memhash64");
  const uint64_t full = fn("main.lookupFull"), grown = fn("main.lookupGrown"), main_fn = fn("main.main");
  ASSERT_TRUE(lookup && hash && full && grown && main_fn);

  OneProcess proc(100, 5000);
  BinaryRegistry binaries;
  RecorderOptions options;
  options.keep_map_probes = true;
  Recorder r(options, &proc, &binaries);
  ASSERT_TRUE(r.Attach(100, false).ok());
  auto sample = [&](std::vector<uint64_t> user, const golens_map_stats* st) {
    SampleRecordBuilder b;
    b.head().tgid = 100;
    b.head().tid = 100;
    b.head().start_ns = StartNanos(5000);
    b.User(std::move(user));
    if (st) b.Section(GOLENS_SECTION_MAP, 0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(st), sizeof(*st)));
    r.OnRecord(b.bytes());
  };
  golens_map_stats st{};
  st.count = 896;
  st.buckets = 128;
  st.capacity = 1024;
  st.dir_len = 1;
  st.flags = GOLENS_MAP_SWISS;
  const uint64_t site_full = full + 0x30, site_grown = grown + 0x30;
  for (int i = 0; i < 3; ++i) sample({lookup + 0x40, site_full, main_fn + 0x10}, &st);  // in the lookup
  sample({hash + 4, lookup + 0x80, site_grown, main_fn + 0x10}, nullptr);            // in its hash
  sample({full + 0x20, main_fn + 0x10}, nullptr);                                      // not map code
  // Two probed lookups called from lookupFull.
  for (uint16_t probes : {1, 3}) {
    golens_map_probe p{};
    p.header = {GOLENS_RECORD_MAP_PROBE, GOLENS_ABI_VERSION, sizeof(p)};
    p.tgid = 100;
    p.start_ns = StartNanos(5000);
    p.site = site_full;
    p.probes = probes;
    p.depth = 1;
    p.flags = GOLENS_MAP_PROBE_HIT | GOLENS_MAP_PROBE_SWISS;
    r.OnRecord({reinterpret_cast<const uint8_t*>(&p), sizeof(p)});
  }
  EXPECT_EQ(r.stats().map_samples, 4u);
  EXPECT_EQ(r.stats().map_probes, 2u);
  EXPECT_EQ(r.TakeMapProbes().size(), 2u);

  pprof::Profile profile = BuildCpuProfile(*r.TakeInterval(WallClockNanos()), {});
  std::map<std::string, int64_t> by_site;
  for (const auto& s : profile.samples) {
    const pprof::Label* site = Find(s, "map_site");
    by_site[site ? site->str.substr(0, site->str.find(' ')) : ""] += s.values[0];
    if (site && site->str.starts_with("main.lookupFull ")) {
      EXPECT_NE(site->str.find("main.go:"), std::string::npos) << site->str;
      ASSERT_NE(Find(s, "map_len"), nullptr);
      EXPECT_EQ(Find(s, "map_len")->num, 896);
      EXPECT_EQ(Find(s, "map_load_pct")->num, 100);
      ASSERT_NE(Find(s, "map_probed"), nullptr);
      EXPECT_EQ(Find(s, "map_probed")->num, 2);
      EXPECT_EQ(Find(s, "map_probes_max")->num, 3);
    }
    if (site && site->str.starts_with("main.lookupGrown ")) {
      EXPECT_EQ(Find(s, "map_len"), nullptr);  // no header read for it
      EXPECT_EQ(Find(s, "map_probed"), nullptr);
    }
  }
  EXPECT_EQ(by_site["main.lookupFull"], 3);
  EXPECT_EQ(by_site["main.lookupGrown"], 1);  // through the hash function below the lookup
  EXPECT_EQ(by_site[""], 1);

  // --maps off: nothing of the above.
  RecorderOptions off;
  off.attributes.maps = false;
  Recorder r2(off, &proc, &binaries);
  ASSERT_TRUE(r2.Attach(100, false).ok());
  SampleRecordBuilder b;
  b.head().tgid = 100;
  b.head().start_ns = StartNanos(5000);
  b.User({lookup + 0x40, site_full});
  r2.OnRecord(b.bytes());
  pprof::Profile p2 = BuildCpuProfile(*r2.TakeInterval(WallClockNanos()), {});
  ASSERT_EQ(p2.samples.size(), 1u);
  EXPECT_TRUE(p2.samples[0].labels.empty());
}

}  // namespace
}  // namespace golens::profiler
