#include "symbolizer/pclntab.h"

#include <algorithm>
#include <string>

#include "symbolizer/elf_file.h"

namespace golens::symbolizer {
namespace {

constexpr uint32_t kMagic116 = 0xfffffffa;
constexpr uint32_t kMagic118 = 0xfffffff0;
constexpr uint32_t kMagic120 = 0xfffffff1;

// FUNCDATA / PCDATA indices (internal/abi/symtab.go, stable since Go 1.12).
constexpr uint32_t kPcdataInlTreeIndex = 2;
constexpr uint32_t kFuncdataInlTree = 3;

// Inline chains deeper than this come only from corrupt tables.
constexpr int kMaxInlineDepth = 128;

bool ReadUvarintSlow(std::span<const uint8_t> d, uint64_t* pos, uint32_t* out) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (*pos >= d.size()) return false;
    uint8_t b = d[(*pos)++];
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// pcvalue deltas are almost always one or two bytes: decode those without
// per-byte bounds checks when the buffer has room.
inline bool ReadUvarint(std::span<const uint8_t> d, uint64_t* pos, uint32_t* out) {
  if (*pos + 2 <= d.size()) {
    const uint8_t* p = d.data() + *pos;
    if (p[0] < 0x80) {
      *out = p[0];
      *pos += 1;
      return true;
    }
    if (p[1] < 0x80) {
      *out = (p[0] & 0x7fu) | (uint32_t{p[1]} << 7);
      *pos += 2;
      return true;
    }
  }
  return ReadUvarintSlow(d, pos, out);
}

}  // namespace

Result<Pclntab> Pclntab::Parse(std::span<const uint8_t> data, uint64_t vaddr) {
  if (data.size() < 16) return MakeError("pclntab: truncated header");
  uint32_t magic = LoadLE<uint32_t>(data.data());
  Pclntab t;
  t.data_ = data;
  t.vaddr_ = vaddr;
  switch (magic) {
    case kMagic116: t.format_ = Format::kGo116; break;
    case kMagic118: t.format_ = Format::kGo118; break;
    case kMagic120: t.format_ = Format::kGo120; break;
    case 0xfffffffb: return MakeError("pclntab: Go 1.2-1.15 format is not supported");
    default: return MakeError("pclntab: bad magic");
  }
  if (data[4] != 0 || data[5] != 0) return MakeError("pclntab: bad header padding");
  t.quantum_ = data[6];
  t.ptr_size_ = data[7];
  if (t.quantum_ != 1 && t.quantum_ != 2 && t.quantum_ != 4)
    return MakeError("pclntab: bad pc quantum");
  if (t.ptr_size_ != 8) return MakeError("pclntab: only 64-bit tables are supported");
  const bool has_text_start = t.format_ != Format::kGo116;
  const size_t header_size = has_text_start ? 72 : 64;
  if (data.size() < header_size) return MakeError("pclntab: truncated header");
  auto word = [&](size_t i) { return LoadLE<uint64_t>(data.data() + 8 + 8 * i); };
  t.nfunc_ = word(0);
  size_t i = 2;
  if (has_text_start) t.text_start_ = word(i++);
  t.funcname_off_ = word(i++);
  t.cu_off_ = word(i++);
  t.filetab_off_ = word(i++);
  t.pctab_off_ = word(i++);
  t.pcln_off_ = word(i++);
  for (uint64_t off : {t.funcname_off_, t.cu_off_, t.filetab_off_, t.pctab_off_, t.pcln_off_}) {
    if (off < header_size || off > data.size()) return MakeError("pclntab: table offset out of range");
  }
  t.functab_field_size_ = has_text_start ? 4 : t.ptr_size_;
  t.functab_entry_size_ = 2 * t.functab_field_size_;
  uint64_t avail = data.size() - t.pcln_off_;
  if (t.nfunc_ == 0 || t.nfunc_ > avail / t.functab_entry_size_ ||
      t.nfunc_ * t.functab_entry_size_ + t.functab_field_size_ > avail)
    return MakeError("pclntab: function table out of range");
  return t;
}

void Pclntab::set_funcdata_source(const ElfFile* elf, uint64_t gofunc) {
  elf_ = elf;
  gofunc_ = gofunc;
  gofunc_data_ = (elf && gofunc) ? elf->ReadVaddrToSegmentEnd(gofunc) : std::span<const uint8_t>();
}

uint64_t Pclntab::ReadWord(uint64_t off, size_t size) const {
  if (off > data_.size() || size > data_.size() - off) return 0;
  if (size == 4) return LoadLE<uint32_t>(data_.data() + off);
  return LoadLE<uint64_t>(data_.data() + off);
}

uint64_t Pclntab::FuncEntry(size_t index) const {
  uint64_t v = ReadWord(pcln_off_ + index * functab_entry_size_, functab_field_size_);
  return format_ == Format::kGo116 ? v : text_start_ + v;
}

uint64_t Pclntab::FuncEnd(size_t index) const { return FuncEntry(index + 1); }

std::optional<size_t> Pclntab::FindFunc(uint64_t pc) const {
  if (nfunc_ == 0 || pc < FuncEntry(0) || pc >= FuncEntry(nfunc_)) return std::nullopt;
  return Bisect(pc, 0, nfunc_);
}

size_t Pclntab::Bisect(uint64_t pc, size_t lo, size_t hi) const {
  // Last i in [lo, hi) with entry(i) <= pc (debug/gosym findFunc).
  while (hi - lo > 1) {  // invariant: entry(lo) <= pc, entry(hi) > pc
    size_t mid = lo + (hi - lo) / 2;
    if (FuncEntry(mid) <= pc)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

std::optional<Pclntab::Func> Pclntab::ReadFunc(size_t index) const {
  uint64_t funcoff = ReadWord(pcln_off_ + index * functab_entry_size_ + functab_field_size_,
                              functab_field_size_);
  uint64_t rec = pcln_off_ + funcoff;
  size_t fixed = format_ == Format::kGo120 ? 44 : format_ == Format::kGo118 ? 40 : 44;
  if (funcoff >= data_.size() || rec > data_.size() || fixed > data_.size() - rec) return std::nullopt;
  const uint8_t* p = data_.data() + rec;
  Func f;
  f.record_off = rec;
  f.entry = FuncEntry(index);
  const size_t base = format_ == Format::kGo116 ? 8 : 4;  // fields after entry/entryOff
  f.name_off = LoadLE<uint32_t>(p + base);
  f.pcfile = LoadLE<uint32_t>(p + base + 4 * 4);
  f.pcln = LoadLE<uint32_t>(p + base + 5 * 4);
  f.npcdata = LoadLE<uint32_t>(p + base + 6 * 4);
  f.cu_offset = LoadLE<uint32_t>(p + base + 7 * 4);
  if (format_ == Format::kGo120) f.start_line = LoadLE<int32_t>(p + 36);
  f.nfuncdata = p[fixed - 1];
  return f;
}

uint32_t Pclntab::PcData(const Func& f, uint32_t table) const {
  if (table >= f.npcdata) return 0;
  size_t fixed = format_ == Format::kGo118 ? 40 : 44;
  return static_cast<uint32_t>(ReadWord(f.record_off + fixed + 4 * uint64_t{table}, 4));
}

std::span<const uint8_t> Pclntab::InlineTree(const Func& f) const {
  if (f.nfuncdata <= kFuncdataInlTree || elf_ == nullptr) return {};
  size_t fixed = format_ == Format::kGo118 ? 40 : 44;
  uint64_t p = f.record_off + fixed + 4 * uint64_t{f.npcdata};
  if (format_ == Format::kGo116) {
    // Absolute pointers, 8-byte aligned in memory.
    if ((vaddr_ + p) & 4) p += 4;
    p += 8 * uint64_t{kFuncdataInlTree};
    if (p + 8 > data_.size()) return {};
    auto ptr = elf_->ReadPointer(vaddr_ + p);
    if (!ptr || *ptr == 0) return {};
    return elf_->ReadVaddrToSegmentEnd(*ptr);
  }
  uint64_t off = ReadWord(p + 4 * uint64_t{kFuncdataInlTree}, 4);
  if (p + 4 * uint64_t{kFuncdataInlTree} + 4 > data_.size() || off == 0xffffffff) return {};
  if (off >= gofunc_data_.size()) return {};
  return gofunc_data_.subspan(off);
}

std::string_view Pclntab::CStr(uint64_t table_off, uint64_t off) const {
  uint64_t pos = table_off + off;
  if (pos >= data_.size()) return {};
  const char* s = reinterpret_cast<const char*>(data_.data() + pos);
  return std::string_view(s, strnlen(s, data_.size() - pos));
}

std::string_view Pclntab::FuncName(size_t index) const {
  auto f = ReadFunc(index);
  if (!f) return {};
  return CStr(funcname_off_, f->name_off);
}

std::string_view Pclntab::FileName(const Func& f, int32_t file_index, LookupState* st) const {
  if (file_index < 0) return {};
  uint64_t slot = cu_off_ + 4 * (uint64_t{f.cu_offset} + static_cast<uint32_t>(file_index));
  if (slot + 4 > data_.size()) return {};
  uint32_t off = LoadLE<uint32_t>(data_.data() + slot);
  if (off == 0xffffffff) return {};
  return CStrCached(filetab_off_, off, st);
}

std::optional<size_t> Pclntab::FindFuncFrom(uint64_t pc, size_t from) const {
  // Precondition: entry(from) <= pc. Gallop to a bracket, then bisect.
  if (from >= nfunc_ || pc >= FuncEntry(nfunc_)) return std::nullopt;
  size_t lo = from, hi = from + 1, step = 1;
  while (hi < nfunc_ && FuncEntry(hi) <= pc) {
    lo = hi;
    step *= 2;
    hi = nfunc_ - lo > step ? lo + step : nfunc_;
  }
  return Bisect(pc, lo, hi);
}

void Pclntab::ResetRuns(DecodedTable* t, uint32_t table, uint64_t entry) const {
  t->table = table;
  t->pos = pctab_off_ + table;
  t->hi = entry;
  t->val = -1;
  t->first = true;
  t->done = false;
  t->ends.clear();
  t->vals.clear();
}

int32_t Pclntab::RunValue(DecodedTable* t, uint64_t entry, uint64_t pc) const {
  if (t->table == 0 || pc < entry) return -1;  // (a corrupt call site may point before entry)
  if (pc < t->hi) {
    // Already decoded. Ascending lookups land in the last run.
    const size_t n = t->ends.size();
    if (n == 1 || pc >= t->ends[n - 2]) return t->vals[n - 1];
    size_t k = static_cast<size_t>(std::upper_bound(t->ends.begin(), t->ends.end(), pc) - t->ends.begin());
    return t->vals[k];
  }
  if (t->done) return -1;  // past the end of the table (or of its valid part)
  for (;;) {
    uint32_t uv;
    if (!ReadUvarint(data_, &t->pos, &uv) || (uv == 0 && !t->first)) {
      t->done = true;
      return -1;
    }
    // Zig-zag decode.
    int32_t delta = static_cast<int32_t>(-(uv & 1) ^ (uv >> 1));
    uint32_t pcdelta;
    if (!ReadUvarint(data_, &t->pos, &pcdelta)) {
      t->done = true;
      return -1;
    }
    t->val = static_cast<int32_t>(static_cast<uint32_t>(t->val) + static_cast<uint32_t>(delta));
    t->first = false;
    if (pcdelta == 0) continue;  // an empty run holds no pc: not stored
    t->hi += uint64_t{pcdelta} * quantum_;
    t->ends.push_back(t->hi);
    t->vals.push_back(t->val);
    if (pc < t->hi) return t->val;
  }
}

Pclntab::Position Pclntab::RunPosition(LookupState* st, uint64_t pc) const {
  const uint64_t entry = st->func.entry;
  Position p;
  p.file = RunValue(&st->file_runs, entry, pc);
  p.line = RunValue(&st->line_runs, entry, pc);
  p.inl = RunValue(&st->inl_runs, entry, pc);
  return p;
}

std::string_view Pclntab::CStrCached(uint64_t table_off, uint64_t off, LookupState* st) const {
  if (st->str_cache.empty()) return CStr(table_off, off);
  const uint64_t pos = table_off + off;
  if (pos >= data_.size()) return {};
  StrCacheSlot& slot = st->str_cache[(pos ^ (pos >> 12)) & (kStrCacheSlots - 1)];
  const char* s = reinterpret_cast<const char*>(data_.data() + pos);
  if (slot.pos != pos) {
    slot.pos = pos;
    slot.len = strnlen(s, data_.size() - pos);
  }
  return std::string_view(s, slot.len);
}

void Pclntab::Prefetch(size_t next, size_t after) const {
  auto touch = [&](uint64_t off) {
    if (off < data_.size()) __builtin_prefetch(data_.data() + off);
  };
  if (after < nfunc_)  // its _func record, read when `next` is prefetched
    touch(pcln_off_ + ReadWord(pcln_off_ + after * functab_entry_size_ + functab_field_size_, functab_field_size_));
  if (next >= nfunc_) return;
  auto f = ReadFunc(next);
  if (!f) return;
  touch(funcname_off_ + f->name_off);
  if (f->pcfile) touch(pctab_off_ + f->pcfile);
  if (f->pcln) touch(pctab_off_ + f->pcln);
  if (uint32_t inl = PcData(*f, kPcdataInlTreeIndex)) touch(pctab_off_ + inl);
}

bool Pclntab::Enter(uint64_t pc, LookupState* st) const {
  if (st->index < nfunc_ && st->func.entry <= pc && pc < st->end) return !st->name.empty();
  // Sorted batches move forward: search from the current function.
  auto index = st->index < nfunc_ && pc >= st->end ? FindFuncFrom(pc, st->index + 1) : FindFunc(pc);
  if (!index) return false;
  auto f = ReadFunc(*index);
  if (!f) return false;
  st->index = *index;
  st->end = FuncEntry(*index + 1);
  // Sorted batches usually go on to the next functions, whose tables lie
  // elsewhere in a multi-MB pclntab: start those cache misses now.
  Prefetch(*index + 1, *index + 2);
  st->func = *f;
  st->name = CStr(funcname_off_, f->name_off);
  st->inl_tree = InlineTree(*f);
  st->inl_table = st->inl_tree.empty() ? 0 : PcData(*f, kPcdataInlTreeIndex);
  ResetRuns(&st->file_runs, f->pcfile, f->entry);
  ResetRuns(&st->line_runs, f->pcln, f->entry);
  ResetRuns(&st->inl_runs, st->inl_table, f->entry);
  return !st->name.empty();
}

bool Pclntab::Visit(uint64_t pc, LookupState* st, std::vector<FrameView>* frames) const {
  frames->clear();
  if (!Enter(pc, st)) return false;
  const Func& f = st->func;
  const size_t entry_size = format_ == Format::kGo120 ? 16 : 20;
  // The full symbol name, generic shape arguments included
  // ("F[go.shape.int]"): what runtime/pprof writes as both name and
  // system_name (runtime_FrameSymbolName), so PGO matches our profiles.
  // Shortening to "F[...]" is for display only (web/).
  auto set_names = [](std::string_view raw, FrameView* v) { v->function = raw; };
  // Positions come from the function's decoded runs: the innermost pc
  // extends them (pcs ascend), call sites are binary searches.
  Position pos = RunPosition(st, pc);
  uint64_t cur = pc;
  for (int depth = 0; depth < kMaxInlineDepth; ++depth) {
    FrameView frame;
    frame.file = FileName(f, pos.file, st);
    frame.line = pos.line < 0 ? 0 : pos.line;
    uint64_t e = static_cast<uint64_t>(pos.inl) * entry_size;
    if (pos.inl < 0 || e + entry_size > st->inl_tree.size()) {
      set_names(st->name, &frame);
      frame.start_line = f.start_line;
      frames->push_back(frame);
      return true;
    }
    const uint8_t* ent = st->inl_tree.data() + e;
    int32_t name_off, parent_pc, start_line = 0;
    if (format_ == Format::kGo120) {
      name_off = LoadLE<int32_t>(ent + 4);
      parent_pc = LoadLE<int32_t>(ent + 8);
      start_line = LoadLE<int32_t>(ent + 12);
    } else {
      name_off = LoadLE<int32_t>(ent + 12);
      parent_pc = LoadLE<int32_t>(ent + 16);
    }
    std::string_view name = CStrCached(funcname_off_, static_cast<uint32_t>(name_off), st);
    if (name.empty())
      frame.function = "??";
    else
      set_names(name, &frame);
    frame.start_line = start_line;
    frame.inlined = true;
    frames->push_back(frame);
    uint64_t next = f.entry + static_cast<uint64_t>(static_cast<int64_t>(parent_pc));
    if (next == cur && depth > 0) break;  // corrupt: no progress
    cur = next;
    pos = RunPosition(st, cur);
  }
  // Corrupt inline tree (a cycle): report the physical frame only.
  frames->clear();
  FrameView frame;
  set_names(st->name, &frame);
  frame.start_line = f.start_line;
  frames->push_back(frame);
  return true;
}

bool Pclntab::Symbolize(uint64_t pc, std::vector<Frame>* frames, LookupState* state) const {
  LookupState local;
  std::vector<FrameView> views;
  if (!Visit(pc, state ? state : &local, &views)) return false;
  for (const auto& v : views) {
    Frame f;
    f.function = std::string(v.function);
    f.system_name = std::string(v.system_name);
    f.file = std::string(v.file);
    f.line = v.line;
    f.start_line = v.start_line;
    f.inlined = v.inlined;
    frames->push_back(std::move(f));
  }
  return true;
}

}  // namespace golens::symbolizer
