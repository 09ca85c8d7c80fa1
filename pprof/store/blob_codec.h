// Stored profile data: raw profile.proto bytes in one zstd frame (content
// size and checksum in the header, so a flipped byte is caught on decode),
// optionally against a dictionary trained per (service, build).
#pragma once

#include <zstd.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "profiler/base/result.h"

namespace golens::store {

// Never decode more than this from one entry (a corrupt header claiming
// terabytes must not allocate them). Stored CPU profiles are far smaller.
inline constexpr uint64_t kMaxRawProfileBytes = uint64_t{1} << 30;

// A zstd dictionary ready for both directions (digested once, reused).
class Dictionary {
 public:
  // kCorrupt when `bytes` cannot be loaded as a dictionary.
  static Result<std::shared_ptr<const Dictionary>> Create(std::span<const uint8_t> bytes, int level);
  ~Dictionary();
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  size_t size() const { return size_; }

 private:
  friend Result<std::string> CompressBlob(std::span<const uint8_t>, int, const Dictionary*);
  friend Result<std::string> DecompressBlob(std::span<const uint8_t>, uint64_t, const Dictionary*);
  Dictionary() = default;
  ZSTD_CDict* cdict_ = nullptr;
  ZSTD_DDict* ddict_ = nullptr;
  size_t size_ = 0;
};

// One frame with content size and checksum; `dict` may be null.
Result<std::string> CompressBlob(std::span<const uint8_t> raw, int level, const Dictionary* dict);
// The raw bytes back. Anything wrong (not zstd, size not `expected_size`
// when non-zero, checksum mismatch, wrong or missing dictionary) is kCorrupt.
Result<std::string> DecompressBlob(std::span<const uint8_t> blob, uint64_t expected_size, const Dictionary* dict);

// A dictionary of at most `capacity` bytes for profiles like `samples`:
// zstd's trainer (ZDICT_trainFromBuffer), or, when it cannot train on so few
// samples, the newest samples' bytes as a raw-content dictionary (pprof
// string tables repeat nearly verbatim within a build, so that works well).
std::string TrainDictionary(const std::vector<std::string>& samples, size_t capacity);

}  // namespace golens::store
