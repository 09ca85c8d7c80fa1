// Public API of the symbolizer: the contract the rest of golens builds on.
//
// Shape (after blazesym and Perfetto):
//   * Binary: one parsed ELF file (pclntab, ELF symbols, build info). Parsed
//     once, shared by every process that maps it, cached by build ID.
//   * ProcessSymbolizer: per-PID state: the /proc/PID/maps snapshot and, per
//     mapping, a pointer to the shared Binary. Normalization (absolute address
//     -> mapping + file offset + ELF vaddr) is its own step because pprof
//     mappings need it.
//   * Batch in, exactly one result per input address, in order. A failed
//     address is an "unknown" result with a reason, never a failed batch.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"

namespace golens::symbolizer {

// One frame of an inline chain.
struct Frame {
  // "main.work", "runtime.mallocgc", "memcpy", demangled C++; never empty. Go
  // generics keep their shape arguments ("main.F[go.shape.int]"), exactly as
  // runtime/pprof names them (what PGO matches on); flame graphs shorten.
  std::string function;
  std::string system_name;  // name as in the symbol table (mangled C++); "" when equal to function
  std::string file;         // source file; "" when unknown
  int64_t line = 0;         // 0 when unknown
  int64_t start_line = 0;   // line of the function's declaration when known (Go >= 1.20), else 0
  bool inlined = false;     // true for every frame except the physical (outermost) one
};

// The answer for one address. frames are innermost first; empty = unknown.
struct SymbolizedAddress {
  std::vector<Frame> frames;
  std::string error;  // why it is unknown (only set when frames is empty)
  bool ok() const { return !frames.empty(); }
};

// Zero-copy form of Frame for hot paths (the CLI, bulk symbolization): the
// strings point into the binary's tables or into scratch space and are valid
// only until the visitor returns.
struct FrameView {
  std::string_view function;
  std::string_view system_name;
  std::string_view file;
  int64_t line = 0;
  int64_t start_line = 0;
  bool inlined = false;
};

// Called once per input address: its index in the input, its frames
// (innermost first; empty = unknown) and, when unknown, the reason.
using FrameVisitor =
    std::function<void(size_t input_index, std::span<const FrameView> frames, std::string_view error)>;

// Sorts (address, input index) pairs by address; stable (equal addresses
// keep their order). An LSD radix sort: several times faster than std::sort
// on large batches. Callers that sort a batch once and pass sorted addresses
// to SymbolizeVisit get visits in input order (no re-sort inside).
void SortByAddress(std::vector<std::pair<uint64_t, uint32_t>>* items);
// Same, with caller-provided scratch space (at least items.size() pairs;
// less falls back to std::sort).
void SortByAddress(std::span<std::pair<uint64_t, uint32_t>> items, std::span<std::pair<uint64_t, uint32_t>> scratch);

struct Symbol {
  std::string name;
  uint64_t vaddr = 0;  // ELF virtual address
  uint64_t size = 0;
};

// One ELF file, parsed once. Thread-compatible; const methods are thread-safe.
class Binary {
 public:
  virtual ~Binary() = default;

  // Opens and parses `path`. Corrupt input -> Error with a clear message.
  static Result<std::shared_ptr<const Binary>> Open(const std::string& path);
  // Same, for an image already in memory (used by fuzzers and tests).
  static Result<std::shared_ptr<const Binary>> FromBytes(std::vector<uint8_t> bytes,
                                                         std::string display_name);

  virtual const std::string& path() const = 0;
  // Hex GNU build-id if present; otherwise the Go build ID; otherwise "".
  virtual const std::string& build_id() const = 0;
  virtual bool is_go() const = 0;
  virtual const std::string& go_version() const = 0;   // "go1.26.8" (experiments stripped), "" if not Go
  virtual const std::string& main_module() const = 0;  // module path from buildinfo, "" if unknown
  virtual bool is_pie() const = 0;                     // ET_DYN
  // False when the file has neither a Go pclntab nor an ELF symbol table
  // (.symtab/.dynsym) with functions: every lookup will be unknown (a
  // truncated copy, or a fully stripped non-Go binary).
  virtual bool has_symbols() const { return true; }

  // ELF virtual addresses -> inline chains. Callers pass return addresses
  // already adjusted to point inside the call (pc - 1).
  virtual std::vector<SymbolizedAddress> Symbolize(std::span<const uint64_t> vaddrs) const = 0;

  // Same lookups as Symbolize without building strings. `visit` runs exactly
  // once per input, in ascending address order (not input order).
  // (Default bodies here are for other implementations, e.g. test doubles;
  // being in-class they leave Binary without a key function.)
  virtual void SymbolizeVisit(std::span<const uint64_t> vaddrs, const FrameVisitor& visit) const {
    auto results = Symbolize(vaddrs);
    std::vector<size_t> order(vaddrs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return vaddrs[a] < vaddrs[b]; });
    std::vector<FrameView> views;
    for (size_t i : order) {
      views.clear();
      for (const auto& f : results[i].frames)
        views.push_back(FrameView{f.function, f.system_name, f.file, f.line, f.start_line, f.inlined});
      visit(i, views, results[i].error);
    }
  }
  // The function (physical, not inlined) whose code contains vaddr: its
  // symbol-table name (pclntab name, or ELF name, mangled), entry and size.
  // O(log n); cheaper than Symbolize + FindSymbol(name).
  virtual std::optional<Symbol> FunctionContaining(uint64_t vaddr) const {
    auto r = Symbolize(std::span<const uint64_t>(&vaddr, 1));
    if (r.empty() || !r[0].ok()) return std::nullopt;
    const Frame& physical = r[0].frames.back();
    auto sym = FindSymbol(physical.system_name.empty() ? physical.function : physical.system_name);
    if (sym && vaddr >= sym->vaddr && vaddr - sym->vaddr < (sym->size ? sym->size : 1)) return sym;
    return std::nullopt;
  }

  // File offset -> ELF vaddr through the PT_LOAD that contains it.
  virtual std::optional<uint64_t> FileOffsetToVaddr(uint64_t file_offset) const = 0;
  // ELF vaddr -> file offset through the PT_LOAD that contains it (where a
  // uprobe on that instruction attaches). Default: unknown.
  virtual std::optional<uint64_t> VaddrToFileOffset(uint64_t) const { return std::nullopt; }
  // Function by exact name: Go pclntab functions first, then .symtab/.dynsym.
  // (The first call builds a name index; later calls are hash lookups.)
  virtual std::optional<Symbol> FindSymbol(std::string_view name) const = 0;
  // All functions whose name satisfies `pred`-style prefix match (e.g. "runtime.mapaccess").
  virtual std::vector<Symbol> FindSymbolsWithPrefix(std::string_view prefix) const = 0;
  // Bytes of the file image at an ELF vaddr (for disassembly). Empty if out of range.
  virtual std::span<const uint8_t> ReadVaddr(uint64_t vaddr, size_t length) const = 0;

  // A section's ELF address and contents (e.g. .eh_frame_hdr for unwinding);
  // nullopt when the file has none or it is not in the file.
  struct SectionView {
    uint64_t vaddr = 0;
    std::span<const uint8_t> bytes;
  };
  virtual std::optional<SectionView> Section(std::string_view) const { return std::nullopt; }
  // [start, end) ELF addresses of the Go functions (the pclntab's range);
  // nullopt when the binary has no pclntab.
  virtual std::optional<std::pair<uint64_t, uint64_t>> GoTextRange() const { return std::nullopt; }
  // The detached debug file whose symbols were added ("" when none).
  virtual const std::string& debug_file() const {
    static const std::string kNone;
    return kNone;
  }
};

// One line of /proc/PID/maps.
struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;
  std::string perms;  // "r-xp"
  uint64_t inode = 0;
  std::string dev;    // "fd:01"
  std::string path;   // "/usr/bin/x", "[vdso]", "" for anonymous; " (deleted)" suffix stripped
  bool deleted = false;
  bool executable() const { return perms.size() > 2 && perms[2] == 'x'; }
};

Result<std::vector<Mapping>> ReadProcessMappings(pid_t pid);
Result<std::vector<Mapping>> ParseProcessMappings(std::string_view maps_text);

// Bounded cache of parsed binaries keyed by build ID (or dev:inode:size:mtime
// when there is none). Thread-safe.
class BinaryCache {
 public:
  explicit BinaryCache(size_t max_binaries = 64);
  ~BinaryCache();

  // The binary a process actually mapped: /proc/PID/map_files/START-END, then
  // /proc/PID/root/PATH, so replaced or deleted files still symbolize. The
  // Binary's path() is the mapping's path. "[vdso]" is read from process memory.
  Result<std::shared_ptr<const Binary>> GetForMapping(pid_t pid, const Mapping& mapping);
  Result<std::shared_ptr<const Binary>> GetForPath(const std::string& path);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    size_t entries = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// /proc/kallsyms (with modules), sorted for binary search.
//
// An address only gets the symbol below it when it can be inside that
// symbol: core kernel symbols cover [_text, _etext) and [_sinittext,
// _einittext) (the end markers in kallsyms), module symbols their module's
// range from /proc/modules (or, without it, at most kMaxModuleGap past the
// symbol and never past the next one). Past the end of kernel text the
// answer is unknown ("??"), never the last symbol before it.
class Kallsyms {
 public:
  // Also reads "modules" next to `path` (/proc/modules) when it is there.
  static Result<Kallsyms> Load(const std::string& path = "/proc/kallsyms");
  // `modules`: /proc/modules text ("name size refs deps state 0xaddr"), may be empty.
  static Result<Kallsyms> Parse(std::string_view text, std::string_view modules = {});
  // One frame (function = symbol name, file = "[module]" or "", line 0).
  SymbolizedAddress Symbolize(uint64_t address) const;
  size_t size() const { return symbols_.size(); }

  static constexpr uint64_t kMaxModuleGap = 1u << 20;
  struct Range {
    uint64_t start = 0, end = 0;
  };

 private:
  struct Entry {
    uint64_t address;
    std::string name;
    std::string module;
  };
  std::vector<Entry> symbols_;
  std::vector<Range> core_text_;  // empty when the end markers are missing
  std::vector<std::pair<std::string, Range>> modules_;  // "[name]" -> range, from /proc/modules
};

// Per-process state: a maps snapshot and a Binary per file-backed mapping
// (and the [vdso], read from process memory). Binaries are opened lazily on
// first use. Not thread-safe (one owner per PID); the shared cache is.
class ProcessSymbolizer {
 public:
  static Result<std::unique_ptr<ProcessSymbolizer>> Create(pid_t pid, BinaryCache* cache);
  // For tests: a fixed set of mappings.
  ProcessSymbolizer(pid_t pid, std::vector<Mapping> mappings, BinaryCache* cache);

  struct Normalized {
    size_t mapping_index = 0;  // into mappings()
    uint64_t file_offset = 0;
    uint64_t vaddr = 0;        // ELF virtual address in the mapped file (0 if no binary)
  };
  std::optional<Normalized> Normalize(uint64_t address) const;

  // Runtime addresses (already pc-1 adjusted for non-leaf frames) -> frames.
  std::vector<SymbolizedAddress> Symbolize(std::span<const uint64_t> addresses);

  const std::vector<Mapping>& mappings() const { return mappings_; }
  // The binary backing mapping i (nullptr if anonymous or unreadable).
  std::shared_ptr<const Binary> BinaryFor(size_t mapping_index);
  // Re-reads /proc/PID/maps (new libraries); keeps already opened binaries.
  // A vanished or exited (zombie) process is an error and leaves the last
  // snapshot as it was.
  Result<void> Refresh();
  pid_t pid() const { return pid_; }
  // Index of the mapping containing `address`, without opening its binary
  // (the cheap half of Normalize, for per-sample checks).
  std::optional<size_t> MappingIndex(uint64_t address) const;

 private:
  // Opens mapping i's binary on first use (Normalize is const but lazy).
  std::shared_ptr<const Binary> LoadBinary(size_t mapping_index) const;

  pid_t pid_;
  std::vector<Mapping> mappings_;  // sorted by start
  mutable std::vector<std::shared_ptr<const Binary>> binaries_;  // parallel to mappings_
  mutable std::vector<bool> binary_tried_;
  mutable std::vector<std::string> binary_errors_;  // why binaries_[i] is null
  BinaryCache* cache_;
};

}  // namespace golens::symbolizer
