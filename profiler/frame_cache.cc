#include "profiler/frame_cache.h"

namespace golens::profiler {

FrameCache::Frames FrameCache::Find(const Key& key) {
  auto it = newer_.find(key);
  if (it != newer_.end()) return it->second;
  auto old = older_.find(key);
  if (old == older_.end()) return nullptr;
  Frames frames = old->second;
  older_.erase(old);
  Insert(key, frames);
  return frames;
}

void FrameCache::Insert(const Key& key, Frames frames) {
  if (newer_.size() >= max_entries_ / 2) {
    older_ = std::move(newer_);
    newer_.clear();
    ++stats_.generations_dropped;
  }
  newer_.emplace(key, std::move(frames));
}

std::vector<FrameCache::Frames> FrameCache::Symbolize(const BinaryRecord& binary, std::span<const uint64_t> vaddrs) {
  std::vector<Frames> out(vaddrs.size());
  std::vector<uint64_t> missing;
  std::vector<size_t> missing_at;
  for (size_t i = 0; i < vaddrs.size(); ++i) {
    out[i] = Find(Key{binary.cache_key(), vaddrs[i]});
    if (out[i]) {
      ++stats_.hits;
    } else {
      ++stats_.misses;
      missing.push_back(vaddrs[i]);
      missing_at.push_back(i);
    }
  }
  if (missing.empty()) return out;
  std::vector<symbolizer::SymbolizedAddress> results = binary.binary().Symbolize(missing);
  for (size_t j = 0; j < missing.size(); ++j) {
    auto frames = std::make_shared<const symbolizer::SymbolizedAddress>(
        j < results.size() ? std::move(results[j]) : symbolizer::SymbolizedAddress{});
    Insert(Key{binary.cache_key(), missing[j]}, frames);
    out[missing_at[j]] = std::move(frames);
  }
  return out;
}

FrameCache::Stats FrameCache::stats() const {
  Stats s = stats_;
  s.entries = newer_.size() + older_.size();
  return s;
}

}  // namespace golens::profiler
