#include "symbolizer/go_buildinfo.h"

#include <elf.h>

#include <cstring>
#include <string_view>

#include "symbolizer/elf_file.h"

namespace golens::symbolizer {
namespace {

constexpr std::string_view kMagic("\xff Go buildinf:", 14);

bool ReadVarintString(std::span<const uint8_t> d, size_t* pos, std::string* out) {
  uint64_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (shift > 63 || *pos >= d.size()) return false;
    uint8_t b = d[(*pos)++];
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len > d.size() - *pos) return false;
  out->assign(reinterpret_cast<const char*>(d.data() + *pos), len);
  *pos += len;
  return true;
}

// Go string header {data, len} at vaddr (pre-1.18 format).
std::optional<std::string> ReadGoString(const ElfFile& elf, uint64_t header_vaddr) {
  auto data = elf.ReadPointer(header_vaddr);
  auto len = elf.ReadPointer(header_vaddr + 8);
  if (!data || !len || *len > (1u << 20)) return std::nullopt;
  auto bytes = elf.ReadVaddr(*data, *len);
  if (bytes.size() != *len) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string StripExperiments(const std::string& v) {
  size_t cut = v.find(' ');
  size_t x = v.find("-X:");
  if (x != std::string::npos && x < cut) cut = x;
  return v.substr(0, cut);
}

std::string MainModule(std::string mod) {
  // Strip the 16-byte sentinels around modinfo (cmd/go/internal/modload/build.go).
  if (mod.size() >= 33 && mod[mod.size() - 17] == '\n') mod = mod.substr(16, mod.size() - 32);
  size_t pos = 0;
  while (pos < mod.size()) {
    size_t nl = mod.find('\n', pos);
    if (nl == std::string::npos) nl = mod.size();
    std::string_view line(mod.data() + pos, nl - pos);
    if (line.substr(0, 4) == "mod\t") {
      line.remove_prefix(4);
      return std::string(line.substr(0, line.find('\t')));
    }
    pos = nl + 1;
  }
  return "";
}

std::optional<GoBuildInfo> ParseBlob(const ElfFile& elf, std::span<const uint8_t> d, uint64_t vaddr) {
  if (d.size() < 32 || std::memcmp(d.data(), kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  uint8_t ptr_size = d[14];
  uint8_t flags = d[15];
  std::string version, mod;
  if (flags & 2) {
    size_t pos = 32;
    if (!ReadVarintString(d, &pos, &version) || !ReadVarintString(d, &pos, &mod)) return std::nullopt;
  } else {
    if (ptr_size != 8 || (flags & 1)) return std::nullopt;
    auto vers_ptr = elf.ReadPointer(vaddr + 16);
    auto mod_ptr = elf.ReadPointer(vaddr + 24);
    if (!vers_ptr || !mod_ptr) return std::nullopt;
    auto v = ReadGoString(elf, *vers_ptr);
    if (!v) return std::nullopt;
    version = *v;
    mod = ReadGoString(elf, *mod_ptr).value_or("");
  }
  if (version.rfind("go", 0) != 0 && version.rfind("devel", 0) != 0) return std::nullopt;
  GoBuildInfo info;
  info.full_version = version;
  info.version = StripExperiments(version);
  info.main_module = MainModule(mod);
  return info;
}

}  // namespace

std::optional<GoBuildInfo> ReadGoBuildInfo(const ElfFile& elf) {
  if (const ElfSection* s = elf.FindSection(".go.buildinfo")) {
    if (auto info = ParseBlob(elf, elf.SectionData(*s), s->addr)) return info;
  }
  // No section headers: scan the first writable, non-executable PT_LOAD at 16-byte alignment.
  for (const auto& seg : elf.segments()) {
    if (seg.type != PT_LOAD || (seg.flags & PF_W) == 0 || (seg.flags & PF_X)) continue;
    auto data = elf.FileBytes(seg.offset, seg.filesz);
    for (size_t off = 0; off + 32 <= data.size(); off += 16) {
      if (data[off] != 0xff || std::memcmp(data.data() + off, kMagic.data(), kMagic.size()) != 0) continue;
      if (auto info = ParseBlob(elf, data.subspan(off), seg.vaddr + off)) return info;
    }
    break;
  }
  return std::nullopt;
}

std::optional<std::pair<int, int>> ParseGoVersion(const std::string& version) {
  int major = 0, minor = 0;
  if (std::sscanf(version.c_str(), "go%d.%d", &major, &minor) != 2) return std::nullopt;
  return std::make_pair(major, minor);
}

}  // namespace golens::symbolizer
