// Where a Go binary keeps g in thread-local storage on amd64: the offset
// from the FS base. -8 for internally linked binaries; external (cgo) links
// can differ. Found the way the OpenTelemetry profiler does it: disassemble
// runtime.stackcheck (an assembly function in every Go release) with
// Capstone and take the FS-relative operand of its first load.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace golens::symbolizer {
class Binary;
}

namespace golens::profiler {

inline constexpr int64_t kDefaultGoTlsOffset = -8;

// Code of runtime.stackcheck at `vaddr` -> the TLS offset, if recognized.
// `read_vaddr` resolves RIP-relative GOT slots (may be null).
std::optional<int64_t> DecodeGoTlsOffset(std::span<const uint8_t> code, uint64_t vaddr,
                                         const symbolizer::Binary* binary);

// Looks up runtime.stackcheck in `binary` and decodes it; nullopt if absent
// or unrecognized (callers fall back to kDefaultGoTlsOffset).
std::optional<int64_t> DetectGoTlsOffset(const symbolizer::Binary& binary);

}  // namespace golens::profiler
