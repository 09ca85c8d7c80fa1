// Bounds-checked ELF64 little-endian parser over an in-memory image. Every
// accessor returns empty/nullopt instead of reading outside the image, so
// truncated or corrupt files produce errors, never crashes.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"

namespace golens::symbolizer {

struct ElfSection {
  std::string_view name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t addr = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t link = 0;
  uint64_t entsize = 0;
};

struct ElfSegment {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

struct ElfNote {
  std::string_view name;  // without the trailing NUL
  uint32_t type = 0;
  std::span<const uint8_t> desc;
};

// Little-endian loads that never fault on unaligned data.
template <typename T>
inline T LoadLE(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

class ElfFile {
 public:
  static Result<ElfFile> Parse(std::span<const uint8_t> image);

  uint16_t type() const { return type_; }  // ET_EXEC, ET_DYN, ...
  uint16_t machine() const { return machine_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::vector<ElfSegment>& segments() const { return segments_; }
  std::span<const uint8_t> image() const { return image_; }

  const ElfSection* FindSection(std::string_view name) const;
  // Contents of a section; empty for SHT_NOBITS or when out of the file.
  std::span<const uint8_t> SectionData(const ElfSection& section) const;
  std::span<const uint8_t> FileBytes(uint64_t offset, uint64_t length) const;

  // PT_LOAD translation (file-backed part only).
  std::optional<uint64_t> VaddrToOffset(uint64_t vaddr) const;
  std::optional<uint64_t> OffsetToVaddr(uint64_t offset) const;
  std::span<const uint8_t> ReadVaddr(uint64_t vaddr, uint64_t length) const;
  // From vaddr to the end of the file-backed part of its PT_LOAD.
  std::span<const uint8_t> ReadVaddrToSegmentEnd(uint64_t vaddr) const;

  // A pointer-sized word at vaddr as the loader would see it: the addend of a
  // RELATIVE relocation at that address if there is one (PIE files often hold
  // 0 there), else the stored value.
  std::optional<uint64_t> ReadPointer(uint64_t vaddr) const;
  // Every vaddr whose RELATIVE relocation resolves to `target`.
  std::vector<uint64_t> RelocationsTargeting(uint64_t target) const;

  // All notes from SHT_NOTE sections, or PT_NOTE segments when there are no sections.
  std::vector<ElfNote> Notes() const;

 private:
  void ParseRelocations();
  void AddRelaTable(std::span<const uint8_t> data);

  std::span<const uint8_t> image_;
  uint16_t type_ = 0;
  uint16_t machine_ = 0;
  std::vector<ElfSection> sections_;
  std::vector<ElfSegment> segments_;
  // Sorted by offset (vaddr of the relocated word), addend.
  std::vector<std::pair<uint64_t, uint64_t>> relative_relocs_;
};

}  // namespace golens::symbolizer
