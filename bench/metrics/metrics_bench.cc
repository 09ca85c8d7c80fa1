// What a Prometheus scrape of `golens agent --metrics-listen` costs with many
// Go map access sites: rendering the exposition (PrometheusText) with 1000
// sites tracked and exported, and its size. The HTTP part (cpp-httplib on
// loopback) adds well under a millisecond.
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
  for (int s = 0; s < 4; ++s) gauges.Add("service-" + std::to_string(s), p);  // 4 services share the top N
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
BENCHMARK(BM_ScrapeRender)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
