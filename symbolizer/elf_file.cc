#include "symbolizer/elf_file.h"

#include <elf.h>

#include <algorithm>

namespace golens::symbolizer {
namespace {

// Checked [offset, offset+length) inside a span.
bool InRange(std::span<const uint8_t> s, uint64_t offset, uint64_t length) {
  return offset <= s.size() && length <= s.size() - offset;
}

std::string_view CString(std::span<const uint8_t> table, uint64_t offset) {
  if (offset >= table.size()) return {};
  const char* start = reinterpret_cast<const char*>(table.data() + offset);
  size_t max = table.size() - offset;
  size_t len = strnlen(start, max);
  return std::string_view(start, len);
}

constexpr uint64_t Align4(uint64_t v) { return (v + 3) & ~uint64_t{3}; }

void ParseNotes(std::span<const uint8_t> data, std::vector<ElfNote>* out) {
  uint64_t off = 0;
  while (InRange(data, off, 12)) {
    uint32_t namesz = LoadLE<uint32_t>(data.data() + off);
    uint32_t descsz = LoadLE<uint32_t>(data.data() + off + 4);
    uint32_t type = LoadLE<uint32_t>(data.data() + off + 8);
    off += 12;
    uint64_t name_off = off;
    off += Align4(namesz);
    uint64_t desc_off = off;
    off += Align4(descsz);
    if (!InRange(data, name_off, namesz) || !InRange(data, desc_off, descsz)) return;
    ElfNote note;
    std::string_view name(reinterpret_cast<const char*>(data.data() + name_off), namesz);
    while (!name.empty() && name.back() == '\0') name.remove_suffix(1);
    note.name = name;
    note.type = type;
    note.desc = data.subspan(desc_off, descsz);
    out->push_back(note);
  }
}

}  // namespace

Result<ElfFile> ElfFile::Parse(std::span<const uint8_t> image) {
  if (image.size() < sizeof(Elf64_Ehdr)) {
    if (image.size() >= 4 && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0)
      return MakeError("truncated ELF header");
    return MakeError("not an ELF file");
  }
  if (std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) return MakeError("not an ELF file");
  if (image[EI_CLASS] != ELFCLASS64) return MakeError("unsupported ELF class (only 64-bit)");
  if (image[EI_DATA] != ELFDATA2LSB) return MakeError("unsupported ELF byte order (only little-endian)");
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);

  ElfFile elf;
  elf.image_ = image;
  elf.type_ = eh.e_type;
  elf.machine_ = eh.e_machine;

  if (eh.e_phnum > 0) {
    if (eh.e_phentsize < sizeof(Elf64_Phdr) ||
        !InRange(image, eh.e_phoff, uint64_t{eh.e_phnum} * eh.e_phentsize))
      return MakeError("truncated or corrupt ELF program headers");
    for (uint16_t i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      std::memcpy(&ph, image.data() + eh.e_phoff + uint64_t{i} * eh.e_phentsize, sizeof ph);
      elf.segments_.push_back(
          ElfSegment{ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz});
    }
  }

  uint64_t shnum = eh.e_shnum;
  if (eh.e_shoff != 0 && eh.e_shentsize >= sizeof(Elf64_Shdr)) {
    if (shnum == 0 && InRange(image, eh.e_shoff, sizeof(Elf64_Shdr))) {
      Elf64_Shdr first;  // extended numbering: count in section 0's sh_size
      std::memcpy(&first, image.data() + eh.e_shoff, sizeof first);
      shnum = first.sh_size;
    }
    if (shnum > image.size() / eh.e_shentsize || !InRange(image, eh.e_shoff, shnum * eh.e_shentsize)) {
      // Section headers cut off (truncated file): keep going with segments only.
      shnum = 0;
    }
    std::vector<Elf64_Shdr> raw(shnum);
    for (uint64_t i = 0; i < shnum; ++i)
      std::memcpy(&raw[i], image.data() + eh.e_shoff + i * eh.e_shentsize, sizeof(Elf64_Shdr));
    uint64_t strndx = eh.e_shstrndx;
    if (strndx == SHN_XINDEX && shnum > 0) strndx = raw[0].sh_link;
    std::span<const uint8_t> strtab;
    if (strndx < shnum && InRange(image, raw[strndx].sh_offset, raw[strndx].sh_size))
      strtab = image.subspan(raw[strndx].sh_offset, raw[strndx].sh_size);
    for (const auto& sh : raw) {
      elf.sections_.push_back(ElfSection{CString(strtab, sh.sh_name), sh.sh_type, sh.sh_flags,
                                         sh.sh_addr, sh.sh_offset, sh.sh_size, sh.sh_link,
                                         sh.sh_entsize});
    }
  }
  if (elf.segments_.empty() && elf.sections_.empty())
    return MakeError("ELF file has neither program nor section headers");
  elf.ParseRelocations();
  return elf;
}

const ElfSection* ElfFile::FindSection(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::span<const uint8_t> ElfFile::SectionData(const ElfSection& section) const {
  if (section.type == SHT_NOBITS) return {};
  return FileBytes(section.offset, section.size);
}

std::span<const uint8_t> ElfFile::FileBytes(uint64_t offset, uint64_t length) const {
  if (!InRange(image_, offset, length)) return {};
  return image_.subspan(offset, length);
}

std::optional<uint64_t> ElfFile::VaddrToOffset(uint64_t vaddr) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD) continue;
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) return seg.offset + (vaddr - seg.vaddr);
  }
  // No program headers (e.g. relocatable object): fall back to allocated sections.
  if (segments_.empty()) {
    for (const auto& s : sections_) {
      if ((s.flags & SHF_ALLOC) == 0 || s.type == SHT_NOBITS) continue;
      if (vaddr >= s.addr && vaddr - s.addr < s.size) return s.offset + (vaddr - s.addr);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ElfFile::OffsetToVaddr(uint64_t offset) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD) continue;
    if (offset >= seg.offset && offset - seg.offset < seg.filesz) return seg.vaddr + (offset - seg.offset);
  }
  return std::nullopt;
}

std::span<const uint8_t> ElfFile::ReadVaddr(uint64_t vaddr, uint64_t length) const {
  auto off = VaddrToOffset(vaddr);
  if (!off) return {};
  // The whole range must sit in the same segment's file-backed part.
  auto rest = ReadVaddrToSegmentEnd(vaddr);
  if (rest.size() < length) return {};
  return rest.subspan(0, length);
}

std::span<const uint8_t> ElfFile::ReadVaddrToSegmentEnd(uint64_t vaddr) const {
  for (const auto& seg : segments_) {
    if (seg.type != PT_LOAD) continue;
    if (vaddr >= seg.vaddr && vaddr - seg.vaddr < seg.filesz) {
      uint64_t off = seg.offset + (vaddr - seg.vaddr);
      uint64_t len = seg.filesz - (vaddr - seg.vaddr);
      if (off > image_.size()) return {};
      len = std::min<uint64_t>(len, image_.size() - off);
      return image_.subspan(off, len);
    }
  }
  if (segments_.empty()) {
    for (const auto& s : sections_) {
      if ((s.flags & SHF_ALLOC) == 0 || s.type == SHT_NOBITS) continue;
      if (vaddr >= s.addr && vaddr - s.addr < s.size) {
        uint64_t off = s.offset + (vaddr - s.addr);
        if (off > image_.size()) return {};
        return image_.subspan(off, std::min<uint64_t>(s.size - (vaddr - s.addr), image_.size() - off));
      }
    }
  }
  return {};
}

void ElfFile::AddRelaTable(std::span<const uint8_t> data) {
  const uint32_t relative = machine_ == EM_AARCH64 ? 1027 /* R_AARCH64_RELATIVE */ : R_X86_64_RELATIVE;
  for (size_t off = 0; off + sizeof(Elf64_Rela) <= data.size(); off += sizeof(Elf64_Rela)) {
    Elf64_Rela r;
    std::memcpy(&r, data.data() + off, sizeof r);
    if (ELF64_R_TYPE(r.r_info) == relative)
      relative_relocs_.emplace_back(r.r_offset, static_cast<uint64_t>(r.r_addend));
  }
}

void ElfFile::ParseRelocations() {
  if (type_ != ET_DYN) return;  // only PIE/shared objects hold RELATIVE relocations
  bool found = false;
  for (const auto& s : sections_) {
    if (s.type == SHT_RELA && (s.flags & SHF_ALLOC)) {
      AddRelaTable(SectionData(s));
      found = true;
    }
  }
  if (!found) {
    // No section headers: the dynamic segment says where the table is.
    for (const auto& seg : segments_) {
      if (seg.type != PT_DYNAMIC) continue;
      auto dyn = FileBytes(seg.offset, seg.filesz);
      uint64_t rela = 0, relasz = 0;
      for (size_t off = 0; off + sizeof(Elf64_Dyn) <= dyn.size(); off += sizeof(Elf64_Dyn)) {
        Elf64_Dyn d;
        std::memcpy(&d, dyn.data() + off, sizeof d);
        if (d.d_tag == DT_NULL) break;
        if (d.d_tag == DT_RELA) rela = d.d_un.d_ptr;
        if (d.d_tag == DT_RELASZ) relasz = d.d_un.d_val;
      }
      if (rela != 0 && relasz != 0) AddRelaTable(ReadVaddr(rela, relasz));
    }
  }
  std::sort(relative_relocs_.begin(), relative_relocs_.end());
}

std::optional<uint64_t> ElfFile::ReadPointer(uint64_t vaddr) const {
  auto it = std::lower_bound(relative_relocs_.begin(), relative_relocs_.end(),
                             std::make_pair(vaddr, uint64_t{0}));
  if (it != relative_relocs_.end() && it->first == vaddr) return it->second;
  auto bytes = ReadVaddr(vaddr, 8);
  if (bytes.size() != 8) return std::nullopt;
  return LoadLE<uint64_t>(bytes.data());
}

std::vector<uint64_t> ElfFile::RelocationsTargeting(uint64_t target) const {
  std::vector<uint64_t> out;
  for (const auto& [where, addend] : relative_relocs_)
    if (addend == target) out.push_back(where);
  return out;
}

std::vector<ElfNote> ElfFile::Notes() const {
  std::vector<ElfNote> notes;
  bool any_section = false;
  for (const auto& s : sections_) {
    if (s.type != SHT_NOTE) continue;
    any_section = true;
    ParseNotes(SectionData(s), &notes);
  }
  if (!any_section) {
    for (const auto& seg : segments_)
      if (seg.type == PT_NOTE) ParseNotes(FileBytes(seg.offset, seg.filesz), &notes);
  }
  return notes;
}

}  // namespace golens::symbolizer
