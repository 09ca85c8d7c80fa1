// Per-process state, kept small: identity (pid + start time, so a reused pid
// is never mixed with the process that had it before), the executable, and
// the executable mappings in force now, each pointing at a shared
// BinaryRecord. Samples are normalized against these mappings the moment
// they are drained, so a library unmapped or replaced later never changes
// what an earlier sample means.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "profiler/binary_record.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

// One executable mapping as it was when it was read. Immutable; shared by
// the process state and by every interval whose samples fall in it.
struct MappingRecord {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;
  uint64_t inode = 0;
  std::string dev;
  std::string path;                      // "" for anonymous (JIT) code
  std::shared_ptr<BinaryRecord> binary;  // null when anonymous or unreadable

  bool Contains(uint64_t address) const { return address >= start && address < end; }
  bool SameAs(const symbolizer::Mapping& m) const {
    return start == m.start && end == m.end && file_offset == m.file_offset && inode == m.inode && dev == m.dev &&
           path == m.path;
  }
  // The ELF virtual address of a runtime address in this mapping.
  std::optional<uint64_t> Vaddr(uint64_t address) const;
};

std::shared_ptr<const MappingRecord> MakeMappingRecord(const symbolizer::Mapping& m,
                                                       std::shared_ptr<BinaryRecord> binary);

struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // clock ticks since boot
  bool operator==(const ProcessIdentity&) const = default;
};

class ProcessState {
 public:
  ProcessState(ProcessIdentity id, bool follow_children) : id_(id), follow_children_(follow_children) {}

  const ProcessIdentity& id() const { return id_; }
  pid_t pid() const { return id_.pid; }
  bool follow_children() const { return follow_children_; }

  const std::string& exe_path() const { return exe_path_; }
  const std::shared_ptr<BinaryRecord>& main_binary() const { return main_binary_; }
  const std::vector<std::shared_ptr<const MappingRecord>>& mappings() const { return mappings_; }
  // The mapping containing `address`, or null.
  const std::shared_ptr<const MappingRecord>* Find(uint64_t address) const;
  // The first mapping of the main executable (pprof's mapping[0]), or null.
  std::shared_ptr<const MappingRecord> MainMapping() const;

  void SetProgram(std::string exe_path, std::shared_ptr<BinaryRecord> main_binary);
  void SetMappings(std::vector<std::shared_ptr<const MappingRecord>> mappings);
  // Mappings overlapping [addr, addr + len) end (munmap).
  void Unmap(uint64_t addr, uint64_t len);

  // Waiting for the exec of a launched command: no mappings yet.
  bool awaiting_exec = false;
  // The mappings may no longer match the process (munmap, exec, fork).
  bool stale = false;
  std::chrono::steady_clock::time_point last_refresh{};
  uint64_t samples = 0;
  // Counts SetProgram calls: an exec starts a new generation, so the
  // samples before and after it are told apart (pre-exec and new program).
  uint32_t program_generation() const { return program_generation_; }

 private:
  uint32_t program_generation_ = 0;
  ProcessIdentity id_;
  bool follow_children_;
  std::string exe_path_;
  std::shared_ptr<BinaryRecord> main_binary_;
  std::vector<std::shared_ptr<const MappingRecord>> mappings_;  // sorted by start, executable only
  mutable size_t last_found_ = 0;  // index of the last Find hit: consecutive frames share mappings
};

}  // namespace golens::profiler
