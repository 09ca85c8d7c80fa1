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

bool LabelIs(std::string_view key, std::string_view str, int64_t num, const TagFilter& filter) {
  if (key != filter.key) return false;
  return !str.empty() ? str == filter.value : std::to_string(num) == filter.value;
}

bool SampleMatches(const Sample& sample, const std::vector<TagFilter>& filters) {
  return MatchesTagFilters(filters, [&](const TagFilter& filter) {
    for (const Label& label : sample.labels) {
      if (LabelIs(label.key, label.str, label.num, filter)) return true;
    }
    return false;
  });
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
