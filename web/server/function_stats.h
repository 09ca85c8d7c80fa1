// Per-function flat and cumulative values of a profile (what `go tool pprof
// -top` lists), for the top-functions table and the regression table.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pprof/profile.h"

namespace golens::web {

struct FunctionValue {
  int64_t flat = 0;  // samples whose leaf (innermost inlined frame) is the function
  int64_t cum = 0;   // samples with the function anywhere on the stack (once per sample)
};

struct FunctionStats {
  std::map<std::string, FunctionValue> functions;
  int64_t total = 0;
};

// Values of sample type `sample_index` (-1 = the default type).
FunctionStats ComputeFunctionStats(const pprof::Profile& profile, int sample_index = -1);

}  // namespace golens::web
