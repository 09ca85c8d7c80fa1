// A store filled the way an agent fills one: `services` services, one
// profile per 10 s interval each for `hours` hours, a new build of every
// service half way through (a deploy, so dictionaries get trained twice),
// worker labels on a third of the stacks. Generated once into `dir` and
// reused when it is already there with the same shape.
#pragma once

#include <cstdint>
#include <string>

#include "profiler/base/result.h"

namespace golens::bench {

struct GeneratedStoreShape {
  int hours = 24;
  int services = 10;
};

inline constexpr int64_t kBenchSec = 1'000'000'000;
inline constexpr int64_t kBenchT0 = int64_t{1'780'000'000} * kBenchSec;

inline std::string BenchServiceName(int i) { return "service-" + std::to_string(i); }

// Fills (or checks) the store; prints progress and the Put rate to stderr.
// Returns the number of profiles in it.
Result<int64_t> EnsureGeneratedStore(const std::string& dir, const GeneratedStoreShape& shape);

}  // namespace golens::bench
