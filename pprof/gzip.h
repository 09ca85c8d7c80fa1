// gzip through zlib: level-1 compression (what Go's runtime uses) and
// decompression of single- or multi-member streams with a size cap.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "profiler/base/result.h"

namespace golens::pprof {

inline bool IsGzip(std::span<const uint8_t> data) {
  return data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

Result<std::string> GzipCompress(std::span<const uint8_t> data, int level = 1);

// Refuses output larger than `max_output` (kResourceExhausted) as soon as
// inflating passes it: a gzip bomb never holds more than max_output + 1 bytes.
Result<std::string> GzipDecompress(std::span<const uint8_t> data,
                                   size_t max_output = size_t{2} << 30);

}  // namespace golens::pprof
