// Decodes the records the BPF programs write (bpf/abi.h, version 2): a CPU
// sample (fixed part, the used frames of both stacks, optional sections) or a
// process event. Every size is checked against the record's length: a
// malformed record is an error, never a read past its end.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bpf/abi.h"
#include "profiler/base/result.h"

namespace golens::profiler {

static_assert(sizeof(golens_record_header) == 8, "record header layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_sample) == 88, "golens_sample layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_section) == 8, "golens_section layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_proc_event) == 64 + GOLENS_EXEC_FILENAME_BYTES, "golens_proc_event layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_labels) == 8 && sizeof(golens_label) == 4, "label layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_span) == 248 && sizeof(golens_span_end) == 280, "span layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_map_stats) == 48 && sizeof(golens_map_pc) == 8 &&
                  sizeof(golens_map_pcs) == 8 + 8 * GOLENS_MAX_MAP_PCS,
              "map layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_map_probe) == 80, "map probe layout changed: bump GOLENS_ABI_VERSION");
static_assert(sizeof(golens_proc_info) == 72, "golens_proc_info layout changed: bump GOLENS_ABI_VERSION");

struct SampleSection {
  uint16_t kind = 0;
  uint16_t flags = 0;
  std::span<const uint8_t> payload;
};

// A decoded sample. Spans point into the record: valid while it is.
struct SampleView {
  const golens_sample* head = nullptr;
  std::span<const uint64_t> user;    // leaf first
  std::span<const uint64_t> kernel;  // leaf first
  std::vector<SampleSection> sections;

  const SampleSection* section(uint16_t kind) const {
    for (const SampleSection& s : sections)
      if (s.kind == kind) return &s;
    return nullptr;
  }
};

// `bytes` must be 8-byte aligned (ring buffer records are).
Result<SampleView> DecodeSample(std::span<const uint8_t> bytes);
Result<golens_proc_event> DecodeProcEvent(std::span<const uint8_t> bytes);
Result<golens_span_end> DecodeSpanEnd(std::span<const uint8_t> bytes);
Result<golens_map_probe> DecodeMapProbe(std::span<const uint8_t> bytes);
// The kind in the header, or an error for a truncated or foreign record.
Result<uint16_t> RecordKind(std::span<const uint8_t> bytes);

// Builds a sample record as BPF would (tests, benchmarks, fuzzing). The
// storage is 8-byte aligned; bytes() is the record.
class SampleRecordBuilder {
 public:
  SampleRecordBuilder();
  golens_sample& head() { return head_; }
  SampleRecordBuilder& User(std::vector<uint64_t> frames);
  SampleRecordBuilder& Kernel(std::vector<uint64_t> frames);
  SampleRecordBuilder& Section(uint16_t kind, uint16_t flags, std::span<const uint8_t> payload);
  // Finishes the record; the span is valid until the next call.
  std::span<const uint8_t> bytes();

 private:
  golens_sample head_{};
  std::vector<uint64_t> user_, kernel_;
  std::vector<std::pair<golens_section, std::vector<uint8_t>>> sections_;
  std::vector<uint64_t> storage_;
};

golens_proc_event MakeProcEvent(uint32_t kind, uint32_t tgid, uint64_t start_ns);

}  // namespace golens::profiler
