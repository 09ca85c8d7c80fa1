// golens serve's API latency on the generated store (24 h x 10 services, one
// profile per 10 s, a deploy half way): merged pprof, flame SVG, top table,
// timeline and deploy diff for 1 h and 24 h of one service, through
// ProfileApi::Handle (what each HTTP request runs; the socket adds ~0.1 ms on
// loopback). Cold = the merge cache cleared for every iteration (a new API
// object each time); warm = answered from the cache.
//
//   build/bench/serve/serve_bench --store /tmp/golens-bench-store [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "bench/store/generated_store.h"
#include "pprof/store/store.h"
#include "web/server/profile_api.h"

namespace golens::bench {
namespace {

std::string g_dir = "/tmp/golens-bench-store";
store::Store* g_store = nullptr;

std::string At(int64_t seconds_after_t0) { return std::to_string(kBenchT0 / kBenchSec + seconds_after_t0); }

web::ApiRequest Request(const std::string& path, int hours, std::multimap<std::string, std::string> extra = {}) {
  web::ApiRequest r;
  r.path = path;
  r.params = std::move(extra);
  r.params.emplace("service", BenchServiceName(0));
  r.params.emplace("from", At(11 * 3600));
  r.params.emplace("to", At(11 * 3600 + hours * 3600));
  if (hours == 24) {
    r.params.erase("from");
    r.params.erase("to");
  }
  return r;
}

void Run(benchmark::State& state, const web::ApiRequest& request, bool warm) {
  web::ProfileApi shared(g_store);
  size_t bytes = 0;
  for (auto _ : state) {
    if (warm) {
      web::ApiResponse r = shared.Handle(request);
      if (r.status != 200) state.SkipWithError(r.body.c_str());
      bytes = r.body.size();
    } else {
      web::ProfileApi api(g_store);
      web::ApiResponse r = api.Handle(request);
      if (r.status != 200) state.SkipWithError(r.body.c_str());
      bytes = r.body.size();
    }
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_Profile(benchmark::State& s) { Run(s, Request("/api/profile", static_cast<int>(s.range(0))), false); }
void BM_Flame(benchmark::State& s) { Run(s, Request("/api/flame", static_cast<int>(s.range(0))), false); }
void BM_Top(benchmark::State& s) { Run(s, Request("/api/top", static_cast<int>(s.range(0))), false); }
void BM_Timeline(benchmark::State& s) {
  Run(s, Request("/api/timeline", static_cast<int>(s.range(0)), {{"step", s.range(0) == 1 ? "10" : "300"}}), false);
}
void BM_DiffDeploys(benchmark::State& s) {
  // The deploy is at 12 h: 1 h = 11-12 h vs 12-13 h; 24 h = each build whole.
  web::ApiRequest r;
  r.path = "/api/diff";
  r.params = {{"service", BenchServiceName(0)}, {"format", "svg"}};
  if (s.range(0) == 1) {
    r.params.insert({{"base_from", At(11 * 3600)}, {"base_to", At(12 * 3600)}, {"from", At(12 * 3600)}, {"to", At(13 * 3600)}});
  } else {
    r.params.insert({{"base_from", At(0)}, {"base_to", At(12 * 3600)}, {"from", At(12 * 3600)}, {"to", At(24 * 3600)}});
  }
  Run(s, r, false);
}
void BM_FlameWarm(benchmark::State& s) { Run(s, Request("/api/flame", static_cast<int>(s.range(0))), true); }

BENCHMARK(BM_Profile)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Flame)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Top)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Timeline)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DiffDeploys)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FlameWarm)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace golens::bench

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--store") == 0) {
      golens::bench::g_dir = argv[i + 1];
      for (int j = i; j + 2 <= argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  auto generated = golens::bench::EnsureGeneratedStore(golens::bench::g_dir, {});
  if (!generated.ok()) {
    std::fprintf(stderr, "serve_bench: %s\n", generated.error().message.c_str());
    return 1;
  }
  golens::store::StoreOptions ro;
  ro.read_only = true;
  auto store = golens::store::Store::Open(golens::bench::g_dir, ro);
  if (!store.ok()) {
    std::fprintf(stderr, "serve_bench: %s\n", store.error().message.c_str());
    return 1;
  }
  golens::bench::g_store = store->get();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
