#include "pprof/sample_filter.h"

#include <map>
#include <set>

namespace golens::pprof {

Result<std::vector<TagFilter>> ParseTagFilters(const std::vector<std::string>& tags) {
  std::vector<TagFilter> filters;
  for (const std::string& tag : tags) {
    size_t eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError("bad tag filter '" + tag + "': expected KEY=VALUE", ErrorKind::kInvalidArgument);
    }
    filters.push_back(TagFilter{tag.substr(0, eq), tag.substr(eq + 1)});
  }
  return filters;
}

bool SampleMatches(const Sample& sample, const std::vector<TagFilter>& filters) {
  auto has = [&](const TagFilter& filter) {
    for (const Label& label : sample.labels) {
      if (label.key != filter.key) continue;
      if (!label.str.empty() ? label.str == filter.value : std::to_string(label.num) == filter.value) {
        return true;
      }
    }
    return false;
  };
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

std::string DescribeLabels(const Profile& profile) {
  std::map<std::string, std::set<std::string>> values;
  for (const Sample& sample : profile.samples) {
    for (const Label& label : sample.labels) {
      values[label.key].insert(!label.str.empty() ? label.str : std::to_string(label.num));
    }
  }
  if (values.empty()) return "the profile has no labels";
  constexpr size_t kShown = 8;
  std::string out = "labels: ";
  bool first_key = true;
  for (const auto& [key, set] : values) {
    if (!first_key) out += ", ";
    first_key = false;
    out += key + "=";
    size_t n = 0;
    for (const std::string& v : set) {
      if (n == kShown) {
        out += "|... (" + std::to_string(set.size()) + " values)";
        break;
      }
      out += (n++ == 0 ? "" : "|") + v;
    }
  }
  return out;
}

}  // namespace golens::pprof
