// Which label (key, value) pairs of a profile go into the store's label
// index, and the compact id lists that tie a profile to its pairs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::store {

inline constexpr size_t kMaxLabelPairsPerProfile = 256;

struct LabelPair {
  std::string key;
  std::string value;      // numeric labels as their decimal (as --tag matches them)
  bool wildcard = false;  // "this profile has `key` with values not listed"
  bool operator==(const LabelPair&) const = default;
  auto operator<=>(const LabelPair&) const = default;
};

// The distinct pairs of the profile's samples, at most `max_pairs`. Keys
// with few values go first (worker=a|b, http.path=...); a key whose values
// do not all fit (goroutine ids, span ids) is listed once as a wildcard, so
// pre-selection by that key keeps the profile and the index stays bounded.
// With more keys than `max_pairs`, the last entry is the wildcard with an
// empty key: any key may be there.
// Sorted by (key, value).
std::vector<LabelPair> ExtractLabelPairs(const pprof::Profile& profile,
                                         size_t max_pairs = kMaxLabelPairsPerProfile);

// Ids sorted and delta-encoded as LEB128 varints (~1-2 bytes per id).
std::string EncodeIds(std::vector<int64_t> ids);
// kCorrupt on a truncated or overlong varint.
Result<std::vector<int64_t>> DecodeIds(std::span<const uint8_t> bytes);

}  // namespace golens::store
