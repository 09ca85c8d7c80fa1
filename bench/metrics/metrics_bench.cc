// What a Prometheus scrape of `golens agent --metrics-listen` costs with many
// Go map access sites: rendering the exposition (PrometheusText) with 1000
// sites tracked and exported, and its size, with sampled statistics only
// (gauges) and with deep mode's probe-count and bucket-depth histograms
// (second argument 1). The HTTP part (cpp-httplib on loopback) adds well
// under a millisecond.
//
//   build/bench/metrics/metrics_bench
#include <benchmark/benchmark.h>

#include "pprof/builder.h"
#include "profiler/agent_metrics.h"

namespace golens::profiler {
namespace {

// One profile with `sites` map sites, each with map_len/map_load_pct labels.
pprof::Profile SitesProfile(int sites) {
  pprof::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  uint64_t fn = b.AddFunction("runtime.mapaccess1_fast64", "runtime.mapaccess1_fast64", "map_fast64.go", 1);
  uint64_t loc = b.AddLocation(0, 0x1000, {{fn, 10, 0}});
  std::vector<uint64_t> stack{loc};
  for (int i = 0; i < sites; ++i) {
    std::vector<pprof::Label> labels{{"map_site", "main.lookup" + std::to_string(i) + " main.go:" + std::to_string(i), 0, ""},
                                     {"map_len", "", 1000 + i, ""},
                                     {"map_load_pct", "", 50 + i % 50, ""}};
    b.AddSample(stack, std::vector<int64_t>{1 + i % 7, (1 + i % 7) * 10000000LL}, labels);
  }
  return b.Build();
}

void BM_ScrapeRender(benchmark::State& state) {
  const int sites = static_cast<int>(state.range(0));
  MapSiteGauges gauges(static_cast<size_t>(sites));
  pprof::Profile p = SitesProfile(sites);
  const bool deep = state.range(1) != 0;
  // 4 services share the top N.
  for (int s = 0; s < 4; ++s) {
    const std::string service = "service-" + std::to_string(s);
    gauges.Add(service, p);
    if (!deep) continue;
    for (int i = 0; i < sites; ++i) {
      MapProbeHistogram lookups;
      for (uint16_t v = 1; v <= 1 + i % 12; ++v) {
        golens_map_probe probe{};
        probe.probes = v;
        probe.depth = static_cast<uint16_t>(1 + v / 4);
        lookups.Add(probe);
      }
      gauges.AddProbes(service, "main.lookup" + std::to_string(i) + " main.go:" + std::to_string(i), lookups);
    }
  }
  AgentStats stats;
  stats.live_targets = 50;
  ProcessSelfStats self{12.5, 40 << 20};
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = PrometheusText(stats, self, 123456789, gauges);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ScrapeRender)
    ->ArgsProduct({{100, 1000}, {0, 1}})
    ->ArgNames({"sites", "deep"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
