// --tag key=value filtering: keep only samples carrying every given label.
#pragma once

#include <string>
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

// What a tag filter could match, for the message when it matched nothing:
// "labels: worker=alpha|beta|gamma, goroutine=1|2|... (57 values)", or
// "the profile has no labels". Keys sorted; at most 8 values per key shown.
std::string DescribeLabels(const Profile& profile);

}  // namespace golens::pprof
