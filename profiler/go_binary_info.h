// What golens needs to know about one Go binary to sample it: its release,
// the runtime g/m offsets for that release, and the TLS offset of g. Built
// once per binary and kept in its BinaryRecord (profiler/binary_record.h),
// shared by every process that runs the binary.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

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
  bool swiss_maps = false;             // maps are Swiss tables (internal/runtime/maps)

  // net/http.serverHandler.ServeHTTP, where the span probes go; found = false
  // when the program serves no HTTP with net/http.
  struct HttpProbes {
    bool found = false;
    uint64_t entry_offset = 0;              // file offsets of the entry (past the stack check)...
    std::vector<uint64_t> return_offsets;   // ...and of every RET instruction
  } http;

  bool go_features_on() const { return is_go && offsets.has_value(); }
};

// Struct offsets the span probes read (http.Request, url.URL): the same
// from Go 1.17 through 1.27 (checked against DWARF of the test fixtures).
struct HttpOffsets {
  uint16_t request_method = 0;
  uint16_t request_url = 16;
  uint16_t request_header = 56;
  uint16_t url_path = 56;
};

// Derives the info from a parsed binary (pclntab, buildinfo, disassembly).
GoBinaryInfo AnalyzeGoBinary(const symbolizer::Binary& binary);

// The BPF map entry for a process running a binary with this info.
golens_proc_info MakeProcInfo(const GoBinaryInfo& info);

}  // namespace golens::profiler
