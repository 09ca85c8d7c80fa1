// Sums that the end-to-end tests compare profiles by: a sample type's total
// and each function's inclusive value (once per sample, however often the
// function is on its stack).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "pprof/profile.h"

namespace golens::testing {

// Sum of value `index` over all samples (samples without it count 0).
int64_t SampleTotal(const pprof::Profile& profile, size_t index = 0);

// Function name -> sum of value `index` over the samples with it anywhere on the stack.
std::map<std::string, int64_t> InclusiveByFunction(const pprof::Profile& profile, size_t index = 0);

}  // namespace golens::testing
