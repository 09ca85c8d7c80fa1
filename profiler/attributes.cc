#include "profiler/attributes.h"

#include <algorithm>
#include <functional>
#include <tuple>

namespace golens::profiler {

void CollectAttributes(const SampleView& sample, const AttributeOptions& options, AttributeSet* out) {
  const golens_sample& h = *sample.head;
  if (options.goroutine && (h.flags & GOLENS_SAMPLE_GOID_VALID) && h.goid != 0) {
    out->push_back(Attribute{"goroutine", "", static_cast<int64_t>(h.goid), ""});
  }
}

AttributeTable::AttributeTable() {
  sets_.emplace_back();
  ids_.emplace(AttributeSet{}, 0);
}

size_t AttributeTable::Hash::operator()(const AttributeSet& set) const {
  size_t h = set.size();
  for (const Attribute& a : set) {
    h = h * 31 + std::hash<std::string>{}(a.key);
    h = h * 31 + std::hash<std::string>{}(a.str);
    h = h * 31 + std::hash<int64_t>{}(a.num);
  }
  return h;
}

AttributeSetId AttributeTable::Intern(AttributeSet set) {
  if (set.empty()) return 0;
  std::sort(set.begin(), set.end(), [](const Attribute& a, const Attribute& b) {
    return std::tie(a.key, a.str, a.num, a.unit) < std::tie(b.key, b.str, b.num, b.unit);
  });
  auto it = ids_.find(set);
  if (it != ids_.end()) return it->second;
  auto id = static_cast<AttributeSetId>(sets_.size());
  sets_.push_back(set);
  ids_.emplace(std::move(set), id);
  return id;
}

std::vector<pprof::Label> ToPprofLabels(const AttributeSet& set) {
  std::vector<pprof::Label> labels;
  labels.reserve(set.size());
  for (const Attribute& a : set) {
    if (!a.str.empty()) {
      labels.push_back(pprof::Label{a.key, a.str, 0, ""});
    } else {
      labels.push_back(pprof::Label{a.key, "", a.num, a.unit});
    }
  }
  return labels;
}

}  // namespace golens::profiler
