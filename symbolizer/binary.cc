// Binary: one parsed ELF file with its Go tables and ELF symbols.
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "symbolizer/binary_internal.h"
#include "symbolizer/debug_file.h"
#include "symbolizer/elf_file.h"
#include "symbolizer/elf_symbols.h"
#include "symbolizer/go_buildinfo.h"
#include "symbolizer/mapped_file.h"
#include "symbolizer/pclntab.h"
#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

// runtime.moduledata field offsets (64-bit), docs/go-runtime.md §1.11.
constexpr uint64_t kModuledataFuncnametab = 8;
constexpr uint64_t kModuledataText = 176;

uint64_t GofuncOffset(Pclntab::Format format, std::optional<std::pair<int, int>> version) {
  if (format == Pclntab::Format::kGo118) return 304;
  if (version && (version->first > 1 || version->second >= 27)) return 344;
  return 320;
}

std::string Hex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

class BinaryImpl final : public Binary {
 public:
  BinaryImpl(FileImage image, std::string path) : image_(std::move(image)), path_(std::move(path)) {}

  Result<void> Init();

  const std::string& path() const override { return path_; }
  const std::string& build_id() const override { return build_id_; }
  bool is_go() const override { return is_go_; }
  const std::string& go_version() const override { return go_version_; }
  const std::string& main_module() const override { return main_module_; }
  bool is_pie() const override { return elf_->type() == ET_DYN; }

  std::vector<SymbolizedAddress> Symbolize(std::span<const uint64_t> vaddrs) const override;
  void SymbolizeVisit(std::span<const uint64_t> vaddrs, const FrameVisitor& visit) const override;
  std::optional<uint64_t> FileOffsetToVaddr(uint64_t file_offset) const override {
    return elf_->OffsetToVaddr(file_offset);
  }
  std::optional<uint64_t> VaddrToFileOffset(uint64_t vaddr) const override { return elf_->VaddrToOffset(vaddr); }
  bool has_symbols() const override { return pclntab_.has_value() || symbols_.size() > 0; }
  std::optional<Symbol> FindSymbol(std::string_view name) const override;
  std::optional<Symbol> FunctionContaining(uint64_t vaddr) const override;
  std::vector<Symbol> FindSymbolsWithPrefix(std::string_view prefix) const override;
  std::span<const uint8_t> ReadVaddr(uint64_t vaddr, size_t length) const override {
    return elf_->ReadVaddr(vaddr, length);
  }
  std::optional<SectionView> Section(std::string_view name) const override {
    const ElfSection* s = elf_->FindSection(name);
    if (!s || s->type == SHT_NOBITS) return std::nullopt;
    auto data = elf_->SectionData(*s);
    if (data.size() != s->size) return std::nullopt;
    return SectionView{s->addr, data};
  }
  std::optional<std::pair<uint64_t, uint64_t>> GoTextRange() const override {
    if (!pclntab_ || pclntab_->num_funcs() == 0) return std::nullopt;
    return std::make_pair(pclntab_->min_pc(), pclntab_->max_pc());
  }
  const std::string& debug_file() const override { return debug_path_; }

 private:
  void ReadBuildId();
  void AddDebugSymbols();
  void PrefetchTables() const;
  std::optional<Pclntab> LocatePclntab() const;
  std::optional<uint64_t> LocateModuledata(const Pclntab& tab) const;

  FileImage image_;
  std::string path_;
  std::optional<ElfFile> elf_;
  std::optional<Pclntab> pclntab_;
  ElfSymbolTable symbols_;
  // pclntab function name -> index, built on the first FindSymbol.
  mutable std::once_flag name_index_once_;
  mutable std::unordered_map<std::string_view, size_t> name_index_;
  std::string build_id_;
  // The detached debug file, when the binary has no .symtab of its own:
  // symbols_ names point into its image, which lives as long as this.
  std::string debug_path_;
  FileImage debug_image_;
  std::optional<ElfFile> debug_elf_;
  std::string go_version_;
  std::string main_module_;
  bool is_go_ = false;
};

Result<void> BinaryImpl::Init() {
  auto elf = ElfFile::Parse(image_.bytes());
  if (!elf.ok()) return elf.error();
  elf_.emplace(std::move(elf).value());
  symbols_.Load(*elf_);
  ReadBuildId();
  if (!symbols_.has_symtab()) AddDebugSymbols();
  if (auto info = ReadGoBuildInfo(*elf_)) {
    is_go_ = true;
    go_version_ = info->version;
    main_module_ = info->main_module;
  }
  pclntab_ = LocatePclntab();
  if (pclntab_) {
    is_go_ = true;
    PrefetchTables();
  }
  return Ok();
}

// Every lookup walks the pclntab: map its pages now, in one call, instead of
// taking a page fault per 64 KB later (MADV_POPULATE_READ, Linux 5.14+; a
// no-op elsewhere and for images that are not mmap'd files).
void BinaryImpl::PrefetchTables() const {
#ifdef MADV_POPULATE_READ
  if (!image_.is_mapped()) return;
  auto span = elf_->ReadVaddrToSegmentEnd(pclntab_->vaddr());
  if (const ElfSection* s = elf_->FindSection(".gopclntab"); s && s->size < span.size()) span = span.first(s->size);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = reinterpret_cast<uintptr_t>(span.data()) & ~(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(span.data() + span.size());
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
#endif
}

void BinaryImpl::ReadBuildId() {
  std::string go_id;
  for (const auto& note : elf_->Notes()) {
    if (note.name == "GNU" && note.type == NT_GNU_BUILD_ID && !note.desc.empty() && build_id_.empty())
      build_id_ = Hex(note.desc);
    if (note.name == "Go" && note.type == 4 /* ELF_NOTE_GOBUILDID_TAG */ && go_id.empty()) {
      go_id.assign(reinterpret_cast<const char*>(note.desc.data()), note.desc.size());
      is_go_ = true;
    }
  }
  if (build_id_.empty()) build_id_ = go_id;
}

// Stripped libraries (Debian's libc) keep only exported names in .dynsym;
// their debug file has every function. A debug file that does not parse is
// ignored: the binary still symbolizes through .dynsym.
void BinaryImpl::AddDebugSymbols() {
  auto found = FindDebugFile(*elf_, build_id_, path_, DebugRoot());
  if (!found) return;
  auto image = FileImage::Map(*found);
  if (!image.ok()) return;
  auto elf = ElfFile::Parse(image->bytes());
  if (!elf.ok()) return;
  debug_image_ = std::move(image).value();
  debug_elf_.emplace(std::move(elf).value());
  symbols_.Add(*debug_elf_);
  debug_path_ = *found;
}

// Parses a pclntab candidate and resolves textStart and the FUNCDATA base.
std::optional<Pclntab> BinaryImpl::LocatePclntab() const {
  std::vector<std::pair<std::span<const uint8_t>, uint64_t>> candidates;
  for (const char* name : {".gopclntab", ".data.rel.ro.gopclntab"}) {
    const ElfSection* s = elf_->FindSection(name);
    if (s && s->type != SHT_NOBITS) candidates.emplace_back(elf_->SectionData(*s), s->addr);
  }
  if (const auto* sym = symbols_.FindByName("runtime.pclntab")) {
    candidates.emplace_back(elf_->ReadVaddrToSegmentEnd(sym->addr), sym->addr);
  } else if (candidates.empty() && (is_go_ || elf_->sections().empty())) {
    // Fallback (external-link PIE <= 1.25 without symbols, or no section headers):
    // search the PT_LOADs for the header signature (magic, 0, 0, quantum,
    // ptrsize=8) on 8-byte alignment; read-only data first, where Go puts it.
    for (int pass = 0; pass < 2 && candidates.empty(); ++pass) {
      for (const auto& seg : elf_->segments()) {
        if (seg.type != PT_LOAD || (seg.flags & PF_R) == 0) continue;
        if ((pass == 0) == ((seg.flags & PF_X) != 0)) continue;
        auto data = elf_->FileBytes(seg.offset, seg.filesz);
        for (size_t off = 0; off + 8 <= data.size(); off += 8) {
          const uint8_t* p = data.data() + off;
          if (p[1] != 0xff || p[2] != 0xff || p[3] != 0xff || p[4] != 0 || p[5] != 0 || p[7] != 8) continue;
          if (p[0] != 0xf1 && p[0] != 0xf0 && p[0] != 0xfa) continue;
          if (p[6] != 1 && p[6] != 4) continue;
          candidates.emplace_back(data.subspan(off), seg.vaddr + off);
        }
      }
    }
  }
  const auto version = ParseGoVersion(go_version_);
  for (const auto& [data, vaddr] : candidates) {
    auto parsed = Pclntab::Parse(data, vaddr);
    if (!parsed.ok()) continue;
    Pclntab tab = std::move(parsed).value();
    auto moduledata = LocateModuledata(tab);
    if (tab.format() != Pclntab::Format::kGo116) {
      // textStart: the header field for 1.18-1.25 (relocated in PIE), and
      // moduledata.text from 1.26 on, where the header holds 0.
      uint64_t text = elf_->ReadPointer(vaddr + Pclntab::kTextStartFieldOffset).value_or(0);
      if (text == 0 && moduledata) text = elf_->ReadPointer(*moduledata + kModuledataText).value_or(0);
      if (text == 0) {
        if (const auto* sym = symbols_.FindByName("runtime.text")) text = sym->addr;
      }
      if (text == 0) {
        if (const ElfSection* s = elf_->FindSection(".text")) text = s->addr;
      }
      tab.set_text_start(text);
    }
    uint64_t gofunc = 0;
    if (tab.format() != Pclntab::Format::kGo116) {
      if (const auto* sym = symbols_.FindByName("go:func.*")) gofunc = sym->addr;
      if (!gofunc) {
        if (const auto* sym = symbols_.FindByName("go.func.*")) gofunc = sym->addr;
      }
      if (!gofunc && moduledata)
        gofunc = elf_->ReadPointer(*moduledata + GofuncOffset(tab.format(), version)).value_or(0);
    }
    tab.set_funcdata_source(&*elf_, gofunc);
    return tab;
  }
  return std::nullopt;
}

// runtime.firstmoduledata: in .go.module (Go 1.26+), by symbol, or by
// scanning writable data for a word pointing at the pclntab header whose
// funcnametab slice matches (GoReSym's moduledata scan).
std::optional<uint64_t> BinaryImpl::LocateModuledata(const Pclntab& tab) const {
  auto valid = [&](uint64_t md) {
    return elf_->ReadPointer(md) == tab.vaddr() &&
           elf_->ReadPointer(md + kModuledataFuncnametab) == tab.vaddr() + tab.funcname_offset();
  };
  if (const ElfSection* s = elf_->FindSection(".go.module"); s && valid(s->addr)) return s->addr;
  if (const auto* sym = symbols_.FindByName("runtime.firstmoduledata"); sym && valid(sym->addr))
    return sym->addr;
  for (uint64_t where : elf_->RelocationsTargeting(tab.vaddr()))
    if (valid(where)) return where;
  for (const auto& seg : elf_->segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0) continue;
    auto data = elf_->FileBytes(seg.offset, seg.filesz);
    for (size_t off = 0; off + 16 <= data.size(); off += 8) {
      if (LoadLE<uint64_t>(data.data() + off) == tab.vaddr() && valid(seg.vaddr + off)) return seg.vaddr + off;
    }
  }
  return std::nullopt;
}

void BinaryImpl::SymbolizeVisit(std::span<const uint64_t> vaddrs, const FrameVisitor& visit) const {
  // Sorted lookups: neighbouring addresses share a function, its decoded
  // tables and the table pages. Input already in order (callers that sort a
  // big batch once) is visited as is.
  std::vector<std::pair<uint64_t, uint32_t>> order;  // (vaddr, input index)
  const bool presorted = std::is_sorted(vaddrs.begin(), vaddrs.end());
  if (!presorted) {
    order.resize(vaddrs.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = {vaddrs[i], i};
    SortByAddress(&order);  // stable: equal addresses keep input order
  }
  Pclntab::LookupState state;
  if (vaddrs.size() >= 256) state.str_cache.resize(Pclntab::kStrCacheSlots);
  std::vector<FrameView> views;
  std::string demangled;
  char error[64];
  size_t error_len = 0;
  for (size_t k = 0; k < vaddrs.size(); ++k) {
    const uint64_t vaddr = presorted ? vaddrs[k] : order[k].first;
    const size_t i = presorted ? k : order[k].second;
    if (k == 0 || (presorted ? vaddrs[k - 1] : order[k - 1].first) != vaddr) {  // duplicates reuse the previous answer
      views.clear();
      error_len = 0;
      if (pclntab_ && pclntab_->Visit(vaddr, &state, &views)) {
      } else if (const auto* sym = symbols_.Find(vaddr)) {
        FrameView frame;
        demangled = Demangle(sym->name);
        if (demangled.empty()) {
          frame.function = sym->name;
        } else {
          frame.function = demangled;
          frame.system_name = sym->name;
        }
        views.push_back(frame);
      } else {
        error_len = static_cast<size_t>(std::snprintf(error, sizeof error, "no symbol for 0x%llx",
                                                      static_cast<unsigned long long>(vaddr)));
      }
    }
    visit(i, views, std::string_view(error, error_len));
  }
}

std::vector<SymbolizedAddress> BinaryImpl::Symbolize(std::span<const uint64_t> vaddrs) const {
  std::vector<SymbolizedAddress> results(vaddrs.size());
  SymbolizeVisit(vaddrs, [&](size_t i, std::span<const FrameView> frames, std::string_view error) {
    SymbolizedAddress& out = results[i];
    out.frames.reserve(frames.size());
    for (const auto& v : frames) {
      Frame& f = out.frames.emplace_back();
      f.function = v.function;
      f.system_name = v.system_name;
      f.file = v.file;
      f.line = v.line;
      f.start_line = v.start_line;
      f.inlined = v.inlined;
    }
    out.error = error;
  });
  return results;
}

std::optional<Symbol> BinaryImpl::FindSymbol(std::string_view name) const {
  if (pclntab_) {
    std::call_once(name_index_once_, [this] {
      name_index_.reserve(pclntab_->num_funcs());
      for (size_t i = 0; i < pclntab_->num_funcs(); ++i) name_index_.emplace(pclntab_->FuncName(i), i);
    });
    auto it = name_index_.find(name);
    if (it != name_index_.end()) {
      uint64_t entry = pclntab_->FuncEntry(it->second);
      return Symbol{std::string(name), entry, pclntab_->FuncEnd(it->second) - entry};
    }
  }
  if (const auto* e = symbols_.FindByName(name)) return Symbol{std::string(e->name), e->addr, e->size};
  return std::nullopt;
}

std::optional<Symbol> BinaryImpl::FunctionContaining(uint64_t vaddr) const {
  if (pclntab_) {
    if (auto i = pclntab_->FindFunc(vaddr)) {
      uint64_t entry = pclntab_->FuncEntry(*i);
      std::string_view name = pclntab_->FuncName(*i);
      if (!name.empty()) return Symbol{std::string(name), entry, pclntab_->FuncEnd(*i) - entry};
    }
  }
  if (const auto* e = symbols_.Find(vaddr)) return Symbol{std::string(e->name), e->addr, e->size};
  return std::nullopt;
}

std::vector<Symbol> BinaryImpl::FindSymbolsWithPrefix(std::string_view prefix) const {
  std::vector<Symbol> out;
  if (pclntab_) {
    for (size_t i = 0; i < pclntab_->num_funcs(); ++i) {
      std::string_view n = pclntab_->FuncName(i);
      if (n.substr(0, prefix.size()) == prefix) {
        uint64_t entry = pclntab_->FuncEntry(i);
        out.push_back(Symbol{std::string(n), entry, pclntab_->FuncEnd(i) - entry});
      }
    }
  }
  if (out.empty()) {
    for (const auto* e : symbols_.FindByPrefix(prefix)) out.push_back(Symbol{std::string(e->name), e->addr, e->size});
  }
  return out;
}

Result<std::shared_ptr<const Binary>> Finish(std::shared_ptr<BinaryImpl> impl, const std::string& name) {
  auto st = impl->Init();
  if (!st.ok()) return st.error().Context(name);
  return std::shared_ptr<const Binary>(std::move(impl));
}

}  // namespace

Result<std::shared_ptr<const Binary>> OpenBinaryAs(const std::string& open_path, const std::string& display_path) {
  auto image = FileImage::Map(open_path);
  if (!image.ok()) return image.error();
  return Finish(std::make_shared<BinaryImpl>(std::move(image).value(), display_path), display_path);
}

Result<std::shared_ptr<const Binary>> Binary::Open(const std::string& path) { return OpenBinaryAs(path, path); }

Result<std::shared_ptr<const Binary>> Binary::FromBytes(std::vector<uint8_t> bytes, std::string display_name) {
  auto impl = std::make_shared<BinaryImpl>(FileImage::FromBytes(std::move(bytes)), display_name);
  return Finish(std::move(impl), display_name);
}

}  // namespace golens::symbolizer
