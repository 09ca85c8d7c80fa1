#include "symbolizer/elf_file.h"

#include <elf.h>
#include <gtest/gtest.h>

#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::Fixture;
using testing::ReadFile;

TEST(ElfFile, ParsesGoExecutable) {
  auto bytes = ReadFile(Fixture("local_plain"));
  ASSERT_GT(bytes.size(), 100000u);
  auto elf = ElfFile::Parse(bytes);
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  EXPECT_EQ(elf->type(), ET_EXEC);
  EXPECT_EQ(elf->machine(), EM_X86_64);
  const ElfSection* text = elf->FindSection(".text");
  ASSERT_NE(text, nullptr);
  ASSERT_NE(elf->FindSection(".gopclntab"), nullptr);
  // vaddr <-> offset round trip through PT_LOAD.
  auto off = elf->VaddrToOffset(text->addr + 16);
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(*off, text->offset + 16);
  EXPECT_EQ(elf->OffsetToVaddr(*off), text->addr + 16);
  auto bytes_at = elf->ReadVaddr(text->addr, 16);
  ASSERT_EQ(bytes_at.size(), 16u);
  EXPECT_EQ(0, std::memcmp(bytes_at.data(), bytes.data() + text->offset, 16));
  EXPECT_TRUE(elf->ReadVaddr(0x10, 4).empty());
  bool go_note = false;
  for (const auto& n : elf->Notes()) go_note |= n.name == "Go" && n.type == 4 && !n.desc.empty();
  EXPECT_TRUE(go_note);
}

TEST(ElfFile, PieRelocationsResolvePointers) {
  auto bytes = ReadFile(Fixture("local_pie.stripped"));
  auto elf = ElfFile::Parse(bytes);
  ASSERT_TRUE(elf.ok()) << elf.error().message;
  EXPECT_EQ(elf->type(), ET_DYN);
  // Go 1.26: moduledata (.go.module) starts with a relocated pointer to the pclntab.
  const ElfSection* md = elf->FindSection(".go.module");
  const ElfSection* pcln = elf->FindSection(".gopclntab");
  ASSERT_NE(md, nullptr);
  ASSERT_NE(pcln, nullptr);
  EXPECT_EQ(elf->ReadPointer(md->addr), pcln->addr);
  EXPECT_FALSE(elf->RelocationsTargeting(pcln->addr).empty());
}

TEST(ElfFile, RejectsNonElf) {
  std::vector<uint8_t> text(200, 'a');
  auto r = ElfFile::Parse(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not an ELF file");
  std::vector<uint8_t> truncated = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  r = ElfFile::Parse(truncated);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "truncated ELF header");
}

}  // namespace
}  // namespace golens::symbolizer
