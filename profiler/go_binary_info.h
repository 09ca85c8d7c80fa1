// What golens needs to know about one Go binary to sample it: its release,
// the runtime g/m offsets for that release, and the TLS offset of g. Built
// once per binary and kept in its BinaryRecord (profiler/binary_record.h),
// shared by every process that runs the binary.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "bpf/abi.h"
#include "profiler/go_offsets.h"

namespace golens::symbolizer {
class Binary;
}

namespace golens::profiler {

struct GoBinaryInfo {
  bool is_go = false;
  std::string go_version;              // "go1.26.8"; "" when not Go
  std::optional<GoRuntimeOffsets> offsets;  // nullopt: goroutine ids off
  bool offsets_exact = false;          // false: release newer than the table
  int64_t tls_offset = -8;
  bool tls_detected = false;           // false: the -8 default was used
  std::string go_features_off_reason;  // "" when goroutine ids are on

  bool go_features_on() const { return is_go && offsets.has_value(); }
};

// Derives the info from a parsed binary (pclntab, buildinfo, disassembly).
GoBinaryInfo AnalyzeGoBinary(const symbolizer::Binary& binary);

// The BPF map entry for a process running a binary with this info.
golens_proc_info MakeProcInfo(const GoBinaryInfo& info);

}  // namespace golens::profiler
