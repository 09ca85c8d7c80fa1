#include "symbolizer/elf_symbols.h"

#include <cxxabi.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "symbolizer/elf_file.h"

namespace golens::symbolizer {
namespace {

// A symbol of unknown size covers at most this much code after its address.
constexpr uint64_t kMaxUnsizedSymbolSpan = 4096;

// Exported names (global or weak aliases) before file-local ones.
int BindRank(uint8_t bind) { return bind == STB_GLOBAL || bind == STB_WEAK ? 0 : 1; }

template <typename Ranked>
void Collect(const ElfFile& elf, const ElfSection& symtab, std::vector<Ranked>* out) {
  auto data = elf.SectionData(symtab);
  if (symtab.link >= elf.sections().size()) return;
  auto strtab = elf.SectionData(elf.sections()[symtab.link]);
  const auto& sections = elf.sections();
  for (size_t off = sizeof(Elf64_Sym); off + sizeof(Elf64_Sym) <= data.size(); off += sizeof(Elf64_Sym)) {
    Elf64_Sym s;
    std::memcpy(&s, data.data() + off, sizeof s);
    uint8_t type = ELF64_ST_TYPE(s.st_info);
    if (s.st_shndx == SHN_UNDEF || s.st_value == 0) continue;
    bool code = type == STT_FUNC || type == STT_GNU_IFUNC;
    if (type == STT_NOTYPE && s.st_shndx < sections.size() && (sections[s.st_shndx].flags & SHF_EXECINSTR))
      code = true;
    if (!code || s.st_name >= strtab.size()) continue;
    const char* name = reinterpret_cast<const char*>(strtab.data() + s.st_name);
    std::string_view sv(name, strnlen(name, strtab.size() - s.st_name));
    if (sv.empty() || sv[0] == '$' || sv.substr(0, 2) == ".L") continue;
    out->push_back(Ranked{{s.st_value, s.st_size, sv}, BindRank(ELF64_ST_BIND(s.st_info))});
  }
}

}  // namespace

void ElfSymbolTable::Load(const ElfFile& elf) {
  raw_.clear();
  Add(elf);
}

void ElfSymbolTable::Add(const ElfFile& elf) {
  for (const auto& s : elf.sections()) {
    if (s.type == SHT_SYMTAB) has_symtab_ = true;
    if (s.type == SHT_SYMTAB || s.type == SHT_DYNSYM) Collect(elf, s, &raw_);
  }
}

// One symbol per address: prefer exported, then sized, then the plainest
// name (aliases such as __getpid / getpid are the same code).
bool ElfSymbolTable::Before(const Ranked& a, const Ranked& b) {
  if (a.entry.addr != b.entry.addr) return a.entry.addr < b.entry.addr;
  if (a.rank != b.rank) return a.rank < b.rank;
  if ((a.entry.size == 0) != (b.entry.size == 0)) return a.entry.size != 0;
  // Public spelling first: "getpid" over "__getpid".
  size_t ua = a.entry.name.find_first_not_of('_'), ub = b.entry.name.find_first_not_of('_');
  if (ua != ub) return ua < ub;
  if (a.entry.name.size() != b.entry.name.size()) return a.entry.name.size() < b.entry.name.size();
  return a.entry.name < b.entry.name;
}

void ElfSymbolTable::EnsureSorted() const {
  std::call_once(sorted_once_, [this] {
    std::vector<Ranked> raw = raw_;
    std::sort(raw.begin(), raw.end(), Before);
    all_.reserve(raw.size());
    for (const auto& r : raw) all_.push_back(r.entry);
    entries_.reserve(raw.size());
    for (const auto& r : raw) {
      if (!entries_.empty() && entries_.back().addr == r.entry.addr) continue;
      entries_.push_back(r.entry);
    }
  });
}

const ElfSymbolTable::Entry* ElfSymbolTable::Find(uint64_t vaddr) const {
  EnsureSorted();
  auto it = std::upper_bound(entries_.begin(), entries_.end(), vaddr,
                             [](uint64_t v, const Entry& e) { return v < e.addr; });
  if (it == entries_.begin()) return nullptr;
  const Entry& e = *std::prev(it);
  uint64_t span = e.size ? e.size : kMaxUnsizedSymbolSpan;
  return vaddr - e.addr < span ? &e : nullptr;
}

const ElfSymbolTable::Entry* ElfSymbolTable::FindByName(std::string_view name) const {
  // A scan of the unsorted symbols, keeping the match that sorts first (the
  // one a scan of the sorted table would find), without forcing the sort.
  const Ranked* best = nullptr;
  for (const auto& r : raw_)
    if (r.entry.name == name && (best == nullptr || Before(r, *best))) best = &r;
  return best ? &best->entry : nullptr;
}

std::vector<const ElfSymbolTable::Entry*> ElfSymbolTable::FindByPrefix(std::string_view prefix) const {
  EnsureSorted();
  std::vector<const Entry*> out;
  for (const auto& e : all_)
    if (e.name.substr(0, prefix.size()) == prefix) out.push_back(&e);
  return out;
}

std::string Demangle(std::string_view name) {
  if (name.size() < 3 || name.substr(0, 2) != "_Z") return "";
  std::string copy(name);
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(copy.c_str(), nullptr, nullptr, &status),
                                            std::free);
  if (status != 0 || !out) return "";
  return std::string(out.get());
}

}  // namespace golens::symbolizer
