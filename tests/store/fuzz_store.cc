// libFuzzer over what the store decodes from disk: zstd frames
// (DecompressBlob), label id lists (DecodeIds) and raw pprof bytes read in
// place by the merger (ProfileMerger::AddSerialized). Corrupt input must
// give an error, never a crash, hang or out-of-bounds access; what merges
// must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <span>

#include "pprof/merge.h"
#include "pprof/store/blob_codec.h"
#include "pprof/store/label_index.h"

namespace {

void Merge(std::span<const uint8_t> bytes) {
  golens::pprof::ProfileMerger merger;
  // Twice: the second pass goes through the id memos of the first.
  for (int i = 0; i < 2; ++i) {
    if (!merger.AddSerialized(bytes, i ? std::vector<golens::pprof::TagFilter>{{"k", "v"}}
                                       : std::vector<golens::pprof::TagFilter>{}).ok()) {
      return;
    }
  }
  auto out = merger.Finish();
  if (!out.ok()) return;
  for (const auto& sample : out->samples) {
    if (sample.values.size() != out->sample_types.size()) __builtin_trap();
    for (uint64_t id : sample.location_ids) {
      if (id == 0 || id > out->locations.size()) __builtin_trap();
    }
  }
  for (const auto& loc : out->locations) {
    if (loc.mapping_id > out->mappings.size()) __builtin_trap();
    for (const auto& line : loc.lines) {
      if (line.function_id > out->functions.size()) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)golens::store::DecodeIds(bytes);
  auto raw = golens::store::DecompressBlob(bytes, 0, nullptr);
  if (raw.ok()) Merge(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw->data()), raw->size()));
  Merge(bytes);
  return 0;
}
