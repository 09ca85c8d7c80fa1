#include "pprof/store/label_index.h"

#include <algorithm>
#include <map>
#include <set>

namespace golens::store {

std::vector<LabelPair> ExtractLabelPairs(const pprof::Profile& profile, size_t max_pairs) {
  std::map<std::string, std::set<std::string>> values;
  for (const pprof::Sample& sample : profile.samples) {
    for (const pprof::Label& label : sample.labels) {
      std::set<std::string>& set = values[label.key];
      // A key already over budget can never be listed in full: stop growing it.
      if (set.size() > max_pairs) continue;
      set.insert(!label.str.empty() ? label.str : std::to_string(label.num));
    }
  }
  std::vector<const std::pair<const std::string, std::set<std::string>>*> keys;
  for (const auto& kv : values) keys.push_back(&kv);
  std::stable_sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->second.size() < b->second.size(); });
  // Every key costs at least one entry (its values or its wildcard).
  size_t budget = max_pairs > keys.size() ? max_pairs - keys.size() : 0;
  std::vector<LabelPair> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto* kv = keys[i];
    if (i + 1 == max_pairs && keys.size() > max_pairs) {
      // More keys than the index takes: one wildcard for every key.
      out.push_back(LabelPair{"", "", true});
      break;
    }
    if (kv->second.size() - 1 <= budget) {
      budget -= kv->second.size() - 1;
      for (const std::string& v : kv->second) out.push_back(LabelPair{kv->first, v, false});
    } else {
      out.push_back(LabelPair{kv->first, "", true});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string EncodeIds(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  std::string out;
  uint64_t prev = 0;
  for (int64_t id : ids) {
    uint64_t delta = static_cast<uint64_t>(id) - prev;
    prev = static_cast<uint64_t>(id);
    do {
      uint8_t byte = delta & 0x7f;
      delta >>= 7;
      out.push_back(static_cast<char>(byte | (delta ? 0x80 : 0)));
    } while (delta);
  }
  return out;
}

Result<std::vector<int64_t>> DecodeIds(std::span<const uint8_t> bytes) {
  std::vector<int64_t> ids;
  uint64_t prev = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    uint64_t delta = 0;
    int shift = 0;
    while (true) {
      if (i == bytes.size() || shift > 63) return MakeError("corrupt label id list", ErrorKind::kCorrupt);
      uint8_t byte = bytes[i++];
      delta |= uint64_t{byte & 0x7fu} << shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    prev += delta;
    ids.push_back(static_cast<int64_t>(prev));
  }
  return ids;
}

}  // namespace golens::store
