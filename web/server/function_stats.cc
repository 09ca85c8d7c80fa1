#include "web/server/function_stats.h"

#include <unordered_set>

namespace golens::web {

FunctionStats ComputeFunctionStats(const pprof::Profile& profile, int sample_index) {
  FunctionStats stats;
  if (sample_index < 0) sample_index = pprof::DefaultSampleTypeIndex(profile);
  if (sample_index < 0) return stats;
  pprof::ProfileIndex index(profile);
  std::unordered_set<const pprof::Function*> seen;
  for (const pprof::Sample& sample : profile.samples) {
    if (static_cast<size_t>(sample_index) >= sample.values.size()) continue;
    int64_t v = sample.values[sample_index];
    stats.total += v;
    seen.clear();
    bool leaf = true;
    for (uint64_t id : sample.location_ids) {
      const pprof::Location* loc = index.location(id);
      if (!loc) continue;
      for (const pprof::Line& line : loc->lines) {
        const pprof::Function* fn = index.function(line.function_id);
        if (!fn) continue;
        FunctionValue& value = stats.functions[fn->name];
        if (leaf) value.flat += v;
        leaf = false;
        if (seen.insert(fn).second) value.cum += v;
      }
    }
  }
  return stats;
}

}  // namespace golens::web
