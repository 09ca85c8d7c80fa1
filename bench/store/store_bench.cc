// Google Benchmark of the profile store on a generated store of 24 h x 10
// services (8640 profiles of 10 s per service; see generated_store.h):
// Put, Select, ListServices, LabelValues and Merge of 1 h and 24 h of one
// service. "Cold" opens a new Store handle per iteration (empty dictionary
// cache; the OS page cache stays warm); "warm" reuses one. Every benchmark
// checks its own result.
//
//   store_bench [--store DIR] [--hours 24] [--services 10] [benchmark flags]
// DIR is kept and reused (generating 24 h x 10 takes minutes); without
// --store a temporary directory is used and removed. Smoke mode:
//   store_bench --hours 1 --services 2 --benchmark_min_time=0.01
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bench/store/generated_store.h"
#include "pprof/store/store.h"
#include "tests/store/service_profiles.h"

namespace golens::bench {
namespace {

struct Config {
  std::string dir;
  bool temporary = false;
  GeneratedStoreShape shape;
} g_config;

const std::string kService = BenchServiceName(3);

int64_t Hour(int h) { return kBenchT0 + int64_t{h} * 3600 * kBenchSec; }

store::Selection OneService(int from_hour, int hours) {
  store::Selection sel;
  sel.service = kService;
  sel.from_ns = Hour(from_hour);
  sel.to_ns = Hour(from_hour + hours);
  return sel;
}

std::unique_ptr<store::Store> OpenStore(benchmark::State& state) {
  auto s = store::Store::Open(g_config.dir);
  if (!s.ok()) {
    state.SkipWithError(s.error().message.c_str());
    return nullptr;
  }
  return std::move(*s);
}

void CheckMerge(benchmark::State& state, const Result<store::MergeResult>& m, int64_t profiles) {
  if (!m.ok()) {
    state.SkipWithError(m.error().message.c_str());
  } else if (m->profiles != profiles || m->skipped_corrupt != 0 || m->profile.samples.empty()) {
    state.SkipWithError(("merged " + std::to_string(m->profiles) + " profiles, expected " + std::to_string(profiles))
                            .c_str());
  }
}

void Merge(benchmark::State& state, int hours, bool cold) {
  const int from = g_config.shape.hours / 2 - hours / 2 > 0 ? g_config.shape.hours / 2 - hours / 2 : 0;
  const int span = std::min(hours, g_config.shape.hours);
  auto warm = cold ? nullptr : OpenStore(state);
  for (auto _ : state) {
    std::unique_ptr<store::Store> fresh = cold ? OpenStore(state) : nullptr;
    store::Store* s = cold ? fresh.get() : warm.get();
    if (s == nullptr) return;
    auto m = s->Merge(OneService(from, span));
    CheckMerge(state, m, int64_t{span} * 360);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations() * span * 360);  // profiles merged per second
}
void BM_Merge1hCold(benchmark::State& state) { Merge(state, 1, true); }
void BM_Merge1hWarm(benchmark::State& state) { Merge(state, 1, false); }
void BM_Merge24hCold(benchmark::State& state) { Merge(state, 24, true); }

void BM_Merge1hTagFilter(benchmark::State& state) {
  auto s = OpenStore(state);
  if (!s) return;
  for (auto _ : state) {
    store::Selection sel = OneService(g_config.shape.hours / 2, 1);
    sel.tags = {{"worker", "alpha"}};
    auto m = s->Merge(sel);
    if (!m.ok() || m->profiles == 0) state.SkipWithError("tag-filtered merge found nothing");
    for (const auto& sample : m->profile.samples) {
      if (!pprof::SampleMatches(sample, sel.tags)) state.SkipWithError("a sample escaped the filter");
    }
  }
}

// What serve's timeline of a tag selection reads: per profile, the samples
// carrying the tag, counted in place.
void BM_TaggedSampleCounts1h(benchmark::State& state) {
  auto s = OpenStore(state);
  if (!s) return;
  size_t profiles = 0;
  for (auto _ : state) {
    store::Selection sel = OneService(g_config.shape.hours / 2, 1);
    sel.tags = {{"worker", "alpha"}};
    auto counts = s->TaggedSampleCounts(sel);
    if (!counts.ok() || counts->empty()) state.SkipWithError("tag counts found nothing");
    profiles = counts.ok() ? counts->size() : 0;
    benchmark::DoNotOptimize(counts);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(profiles));  // profiles read per second
}

void BM_Select24h(benchmark::State& state) {
  auto s = OpenStore(state);
  if (!s) return;
  store::Selection sel;
  sel.service = kService;
  for (auto _ : state) {
    auto m = s->Select(sel);
    if (!m.ok() || static_cast<int64_t>(m->size()) != int64_t{g_config.shape.hours} * 360) {
      state.SkipWithError("wrong selection");
    }
  }
  state.SetItemsProcessed(state.iterations() * g_config.shape.hours * 360);
}

void BM_ListServices(benchmark::State& state) {
  auto s = OpenStore(state);
  if (!s) return;
  for (auto _ : state) {
    auto l = s->ListServices();
    if (!l.ok() || static_cast<int>(l->size()) != g_config.shape.services) state.SkipWithError("wrong services");
  }
}

void BM_LabelValues1h(benchmark::State& state) {
  auto s = OpenStore(state);
  if (!s) return;
  for (auto _ : state) {
    auto l = s->LabelValues(OneService(g_config.shape.hours / 2, 1));
    if (!l.ok() || l->empty() || l->front().first != "worker") state.SkipWithError("wrong label values");
  }
}

// Put into a fresh store: one service's 10 s profiles (dictionary in steady
// state: the first 9 go in before timing). Items = profiles.
void BM_Put(benchmark::State& state) {
  std::string dir = g_config.dir + "-put";
  std::filesystem::remove_all(dir);
  auto opened = store::Store::Open(dir);
  if (!opened.ok()) return state.SkipWithError(opened.error().message.c_str());
  store::testing::ServiceProfiles svc("put-service", 77);
  std::vector<pprof::Profile> profiles;
  for (int i = 0; i < 64; ++i) {
    store::testing::IntervalOptions o;
    o.seed = static_cast<uint64_t>(i + 1);
    profiles.push_back(svc.Interval(o));
  }
  int64_t n = 0, bytes = 0;
  auto put = [&](int64_t i) {
    store::ProfileMeta meta;
    meta.service = svc.service();
    meta.build_id = svc.build_id();
    meta.pid = 1;
    meta.start_ns = kBenchT0 + i * 10 * kBenchSec;
    meta.end_ns = meta.start_ns + 10 * kBenchSec;
    store::PutStats stats;
    auto id = (*opened)->Put(meta, profiles[static_cast<size_t>(i % 64)], &stats);
    if (!id.ok()) state.SkipWithError(id.error().message.c_str());
    bytes += stats.raw_bytes;
  };
  for (int i = 0; i < 9; ++i) put(n++);  // the 9th trains the dictionary
  bytes = 0;
  for (auto _ : state) put(n++);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);  // uncompressed pprof bytes
  opened = Error{};
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_Put)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ListServices)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Select24h)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LabelValues1h)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Merge1hCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Merge1hWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Merge1hTagFilter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TaggedSampleCounts1h)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Merge24hCold)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace golens::bench

int main(int argc, char** argv) {
  using golens::bench::g_config;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (!std::strcmp(argv[i], "--store")) {
      g_config.dir = value();
    } else if (!std::strcmp(argv[i], "--hours")) {
      g_config.shape.hours = std::atoi(value());
    } else if (!std::strcmp(argv[i], "--services")) {
      g_config.shape.services = std::atoi(value());
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (g_config.shape.hours < 1 || g_config.shape.services < 4) {
    std::fprintf(stderr, "store_bench: --hours must be >= 1 and --services >= 4 (service-3 is the one merged)\n");
    return 2;
  }
  if (g_config.dir.empty()) {
    std::string base = std::filesystem::temp_directory_path() / "golens-store-bench-XXXXXX";
    if (!::mkdtemp(base.data())) return 1;
    g_config.dir = base + "/store";
    g_config.temporary = true;
  }
  auto ready = golens::bench::EnsureGeneratedStore(g_config.dir, g_config.shape);
  if (!ready.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", ready.error().message.c_str());
    return 1;
  }
  std::fprintf(stderr, "store %s: %lld profiles (%d h x %d services)\n", g_config.dir.c_str(),
               static_cast<long long>(*ready), g_config.shape.hours, g_config.shape.services);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_config.temporary) std::filesystem::remove_all(std::filesystem::path(g_config.dir).parent_path());
  return 0;
}
