// --tag key=value filtering: keep only samples carrying every given label.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::pprof {

struct TagFilter {
  std::string key;
  std::string value;
};

// Parses "key=value" strings; a missing '=' or empty key is a usage error.
Result<std::vector<TagFilter>> ParseTagFilters(const std::vector<std::string>& tags);

// True when, for every distinct key among the filters, the sample has a
// label with that key equal to one of that key's values (string value, or the
// decimal number of a numeric label): worker=a worker=b span=7 means
// (worker is a or b) and span is 7.
bool SampleMatches(const Sample& sample, const std::vector<TagFilter>& filters);

// Whether one label (key, string value, number) is what `filter` asks for.
bool LabelIs(std::string_view key, std::string_view str, int64_t num, const TagFilter& filter);

// SampleMatches over any label storage: `has(filter)` says whether the
// sample carries filter.key with filter.value (pprof/profile_view.h reads
// profiles in place with it).
template <typename Has>
bool MatchesTagFilters(const std::vector<TagFilter>& filters, Has has) {
  // Same key repeated = any of those values; different keys = all of them.
  for (size_t i = 0; i < filters.size(); ++i) {
    bool key_seen_before = false;
    for (size_t j = 0; j < i; ++j) key_seen_before |= filters[j].key == filters[i].key;
    if (key_seen_before) continue;
    bool any = false;
    for (size_t j = i; j < filters.size() && !any; ++j) {
      if (filters[j].key == filters[i].key) any = has(filters[j]);
    }
    if (!any) return false;
  }
  return true;
}

// What a tag filter could match, for the message when it matched nothing:
// "labels: worker=alpha|beta|gamma, goroutine=1|2|... (57 values)", or
// "the profile has no labels". Keys sorted; at most 8 values per key shown.
std::string DescribeLabels(const Profile& profile);

}  // namespace golens::pprof
