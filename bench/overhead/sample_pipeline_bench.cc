// The user-space side of `golens record`, per sample, through the recording
// core (profiler/recorder.h): the drain path (decode a ring buffer record,
// find the (pid, start) process, normalize every frame against its mappings,
// restore a frameless leaf's caller, collect attributes, aggregate into the
// interval), and the snapshot (TakeInterval + BuildCpuProfile: symbolization
// through a FrameCache, pprof assembly). Records are encoded exactly as BPF
// writes them (SampleRecordBuilder); the process is this benchmark itself,
// through the real /proc (ProcfsSource), and the stacks are real code
// addresses of this binary, so the symbolizer and Capstone see real input.
//
//   build/bench/overhead/sample_pipeline_bench [--benchmark_min_time=0.3]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "profiler/binary_record.h"
#include "profiler/cpu_profile.h"
#include "profiler/frame_cache.h"
#include "profiler/process_source.h"
#include "profiler/recorder.h"
#include "profiler/sample_record.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

// Functions whose addresses make up the synthetic stacks.
#define GOLENS_BENCH_FN(n) \
  __attribute__((noinline)) int BenchFrame##n(int x) { return x * (n + 3) + (x >> 2); }
GOLENS_BENCH_FN(0) GOLENS_BENCH_FN(1) GOLENS_BENCH_FN(2) GOLENS_BENCH_FN(3) GOLENS_BENCH_FN(4)
GOLENS_BENCH_FN(5) GOLENS_BENCH_FN(6) GOLENS_BENCH_FN(7) GOLENS_BENCH_FN(8) GOLENS_BENCH_FN(9)

std::vector<uint64_t> CodeAddresses() {
  std::vector<uint64_t> a;
  for (auto fn : {BenchFrame0, BenchFrame1, BenchFrame2, BenchFrame3, BenchFrame4, BenchFrame5,
                  BenchFrame6, BenchFrame7, BenchFrame8, BenchFrame9}) {
    a.push_back(reinterpret_cast<uint64_t>(fn) + 4);
  }
  return a;
}

// `n` return addresses spread over this binary's own functions (golens
// code, from its symbol table, at their runtime addresses), for snapshots
// whose symbolization is not a handful of repeated lookups.
std::vector<uint64_t> WideCodeAddresses(size_t n) {
  std::vector<uint64_t> out = CodeAddresses();
  auto self = symbolizer::Binary::Open("/proc/self/exe");
  if (!self.ok()) return out;
  auto anchor = (*self)->FindSymbolsWithPrefix("_ZN6golens8profiler12_GLOBAL__N_111BenchFrame0");
  if (anchor.empty()) return out;
  const uint64_t bias = reinterpret_cast<uint64_t>(BenchFrame0) - anchor[0].vaddr;
  for (const auto& sym : (*self)->FindSymbolsWithPrefix("_ZN6golens")) {
    if (out.size() >= n) break;
    if (sym.size >= 16) out.push_back(sym.vaddr + bias + sym.size / 2);
  }
  return out;
}

// Encoded sample records (8-byte aligned, as in the ring buffer).
struct Records {
  std::vector<std::vector<uint64_t>> storage;
  size_t distinct = 0;  // distinct user stacks among them
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& r : storage) f(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.data()), r.size() * 8));
  }
};

// `count` samples of this process cycling through `distinct` stacks of
// `depth` frames (return addresses of this binary; the leaf fix-up sees a
// valid user SP whose word is another return address).
Records MakeRecords(size_t count, size_t distinct, int depth, size_t code_addresses = 10) {
  const std::vector<uint64_t> code = code_addresses > 10 ? WideCodeAddresses(code_addresses) : CodeAddresses();
  const pid_t pid = getpid();
  ProcfsSource procfs;
  auto ticks = procfs.StartTicks(pid);
  const uint64_t start_ns = ticks.ok() ? *ticks * (1000000000ull / ClockTicksPerSecond()) : 0;
  Records out;
  std::set<std::vector<uint64_t>> unique;
  for (size_t i = 0; i < count; ++i) {
    std::mt19937_64 stack_rng(i % distinct);
    std::vector<uint64_t> user(static_cast<size_t>(depth));
    for (auto& frame : user) frame = code[stack_rng() % code.size()] + 1;
    unique.insert(user);
    SampleRecordBuilder b;
    b.head().tgid = static_cast<uint32_t>(pid);
    b.head().tid = static_cast<uint32_t>(pid);
    b.head().start_ns = start_ns;
    b.head().flags = GOLENS_SAMPLE_USER_SP_VALID;
    b.head().user_sp_words[0] = code[0] + 1;
    b.User(std::move(user));
    std::span<const uint8_t> bytes = b.bytes();
    std::vector<uint64_t> aligned(bytes.size() / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    out.storage.push_back(std::move(aligned));
  }
  out.distinct = unique.size();
  return out;
}

// One recorder attached to this process through the real /proc.
struct Self {
  ProcfsSource procfs;
  BinaryRegistry binaries;
  Recorder recorder{{}, &procfs, &binaries};
  bool ok = false;
  Self() { ok = recorder.Attach(getpid(), false).ok(); }
};

// Drain path, warm: one recorder (frame analyses and mappings already
// known). Per iteration: `count` records, then TakeInterval (as a snapshot
// would), checked against what was fed.
void BM_DrainPath(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  const size_t distinct = static_cast<size_t>(state.range(1));
  const size_t count = 8192;
  Records records = MakeRecords(count, distinct, depth);
  Self self;
  if (!self.ok) {
    state.SkipWithError("cannot attach to self");
    return;
  }
  uint64_t fed = 0;
  for (auto _ : state) {
    records.ForEach([&](std::span<const uint8_t> r) { self.recorder.OnRecord(r); });
    auto interval = self.recorder.TakeInterval(0);
    if (interval->total() != count || interval->stacks().size() != records.distinct) {
      state.SkipWithError("wrong aggregation");
      return;
    }
    fed += count;
  }
  RecorderStats stats = self.recorder.stats();
  if (stats.unknown_process || stats.malformed || stats.stacks_cut || stats.samples != fed) {
    state.SkipWithError("samples dropped or cut");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(fed));
  state.counters["leaf_restored_pct"] = 100.0 * static_cast<double>(stats.leaf_restored) / static_cast<double>(fed);
}
BENCHMARK(BM_DrainPath)
    ->ArgNames({"depth", "distinct"})
    ->Args({8, 256})
    ->Args({16, 64})
    ->Args({32, 256})
    ->Args({127, 256})
    ->Args({32, 4096});

// Drain path, cold: a new BinaryRegistry and Recorder per iteration, so
// the attach (read /proc/self/maps, mapping records) and the frame analysis
// of every leaf function (Capstone) are paid again; the parsed binaries stay
// in the ProcfsSource's cache. 1024 samples, 64 stacks of depth 16.
void BM_DrainPathCold(benchmark::State& state) {
  const size_t count = 1024;
  Records records = MakeRecords(count, 64, 16);
  ProcfsSource procfs;
  uint64_t fed = 0;
  for (auto _ : state) {
    BinaryRegistry binaries;
    Recorder recorder({}, &procfs, &binaries);
    if (!recorder.Attach(getpid(), false).ok()) {
      state.SkipWithError("cannot attach to self");
      return;
    }
    records.ForEach([&](std::span<const uint8_t> r) { recorder.OnRecord(r); });
    auto interval = recorder.TakeInterval(0);
    if (interval->total() != count || interval->stacks().size() != records.distinct) {
      state.SkipWithError("wrong aggregation");
      return;
    }
    fed += count;
  }
  state.SetItemsProcessed(static_cast<int64_t>(fed));
}
BENCHMARK(BM_DrainPathCold);

// Snapshot: TakeInterval + BuildCpuProfile of `distinct` stacks of depth 24
// (4 samples each) over up to 4000 functions of this binary. Cold: a new FrameCache per snapshot (every address
// symbolized); warm: one FrameCache across snapshots, as in a continuous
// session. Feeding the interval is not timed. items/s = distinct stacks/s.
void BM_Snapshot(benchmark::State& state) {
  const size_t distinct = static_cast<size_t>(state.range(0));
  const bool warm = state.range(1) != 0;
  Records records = MakeRecords(distinct * 4, distinct, 24, 4000);
  Self self;
  if (!self.ok) {
    state.SkipWithError("cannot attach to self");
    return;
  }
  FrameCache shared;
  uint64_t stacks = 0;
  for (auto _ : state) {
    state.PauseTiming();
    records.ForEach([&](std::span<const uint8_t> r) { self.recorder.OnRecord(r); });
    state.ResumeTiming();
    FrameCache fresh;
    CpuProfileOptions options;
    options.frames = warm ? &shared : &fresh;
    auto interval = self.recorder.TakeInterval(WallClockNanos());
    pprof::Profile profile = BuildCpuProfile(*interval, options);
    int64_t total = 0;
    for (const auto& s : profile.samples) total += s.values.at(0);
    if (profile.samples.size() != records.distinct || total != static_cast<int64_t>(distinct * 4)) {
      state.SkipWithError("wrong profile");
      return;
    }
    stacks += distinct;
  }
  state.SetItemsProcessed(static_cast<int64_t>(stacks));
  state.SetLabel(warm ? "warm" : "cold");
  state.counters["fc_hit_pct"] = warm ? 100.0 * static_cast<double>(shared.stats().hits) /
                                            static_cast<double>(std::max<uint64_t>(1, shared.stats().hits + shared.stats().misses))
                                      : 0.0;
}
BENCHMARK(BM_Snapshot)->ArgNames({"distinct", "warm"})->Args({100, 0})->Args({100, 1})->Args({2000, 0})->Args({2000, 1});

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
