// A synthetic Go-service CPU profile of a given size (default: 1M samples in
// 50k distinct stacks), deterministic for a seed. Stacks share prefixes like
// real call trees; depths 8..40 (mean ~22); ~2,400 functions with Go-style
// names, runtime and map-lookup frames, some inlined lines and kernel frames;
// sample values Zipf-distributed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pprof/profile.h"

namespace golens::bench {

struct GeneratorOptions {
  size_t stacks = 50'000;
  int64_t samples = 1'000'000;
  uint64_t seed = 42;
};

pprof::Profile GenerateProfile(const GeneratorOptions& options = {});

}  // namespace golens::bench
