// Function symbols from .symtab and .dynsym, sorted for address lookup.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace golens::symbolizer {

class ElfFile;

class ElfSymbolTable {
 public:
  struct Entry {
    uint64_t addr = 0;
    uint64_t size = 0;
    std::string_view name;  // points into the file image
  };

  // Names point into elf's image, which must outlive this table. Only
  // collects: the address index is sorted on first use (Go binaries
  // symbolize through the pclntab and rarely need it).
  void Load(const ElfFile& elf);
  // Adds the symbols of another file of the same binary (its detached debug
  // file); before the first lookup only.
  void Add(const ElfFile& elf);

  // The function containing vaddr, or nullptr.
  const Entry* Find(uint64_t vaddr) const;
  const Entry* FindByName(std::string_view name) const;
  std::vector<const Entry*> FindByPrefix(std::string_view prefix) const;
  size_t size() const {
    EnsureSorted();
    return entries_.size();
  }
  bool has_symtab() const { return has_symtab_; }

 private:
  struct Ranked {
    Entry entry;
    int rank;  // binding preference (exported first)
  };
  static bool Before(const Ranked& a, const Ranked& b);
  void EnsureSorted() const;

  std::vector<Ranked> raw_;  // every symbol, aliases included, file order
  mutable std::once_flag sorted_once_;
  mutable std::vector<Entry> entries_;  // one per address, sorted
  mutable std::vector<Entry> all_;      // every symbol, sorted like entries_
  bool has_symtab_ = false;
};

// Itanium C++ demangling; returns "" when `name` is not a mangled C++ name.
std::string Demangle(std::string_view name);

}  // namespace golens::symbolizer
