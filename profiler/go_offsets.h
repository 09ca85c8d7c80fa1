// Offsets inside the Go runtime's g and m structs (linux, 64-bit), by Go
// release. Source: shared/docs/go-runtime.md section 3.4 (measured from DWARF
// for 1.19 and 1.21-1.27; 1.17, 1.18, 1.20 from the otel and Datadog tables).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace golens::profiler {

struct GoVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  uint32_t Packed() const { return static_cast<uint32_t>(major) << 16 | static_cast<uint32_t>(minor); }
  bool operator<(const GoVersion& o) const {
    if (major != o.major) return major < o.major;
    return minor < o.minor;
  }
};

// "go1.26.8", "go1.21rc2", "go1.22", "devel go1.27-abc" -> {1, 26, 8}.
std::optional<GoVersion> ParseGoVersion(std::string_view text);

struct GoRuntimeOffsets {
  uint32_t g_m = 0;
  uint32_t g_goid = 0;
  uint32_t g_labels = 0;
  uint32_t m_g0 = 0;
  uint32_t m_curg = 0;
  uint32_t m_gsignal = 0;
};

struct GoOffsetsLookup {
  GoRuntimeOffsets offsets;
  bool exact = false;  // false: a newer release than the table; the newest row was used
};

// Offsets for a release. nullopt before Go 1.17 (no table row; goroutine ids
// are then not collected). Releases newer than the table use its newest row.
std::optional<GoOffsetsLookup> LookupGoRuntimeOffsets(const GoVersion& version);

}  // namespace golens::profiler
