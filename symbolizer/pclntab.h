// Go's pc -> function/file/line table (runtime.pcHeader and what follows),
// formats 1.16, 1.18 and 1.20+ (the last one unchanged through Go 1.27).
// Layouts: docs/go-runtime.md §1; runtime/symtab.go and runtime/symtabinl.go.
//
// The parser only trusts what it bounds-checks: every table read goes through
// a checked span, so a garbage table gives "unknown", never a crash or a loop.
#pragma once

#include <cstdint>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"
#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {

class ElfFile;

class Pclntab {
 public:
  enum class Format { kGo116, kGo118, kGo120 };

  // `data` starts at the pcHeader and runs to the end of the table (or of its
  // section/segment); `vaddr` is where that header sits in the ELF image.
  static Result<Pclntab> Parse(std::span<const uint8_t> data, uint64_t vaddr);

  Format format() const { return format_; }
  uint64_t vaddr() const { return vaddr_; }
  uint8_t quantum() const { return quantum_; }
  size_t num_funcs() const { return nfunc_; }
  // Offset (from the header) of funcnametab: moduledata.funcnametab points there.
  uint64_t funcname_offset() const { return funcname_off_; }
  // Byte offset of the header's textStart field (1.18+), 0 otherwise.
  static constexpr uint64_t kTextStartFieldOffset = 24;

  // Where function entries are relative to (1.18+); must be set before lookups.
  void set_text_start(uint64_t text_start) { text_start_ = text_start; }
  uint64_t text_start() const { return text_start_; }
  // Source of FUNCDATA: for 1.18+ the moduledata.gofunc base; for 1.16 the
  // funcdata words are absolute pointers read through `elf`.
  void set_funcdata_source(const ElfFile* elf, uint64_t gofunc);

  uint64_t FuncEntry(size_t index) const;  // absolute pc
  uint64_t FuncEnd(size_t index) const;    // entry of the next function
  std::string_view FuncName(size_t index) const;
  std::optional<size_t> FindFunc(uint64_t pc) const;
  // First and one-past-last pc covered by the table.
  uint64_t min_pc() const { return nfunc_ ? FuncEntry(0) : 0; }
  uint64_t max_pc() const { return nfunc_ ? FuncEntry(nfunc_) : 0; }

  struct Func {
    uint64_t entry = 0;
    uint32_t name_off = 0;
    uint32_t pcfile = 0;
    uint32_t pcln = 0;
    uint32_t npcdata = 0;
    uint32_t cu_offset = 0;
    int32_t start_line = 0;
    uint8_t nfuncdata = 0;
    uint64_t record_off = 0;  // offset of the _func in data_
  };
  // (file index, line, inline index) at one pc of a function.
  struct Position {
    int32_t file = -1;
    int32_t line = -1;
    int32_t inl = -1;
  };
  // One pcvalue table of the current function, decoded lazily into runs:
  // run k holds vals[k] for pcs in [ends[k-1], ends[k]) (ends[-1] = entry).
  // Decoding only goes as far as the highest pc asked for, and each byte of
  // the table is decoded once per function per batch: inline call sites
  // (which lie anywhere in the function) become binary searches.
  struct DecodedTable {
    uint32_t table = 0;     // offset in pctab; 0 = absent (value -1)
    uint64_t pos = 0;       // next (value, pc) pair in data_
    uint64_t hi = 0;        // decoded up to here (exclusive)
    int32_t val = -1;
    bool first = true;
    bool done = false;      // end of table or corrupt: -1 from hi on
    std::vector<uint64_t> ends;
    std::vector<int32_t> vals;
  };
  // Direct-mapped cache of C string lengths (function and file names repeat
  // across a batch; strnlen on each was a visible cost).
  struct StrCacheSlot {
    uint64_t pos = UINT64_MAX;
    uint64_t len = 0;
  };
  static constexpr size_t kStrCacheSlots = 4096;

  // State carried across a sorted batch: the current function and cursors.
  struct LookupState {
    size_t index = SIZE_MAX;
    uint64_t end = 0;
    Func func;
    std::string_view name;
    std::span<const uint8_t> inl_tree;
    uint32_t inl_table = 0;
    DecodedTable file_runs, line_runs, inl_runs;
    std::vector<StrCacheSlot> str_cache;  // kStrCacheSlots once used
  };

  // Appends the inline chain for pc, innermost first. `state` (may be null)
  // makes sorted batches cheap: same-function lookups share decoding work.
  bool Symbolize(uint64_t pc, std::vector<Frame>* frames, LookupState* state = nullptr) const;
  // Same, as views into the table (or into `state`'s scratch space): valid
  // until the next call with the same state. Replaces *frames.
  bool Visit(uint64_t pc, LookupState* state, std::vector<FrameView>* frames) const;

 private:
  bool Enter(uint64_t pc, LookupState* st) const;

  // Value of `t` at pc (>= the function's entry), decoding further as needed.
  int32_t RunValue(DecodedTable* t, uint64_t entry, uint64_t pc) const;
  void ResetRuns(DecodedTable* t, uint32_t table, uint64_t entry) const;
  Position RunPosition(LookupState* st, uint64_t pc) const;
  // FindFunc for a pc at or after function `from` (sorted batches): a
  // galloping search from there instead of a full binary search.
  std::optional<size_t> FindFuncFrom(uint64_t pc, size_t from) const;
  // Last function index in [lo, hi) whose entry is <= pc; needs entry(lo) <= pc < entry(hi).
  size_t Bisect(uint64_t pc, size_t lo, size_t hi) const;
  // Starts loading the tables of function `next` and the record of `after`.
  void Prefetch(size_t next, size_t after) const;
  std::string_view CStrCached(uint64_t table_off, uint64_t off, LookupState* st) const;

  std::optional<Func> ReadFunc(size_t index) const;
  uint32_t PcData(const Func& f, uint32_t table) const;
  // Offset in data_ (or absolute vaddr for 1.16) of FUNCDATA `index`; nullopt when absent.
  std::span<const uint8_t> InlineTree(const Func& f) const;
  std::string_view FileName(const Func& f, int32_t file_index, LookupState* st) const;
  std::string_view CStr(uint64_t table_off, uint64_t off) const;
  uint64_t ReadWord(uint64_t off, size_t size) const;  // 0 when out of range

  std::span<const uint8_t> data_;
  uint64_t vaddr_ = 0;
  Format format_ = Format::kGo120;
  uint8_t quantum_ = 1;
  uint8_t ptr_size_ = 8;
  uint64_t nfunc_ = 0;
  uint64_t funcname_off_ = 0, cu_off_ = 0, filetab_off_ = 0, pctab_off_ = 0, pcln_off_ = 0;
  uint64_t text_start_ = 0;
  size_t functab_entry_size_ = 8;
  size_t functab_field_size_ = 4;
  const ElfFile* elf_ = nullptr;
  uint64_t gofunc_ = 0;
  std::span<const uint8_t> gofunc_data_;
};


}  // namespace golens::symbolizer
