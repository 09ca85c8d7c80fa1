// SortByAddress: batches are large and their addresses span a few MB of
// text, so an LSD radix sort over the bits that differ (2-3 passes of 11
// bits) beats std::sort several times over.
#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {

void SortByAddress(std::span<std::pair<uint64_t, uint32_t>> items, std::span<std::pair<uint64_t, uint32_t>> scratch) {
  auto v = items;
  if (std::is_sorted(v.begin(), v.end())) return;
  if (v.size() < 512 || scratch.size() < v.size()) {
    std::sort(v.begin(), v.end());
    return;
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& e : v) {
    lo = std::min(lo, e.first);
    hi = std::max(hi, e.first);
  }
  const uint64_t span = hi - lo;
  const int bits = span == 0 ? 0 : 64 - __builtin_clzll(span);
  // Digits of at most 12 bits (the counts stay in L1): a text section of up
  // to 16 MB sorts in two passes.
  constexpr int kMaxDigit = 12;
  const int passes = (bits + kMaxDigit - 1) / kMaxDigit;
  const int digit = passes == 0 ? 0 : (bits + passes - 1) / passes;
  const uint64_t mask = (uint64_t{1} << digit) - 1;
  auto tmp = scratch.first(v.size());
  for (int shift = 0; shift < bits; shift += digit) {
    size_t count[(1 << kMaxDigit) + 1] = {};
    for (const auto& e : v) ++count[((e.first - lo) >> shift & mask) + 1];
    for (uint64_t d = 0; d < mask + 1; ++d) count[d + 1] += count[d];
    for (const auto& e : v) tmp[count[(e.first - lo) >> shift & mask]++] = e;
    std::swap(v, tmp);
  }
  if (v.data() != items.data()) std::copy(v.begin(), v.end(), items.begin());
}

void SortByAddress(std::vector<std::pair<uint64_t, uint32_t>>* items) {
  if (std::is_sorted(items->begin(), items->end())) return;
  if (items->size() < 512) {
    std::sort(items->begin(), items->end());
    return;
  }
  std::vector<std::pair<uint64_t, uint32_t>> tmp(items->size());
  SortByAddress(*items, tmp);
}

}  // namespace golens::symbolizer
