// The user-space side of `golens record`, per sample: aggregation of raw BPF
// samples, the frameless-leaf fix-up, and building the pprof profile
// (symbolization of the aggregated stacks). Stacks use real code addresses
// of this benchmark binary, so the symbolizer and Capstone see real input.
//
//   build/bench/overhead/sample_pipeline_bench [--benchmark_min_time=0.1]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "profiler/cpu_profile.h"
#include "profiler/go_binary_info.h"
#include "profiler/leaf_fixup.h"
#include "profiler/sample_aggregator.h"
#include "profiler/target_process.h"
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

// `distinct` different stacks of `depth` frames, repeated to `count` samples.
std::vector<golens_sample> MakeSamples(size_t count, size_t distinct, int depth) {
  std::vector<uint64_t> code = CodeAddresses();
  std::mt19937_64 rng(42);
  std::vector<golens_sample> samples(count);
  for (size_t i = 0; i < count; ++i) {
    golens_sample& s = samples[i];
    std::memset(&s, 0, sizeof(s));
    std::mt19937_64 stack_rng(i % distinct);
    s.header = {GOLENS_RECORD_SAMPLE, sizeof(golens_sample)};
    s.tgid = static_cast<uint32_t>(getpid());
    s.tid = s.tgid;
    s.user_frames = depth;
    for (int f = 0; f < depth; ++f) s.user_stack[f] = code[stack_rng() % code.size()] + 1;
    s.flags = GOLENS_SAMPLE_USER_SP_VALID;
    s.user_sp_words[0] = code[0] + 1;
  }
  (void)rng;
  return samples;
}

void BM_AggregateSamples(benchmark::State& state) {
  auto samples = MakeSamples(4096, 256, static_cast<int>(state.range(0)));
  uint64_t added = 0;
  for (auto _ : state) {
    SampleAggregator aggregator(false);
    for (const auto& s : samples) {
      aggregator.Add(s, std::vector<uint64_t>(s.user_stack, s.user_stack + s.user_frames));
    }
    added += aggregator.total();
    if (aggregator.total() != samples.size() || aggregator.stacks().size() != 256) {
      state.SkipWithError("wrong aggregation");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(added));
}
BENCHMARK(BM_AggregateSamples)->Arg(8)->Arg(32)->Arg(127);

struct Self {
  symbolizer::BinaryCache binaries;
  GoBinaryInfoCache go_infos;
  std::unique_ptr<TargetProcess> target;
  Self() {
    auto t = TargetProcess::Attach(getpid(), &binaries, &go_infos);
    if (t.ok()) target = std::move(t).value();
  }
};

// Cold: a new LeafFixup per iteration (Capstone runs for every function).
// Warm: one LeafFixup; every leaf PC is cached.
void BM_LeafFixup(benchmark::State& state) {
  Self self;
  if (!self.target) {
    state.SkipWithError("cannot attach to self");
    return;
  }
  auto samples = MakeSamples(1024, 64, 16);
  const bool warm = state.range(0) != 0;
  LeafFixup shared;
  uint64_t done = 0;
  for (auto _ : state) {
    LeafFixup fresh;
    LeafFixup& fixup = warm ? shared : fresh;
    for (const auto& s : samples) {
      std::vector<uint64_t> stack = fixup.UserStack(s, *self.target);
      if (stack.empty()) {
        state.SkipWithError("empty stack");
        return;
      }
      benchmark::DoNotOptimize(stack.data());
    }
    done += samples.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(done));
  state.SetLabel(warm ? "warm" : "cold");
}
BENCHMARK(BM_LeafFixup)->Arg(0)->Arg(1);

// Aggregated stacks -> pprof Profile (symbolization, interning), binaries
// already parsed (warm cache), as at the end of every recording.
void BM_BuildCpuProfile(benchmark::State& state) {
  Self self;
  if (!self.target) {
    state.SkipWithError("cannot attach to self");
    return;
  }
  const size_t distinct = static_cast<size_t>(state.range(0));
  auto samples = MakeSamples(distinct * 4, distinct, 24);
  SampleAggregator aggregator(false);
  for (const auto& s : samples) {
    aggregator.Add(s, std::vector<uint64_t>(s.user_stack, s.user_stack + s.user_frames));
  }
  CpuProfileInput input;
  input.samples = &aggregator;
  input.targets = {self.target.get()};
  uint64_t stacks = 0;
  for (auto _ : state) {
    auto profile = BuildCpuProfile(input);
    if (!profile.ok() || profile->samples.size() != distinct) {
      state.SkipWithError("wrong profile");
      return;
    }
    stacks += distinct;
  }
  state.SetItemsProcessed(static_cast<int64_t>(stacks));
}
BENCHMARK(BM_BuildCpuProfile)->Arg(100)->Arg(2000);

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
