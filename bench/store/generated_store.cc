#include "bench/store/generated_store.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include "pprof/store/store.h"
#include "tests/store/service_profiles.h"

namespace golens::bench {

Result<int64_t> EnsureGeneratedStore(const std::string& dir, const GeneratedStoreShape& shape) {
  const int64_t intervals = int64_t{shape.hours} * 360;
  const int64_t want = intervals * shape.services;
  GOLENS_TRY(auto store, store::Store::Open(dir));
  GOLENS_TRY(auto metas, store->Select({}));
  if (static_cast<int64_t>(metas.size()) == want) return want;
  if (!metas.empty()) {
    return MakeError(dir + " holds " + std::to_string(metas.size()) + " profiles, not the " + std::to_string(want) +
                         " of this shape: remove it or pass another directory",
                     ErrorKind::kInvalidArgument);
  }
  std::vector<store::testing::ServiceProfiles> builds;  // [service * 2 + build]
  for (int s = 0; s < shape.services; ++s) {
    for (int b = 0; b < 2; ++b) {
      builds.emplace_back(BenchServiceName(s), static_cast<uint64_t>(1000 + s * 2 + b));
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  double put_seconds = 0;
  int64_t put_bytes = 0;
  for (int64_t i = 0; i < intervals; ++i) {
    for (int s = 0; s < shape.services; ++s) {
      const auto& svc = builds[static_cast<size_t>(s * 2 + (i >= intervals / 2 ? 1 : 0))];
      store::testing::IntervalOptions o;
      o.start_ns = kBenchT0 + i * 10 * kBenchSec;
      o.seed = static_cast<uint64_t>(i * 131 + s);
      o.pid = 1000 + s;
      pprof::Profile profile = svc.Interval(o);
      store::ProfileMeta meta;
      meta.service = svc.service();
      meta.build_id = svc.build_id();
      meta.go_version = "go1.26.8";
      meta.exe_path = "/usr/local/bin/" + svc.service();
      meta.host = "bench-host";
      meta.pid = o.pid;
      meta.start_ns = o.start_ns;
      meta.end_ns = o.start_ns + 10 * kBenchSec;
      store::PutStats stats;
      auto p0 = std::chrono::steady_clock::now();
      GOLENS_TRY(int64_t id, store->Put(meta, profile, &stats));
      put_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
      put_bytes += stats.stored_bytes;
      (void)id;
    }
    if ((i + 1) % 360 == 0) {
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "generated %lld/%lld h: %lld profiles in %.1f s (Put %.0f/s, %.0f bytes stored each)\n",
                   static_cast<long long>((i + 1) / 360), static_cast<long long>(shape.hours),
                   static_cast<long long>((i + 1) * shape.services), elapsed,
                   static_cast<double>((i + 1) * shape.services) / put_seconds,
                   static_cast<double>(put_bytes) / static_cast<double>((i + 1) * shape.services));
    }
  }
  return want;
}

}  // namespace golens::bench
