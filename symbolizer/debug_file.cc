#include "symbolizer/debug_file.h"

#include <elf.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "symbolizer/elf_file.h"
#include "symbolizer/mapped_file.h"

namespace golens::symbolizer {
namespace {

bool IsFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string HexOfNote(std::span<const uint8_t> desc) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : desc) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// The GNU build ID of the file at `path`, "" when it has none or is not ELF.
std::string BuildIdOf(const std::string& path) {
  auto image = FileImage::Map(path);
  if (!image.ok()) return "";
  auto elf = ElfFile::Parse(image->bytes());
  if (!elf.ok()) return "";
  for (const auto& note : elf->Notes())
    if (note.name == "GNU" && note.type == NT_GNU_BUILD_ID) return HexOfNote(note.desc);
  return "";
}

// The CRC-32 (IEEE, as gdb's gnu_debuglink_crc32) of a whole file.
std::optional<uint32_t> FileCrc32(const std::string& path) {
  auto image = FileImage::Map(path);
  if (!image.ok()) return std::nullopt;
  static uint32_t table[256];
  static bool ready = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)ready;
  uint32_t crc = 0xffffffffu;
  for (uint8_t b : image->bytes()) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace

std::string DebugRoot() {
  const char* env = std::getenv("GOLENS_DEBUG_ROOT");
  return env && *env ? std::string(env) : std::string(kDefaultDebugRoot);
}

std::optional<std::string> FindDebugFile(const ElfFile& elf, std::string_view build_id, const std::string& path,
                                         const std::string& debug_root) {
  if (build_id.size() > 2) {
    std::string candidate = debug_root + "/.build-id/" + std::string(build_id.substr(0, 2)) + "/" +
                            std::string(build_id.substr(2)) + ".debug";
    if (IsFile(candidate) && BuildIdOf(candidate) == build_id) return candidate;
  }
  const ElfSection* link = elf.FindSection(".gnu_debuglink");
  if (!link || path.empty() || path[0] != '/') return std::nullopt;
  auto data = elf.SectionData(*link);
  size_t name_len = strnlen(reinterpret_cast<const char*>(data.data()), data.size());
  if (name_len == 0 || name_len == data.size()) return std::nullopt;
  std::string name(reinterpret_cast<const char*>(data.data()), name_len);
  if (name.find('/') != std::string::npos) return std::nullopt;
  size_t crc_at = (name_len + 4) & ~size_t{3};  // NUL, padding to 4, then the CRC
  if (crc_at + 4 > data.size()) return std::nullopt;
  uint32_t want = LoadLE<uint32_t>(data.data() + crc_at);
  const std::string dir = DirName(path);
  for (const std::string& candidate : {debug_root + dir + "/" + name, dir + "/.debug/" + name, dir + "/" + name}) {
    if (candidate == path || !IsFile(candidate)) continue;
    if (FileCrc32(candidate) == want) return candidate;
  }
  return std::nullopt;
}

}  // namespace golens::symbolizer
