// Per-binary state, parsed once and shared by every process that maps the
// binary: the symbolizer's Binary, its Go info (release, runtime offsets, TLS
// offset) and the frame analysis of its functions (leaf fix-up). Later
// features add their per-binary tables here (uprobe offsets for HTTP
// handlers, map-lookup PC tables), not in per-process state.
//
// A record lives while some process mapping or some not yet built interval
// refers to it; the registry only remembers live records, so a binary is
// forgotten when the last process using it exits and its samples are
// written.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "profiler/function_frame.h"
#include "profiler/go_binary_info.h"
#include "profiler/map_code.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

class BinaryRecord {
 public:
  BinaryRecord(uint64_t id, std::shared_ptr<const symbolizer::Binary> binary);

  uint64_t id() const { return id_; }  // unique in this process's lifetime
  // The same for every record of the same build (a hash of the build ID;
  // id() when there is none): caches of symbolized frames outlive records.
  uint64_t cache_key() const { return cache_key_; }
  const symbolizer::Binary& binary() const { return *binary_; }
  // Derived on first use (disassembles runtime.stackcheck); thread-safe.
  const GoBinaryInfo& go_info() const;
  // The map code (map operations, map-pointer PC ranges); derived on first
  // use by disassembly; thread-safe.
  const MapCode& map_code() const;

  // Frame layout of the function containing `vaddr` (nullptr when unknown),
  // for the leaf fix-up. Cached: at most kMaxFrameInfos functions.
  const FunctionFrameInfo* FrameInfoAt(uint64_t vaddr) const;
  static constexpr size_t kMaxFrameInfos = 1 << 14;

 private:
  uint64_t id_;
  uint64_t cache_key_;
  std::shared_ptr<const symbolizer::Binary> binary_;
  mutable std::once_flag go_once_;
  mutable GoBinaryInfo go_info_;
  mutable std::once_flag map_once_;
  mutable MapCode map_code_;
  mutable std::mutex frames_mu_;
  mutable std::unordered_map<uint64_t, const FunctionFrameInfo*> frame_by_pc_;
  mutable std::map<uint64_t, std::unique_ptr<FunctionFrameInfo>> frame_by_entry_;
};

// Live BinaryRecords by identity (build ID, else the parsed file itself).
// Thread-safe.
class BinaryRegistry {
 public:
  std::shared_ptr<BinaryRecord> Get(const std::shared_ptr<const symbolizer::Binary>& binary);
  // Records still referenced somewhere.
  size_t live() const;

 private:
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, std::weak_ptr<BinaryRecord>> by_key_;
};

}  // namespace golens::profiler
