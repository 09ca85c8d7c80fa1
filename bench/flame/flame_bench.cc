// Google Benchmark of the flame pipeline on a generated 1M-sample /
// 50k-stack profile: pprof parse/serialize, builder, folded parse/print,
// tree building and SVG rendering. "Cold" runs a single iteration first in
// the process (allocator and page-fault costs included); the others are
// warm steady state. Every benchmark checks its own result.
// Smoke mode: flame_bench --benchmark_min_time=0.01
#include <benchmark/benchmark.h>

#include <span>

#include "bench/flame/profile_generator.h"
#include "pprof/builder.h"
#include "pprof/profile_io.h"
#include "web/flame_layout.h"
#include "web/flame_tree.h"
#include "web/flamegraph.h"

namespace golens::bench {
namespace {

struct Inputs {
  pprof::Profile profile = GenerateProfile();
  std::string gz = *pprof::SerializePprof(profile, true);
  std::string raw = *pprof::SerializePprof(profile, false);
  std::string folded = pprof::ToFolded(profile, 0);
};
const Inputs& In() {
  static const Inputs* inputs = new Inputs();
  return *inputs;
}
std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
constexpr size_t kStacks = 50'000;

void Rates(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kStacks));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_ParsePprofGzip(benchmark::State& state) {
  for (auto _ : state) {
    auto p = pprof::ParsePprof(Bytes(In().gz));
    if (!p.ok() || p->samples.size() != kStacks) state.SkipWithError("wrong parse result");
    benchmark::DoNotOptimize(p);
  }
  Rates(state, In().gz.size());
}
void BM_ParsePprofRaw(benchmark::State& state) {
  for (auto _ : state) {
    auto p = pprof::ParsePprof(Bytes(In().raw));
    if (!p.ok() || p->samples.size() != kStacks) state.SkipWithError("wrong parse result");
    benchmark::DoNotOptimize(p);
  }
  Rates(state, In().raw.size());
}
void BM_SerializePprofGzip(benchmark::State& state) {
  for (auto _ : state) {
    auto s = pprof::SerializePprof(In().profile, true);
    if (!s.ok() || s->size() != In().gz.size()) state.SkipWithError("wrong output");
    benchmark::DoNotOptimize(s);
  }
  Rates(state, In().raw.size());
}
void BM_BuildProfile(benchmark::State& state) {
  // Re-adds every location and sample through the interning builder.
  const pprof::Profile& p = In().profile;
  for (auto _ : state) {
    pprof::ProfileBuilder b(p.sample_types);
    for (const auto& m : p.mappings) b.AddMapping(m);
    for (const auto& f : p.functions) b.AddFunction(f.name, f.system_name, f.filename, f.start_line);
    for (const auto& l : p.locations) b.AddLocation(l.mapping_id, l.address, l.lines);
    for (const auto& s : p.samples) b.AddSample(s.location_ids, s.values, s.labels);
    pprof::Profile out = b.Build();
    if (out.samples.size() != kStacks || out.locations.size() != p.locations.size()) {
      state.SkipWithError("wrong build result");
    }
  }
  Rates(state, 0);
}
void BM_ParseFolded(benchmark::State& state) {
  for (auto _ : state) {
    auto p = pprof::ParseFolded(In().folded);
    int64_t total = 0;
    if (p.ok()) for (const auto& s : p->samples) total += s.values[0];
    // Stacks that differ only in addresses fold to the same line: count samples.
    if (total != 1'000'000) state.SkipWithError("wrong folded parse");
    benchmark::DoNotOptimize(p);
  }
  Rates(state, In().folded.size());
}
void BM_ToFolded(benchmark::State& state) {
  for (auto _ : state) {
    std::string f = pprof::ToFolded(In().profile, 0);
    if (f.size() != In().folded.size()) state.SkipWithError("wrong folded output");
    benchmark::DoNotOptimize(f);
  }
  Rates(state, In().folded.size());
}
void BM_BuildFlameTree(benchmark::State& state) {
  for (auto _ : state) {
    web::FlameTree tree;
    auto kept = web::AddProfileToTree(In().profile, {}, &tree);
    tree.Finish();
    if (!kept.ok() || *kept != kStacks || tree.nodes()[0].total[0] != 1'000'000LL * 10'000'000) {
      state.SkipWithError("wrong tree");
    }
  }
  Rates(state, 0);
}
void RenderOnce(benchmark::State& state, const pprof::Profile& p) {
  auto svg = web::RenderFlameGraph(p, {});
  if (!svg.ok() || svg->find("</svg>") == std::string::npos) state.SkipWithError("render failed");
  state.counters["svg_bytes"] = static_cast<double>(svg.ok() ? svg->size() : 0);
}
void BM_RenderFlameGraph(benchmark::State& state) {
  for (auto _ : state) RenderOnce(state, In().profile);
  Rates(state, 0);
}
// Folded text through the profile model (ParseFolded + RenderFlameGraph).
void BM_FoldedToSvg(benchmark::State& state) {
  for (auto _ : state) {
    auto p = pprof::ParseFolded(In().folded);
    if (!p.ok()) state.SkipWithError("parse");
    else RenderOnce(state, *p);
  }
  Rates(state, In().folded.size());
}
// `golens flame profile.folded`: the fast path, folded text to tree directly.
void BM_FoldedFastPathToSvg(benchmark::State& state) {
  for (auto _ : state) {
    auto svg = web::RenderFoldedFlameGraph(In().folded, {});
    if (!svg.ok() || svg->find("</svg>") == std::string::npos) state.SkipWithError("render failed");
    state.counters["svg_bytes"] = static_cast<double>(svg.ok() ? svg->size() : 0);
  }
  Rates(state, In().folded.size());
}
void BM_PprofGzipToSvg(benchmark::State& state) {
  for (auto _ : state) {
    auto p = pprof::ParsePprof(Bytes(In().gz));
    if (!p.ok()) state.SkipWithError("parse");
    else RenderOnce(state, *p);
  }
  Rates(state, In().gz.size());
}

// Cold: first iteration in this process.
BENCHMARK(BM_PprofGzipToSvg)->Name("Cold/PprofGzipToSvg")->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParsePprofGzip)->Name("Warm/ParsePprofGzip")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParsePprofRaw)->Name("Warm/ParsePprofRaw")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SerializePprofGzip)->Name("Warm/SerializePprofGzip")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildProfile)->Name("Warm/BuildProfile")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseFolded)->Name("Warm/ParseFolded")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ToFolded)->Name("Warm/ToFolded")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildFlameTree)->Name("Warm/BuildFlameTree")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderFlameGraph)->Name("Warm/RenderFlameGraph")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FoldedToSvg)->Name("Warm/FoldedViaModelToSvg")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FoldedFastPathToSvg)->Name("Warm/FoldedFastPathToSvg")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PprofGzipToSvg)->Name("Warm/PprofGzipToSvg")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace golens::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  golens::bench::In();  // generate inputs before anything is timed
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
