// Symbolized frames by (binary, ELF vaddr), kept across snapshots so a
// continuous session symbolizes each hot address once, not once per
// interval. Bounded: two generations of at most max_entries / 2 each; an
// entry used in the older generation moves to the newer one, and when the
// newer one is full the older one is dropped (an approximate LRU without
// per-entry bookkeeping).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "profiler/binary_record.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

class FrameCache {
 public:
  using Frames = std::shared_ptr<const symbolizer::SymbolizedAddress>;
  static constexpr size_t kDefaultMaxEntries = 1 << 16;

  explicit FrameCache(size_t max_entries = kDefaultMaxEntries) : max_entries_(std::max<size_t>(max_entries, 2)) {}

  // One result per vaddr, in order; symbolizes the misses in one batch.
  std::vector<Frames> Symbolize(const BinaryRecord& binary, std::span<const uint64_t> vaddrs);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t generations_dropped = 0;
    size_t entries = 0;
  };
  Stats stats() const;

 private:
  struct Key {
    uint64_t binary;  // BinaryRecord::cache_key()
    uint64_t vaddr;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>{}(k.vaddr * 31 + k.binary); }
  };
  using Generation = std::unordered_map<Key, Frames, KeyHash>;

  Frames Find(const Key& key);
  void Insert(const Key& key, Frames frames);

  size_t max_entries_;
  Generation newer_, older_;
  Stats stats_;
};

}  // namespace golens::profiler
