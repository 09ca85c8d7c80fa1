#include "profiler/fixed_mappings.h"

#include <elf.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "profiler/base/scoped_fd.h"
#include "profiler/process_source.h"

namespace golens::profiler {

Result<std::vector<symbolizer::Mapping>> FixedAddressMappings(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path);
  Elf64_Ehdr eh{};
  if (pread(fd.get(), &eh, sizeof(eh), 0) != static_cast<ssize_t>(sizeof(eh)) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return MakeError(path + ": not a 64-bit ELF file", ErrorKind::kCorrupt);
  }
  if (eh.e_type != ET_EXEC) return MakeError(path + ": position-independent", ErrorKind::kUnsupported);
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256) {
    return MakeError(path + ": bad program headers", ErrorKind::kCorrupt);
  }
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  size_t bytes = phdrs.size() * sizeof(Elf64_Phdr);
  if (pread(fd.get(), phdrs.data(), bytes, static_cast<off_t>(eh.e_phoff)) != static_cast<ssize_t>(bytes)) {
    return MakeError(path + ": truncated program headers", ErrorKind::kCorrupt);
  }
  std::vector<symbolizer::Mapping> out;
  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || ph.p_memsz == 0) continue;
    constexpr uint64_t kPage = 4096;
    symbolizer::Mapping m;
    m.start = ph.p_vaddr & ~(kPage - 1);
    m.end = (ph.p_vaddr + ph.p_memsz + kPage - 1) & ~(kPage - 1);
    m.file_offset = ph.p_offset & ~(kPage - 1);
    m.perms = "r-xp";
    m.inode = st.st_ino;
    m.dev = DeviceName(st.st_dev);
    m.path = path;
    out.push_back(m);
  }
  if (out.empty()) return MakeError(path + ": no executable segment", ErrorKind::kCorrupt);
  return out;
}

}  // namespace golens::profiler
