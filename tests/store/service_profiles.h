// Generated CPU profiles of a Go service, as the agent stores them: one
// service has a fixed call graph (~300 functions with Go-style package paths,
// files and lines, ~300 distinct stacks of depth 6..30, Zipf-weighted), and
// each interval draws its samples from it, so consecutive profiles of one
// build share names and stacks the way real ones do. Deterministic per seed.
// Used by the store tests and bench/store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pprof/profile.h"

namespace golens::store::testing {

struct IntervalOptions {
  int64_t start_ns = 0;
  int64_t duration_ns = 10'000'000'000;
  int samples = 190;  // 19 Hz x 10 s
  uint64_t seed = 1;
  // worker=<one of 4> on a third of the stacks (as pprof.Do labels).
  bool labels = true;
  // goroutine=<number> on every sample: many distinct values per profile.
  bool goroutine_labels = false;
  int64_t pid = 1000;
};

class ServiceProfiles {
 public:
  // `functions` and `stacks` size the service's call graph.
  // (Sized after real `golens record` profiles: 300 samples of a Go
  // service hold ~260 stacks over ~480 locations.)
  ServiceProfiles(std::string service, uint64_t seed, int functions = 300, int stacks = 300);
  ~ServiceProfiles();
  ServiceProfiles(ServiceProfiles&&) noexcept;

  pprof::Profile Interval(const IntervalOptions& options) const;
  const std::string& service() const;
  const std::string& build_id() const;

 private:
  struct Model;
  std::unique_ptr<Model> model_;
};

}  // namespace golens::store::testing
