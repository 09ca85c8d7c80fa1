// libFuzzer over the parsers of the record area that see outside input:
// machine code of target binaries (TLS offset decoding, frame analysis for
// the leaf fix-up), /sys CPU lists, --duration and Go version strings.
// and the records BPF writes into the ring buffer (a kernel bug or a
// mismatched build must never make user space read past a record).
// The first byte picks the parser; the rest is its input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "profiler/base/duration.h"
#include "profiler/function_frame.h"
#include "profiler/go_offsets.h"
#include "profiler/go_tls.h"
#include "profiler/perf_events.h"
#include "profiler/sample_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace golens::profiler;
  if (size < 1) return 0;
  const uint8_t selector = data[0] % 6;
  const uint8_t* body = data + 1;
  const size_t n = size - 1;
  const std::string text(reinterpret_cast<const char*>(body), n);
  switch (selector) {
    case 0: {
      auto offset = DecodeGoTlsOffset({body, n}, 0x401000, nullptr);
      if (offset && (*offset <= -4096 || *offset >= 4096)) __builtin_trap();
      break;
    }
    case 1: {
      FunctionFrameInfo info = AnalyzeFunctionFrame(body, n, 0x401000);
      for (size_t i = 0; i <= n; i += 3) (void)info.At(0x401000 + i);
      if (info.frameless && info.push_rbp != 0) __builtin_trap();
      break;
    }
    case 2:
      (void)ParseCpuList(text.c_str());
      break;
    case 3: {
      auto d = ParseDuration(text);
      if (d.ok() && d->count() <= 0) __builtin_trap();
      break;
    }
    case 4:
      if (auto v = ParseGoVersion(text)) (void)LookupGoRuntimeOffsets(*v);
      break;
    case 5: {
      // Ring buffer records are 8-byte aligned; so is this copy.
      std::vector<uint64_t> aligned(n / 8 + 1);
      std::memcpy(aligned.data(), body, n);
      std::span<const uint8_t> record(reinterpret_cast<const uint8_t*>(aligned.data()), n);
      if (auto sample = DecodeSample(record); sample.ok()) {
        const uint8_t* end = record.data() + record.size();
        auto inside = [&](const void* p, size_t len) {
          auto* b = static_cast<const uint8_t*>(p);
          return b >= record.data() && b + len <= end;
        };
        if (!inside(sample->user.data(), sample->user.size_bytes())) __builtin_trap();
        if (!inside(sample->kernel.data(), sample->kernel.size_bytes())) __builtin_trap();
        for (const auto& s : sample->sections) {
          if (!s.payload.empty() && !inside(s.payload.data(), s.payload.size())) __builtin_trap();
        }
      }
      (void)DecodeProcEvent(record);
      (void)DecodeSpanEnd(record);
      break;
    }
  }
  return 0;
}
