// ProfileIndex and sample type lookup.
#include "pprof/profile.h"

#include <algorithm>

namespace golens::pprof {
namespace {

// Ids are dense (1..N) in everything we and Go's runtime write; any pprof may
// use arbitrary ids (addresses), so fall back to a sorted table then.
template <typename T>
std::vector<const T*> IndexById(const std::vector<T>& items, bool* dense) {
  uint64_t max_id = 0;
  for (const T& item : items) max_id = std::max(max_id, item.id);
  *dense = max_id <= items.size() * 4 + 16;
  std::vector<const T*> table;
  if (*dense) {
    table.assign(max_id + 1, nullptr);
    for (const T& item : items) {
      if (item.id != 0 && table[item.id] == nullptr) table[item.id] = &item;
    }
  } else {
    table.reserve(items.size());
    for (const T& item : items) table.push_back(&item);
    std::stable_sort(table.begin(), table.end(),
                     [](const T* a, const T* b) { return a->id < b->id; });
  }
  return table;
}

template <typename T>
const T* Lookup(const std::vector<const T*>& table, bool dense, uint64_t id) {
  if (id == 0) return nullptr;
  if (dense) return id < table.size() ? table[id] : nullptr;
  auto it = std::lower_bound(table.begin(), table.end(), id,
                             [](const T* item, uint64_t want) { return item->id < want; });
  return it != table.end() && (*it)->id == id ? *it : nullptr;
}

}  // namespace

ProfileIndex::ProfileIndex(const Profile& profile) : profile_(&profile) {
  bool dense = false;
  locations_ = IndexById(profile.locations, &dense);
  dense_ |= dense ? 1 : 0;
  functions_ = IndexById(profile.functions, &dense);
  dense_ |= dense ? 2 : 0;
  mappings_ = IndexById(profile.mappings, &dense);
  dense_ |= dense ? 4 : 0;
}

const Location* ProfileIndex::location(uint64_t id) const {
  return Lookup(locations_, (dense_ & 1) != 0, id);
}
const Function* ProfileIndex::function(uint64_t id) const {
  return Lookup(functions_, (dense_ & 2) != 0, id);
}
const Mapping* ProfileIndex::mapping(uint64_t id) const {
  return Lookup(mappings_, (dense_ & 4) != 0, id);
}

int SampleTypeIndex(const Profile& profile, const std::string& name) {
  for (size_t i = 0; i < profile.sample_types.size(); ++i) {
    if (profile.sample_types[i].type == name) return static_cast<int>(i);
  }
  return -1;
}

int DefaultSampleTypeIndex(const Profile& profile) {
  if (profile.sample_types.empty()) return -1;
  if (!profile.default_sample_type.empty()) {
    int index = SampleTypeIndex(profile, profile.default_sample_type);
    if (index >= 0) return index;
  }
  return static_cast<int>(profile.sample_types.size()) - 1;
}

std::string SampleTypeNames(const Profile& profile) {
  std::string names;
  for (const ValueType& type : profile.sample_types) {
    if (!names.empty()) names += ", ";
    names += type.type;
  }
  return names.empty() ? "(none)" : names;
}

Result<int> ResolveSampleIndex(const Profile& profile, const std::string& sample_type) {
  if (sample_type.empty()) {
    int index = DefaultSampleTypeIndex(profile);
    if (index < 0) return MakeError("profile has no sample types");
    return index;
  }
  int index = SampleTypeIndex(profile, sample_type);
  if (index < 0) {
    return MakeError("unknown sample type '" + sample_type + "'; available: " + SampleTypeNames(profile), ErrorKind::kInvalidArgument);
  }
  return index;
}

}  // namespace golens::pprof
