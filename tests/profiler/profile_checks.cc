#include "tests/profiler/profile_checks.h"

#include <set>

namespace golens::testing {

namespace {

int64_t ValueAt(const pprof::Sample& sample, size_t index) {
  return index < sample.values.size() ? sample.values[index] : 0;
}

}  // namespace

int64_t SampleTotal(const pprof::Profile& profile, size_t index) {
  int64_t total = 0;
  for (const pprof::Sample& s : profile.samples) total += ValueAt(s, index);
  return total;
}

std::map<std::string, int64_t> InclusiveByFunction(const pprof::Profile& profile, size_t index) {
  pprof::ProfileIndex lookup(profile);
  std::map<std::string, int64_t> out;
  for (const pprof::Sample& s : profile.samples) {
    std::set<std::string> seen;
    for (uint64_t id : s.location_ids) {
      const pprof::Location* loc = lookup.location(id);
      if (!loc) continue;
      for (const pprof::Line& line : loc->lines) {
        const pprof::Function* f = lookup.function(line.function_id);
        if (f && seen.insert(f->name).second) out[f->name] += ValueAt(s, index);
      }
    }
  }
  return out;
}

}  // namespace golens::testing
