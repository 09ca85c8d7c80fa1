#include <gtest/gtest.h>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

TEST(Kallsyms, ParsesCoreAndModuleSymbols) {
  const char* text =
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t do_one_initcall\n"
      "ffffffff81002000 D some_data\n"
      "ffffffff81003000 T schedule\n"
      "ffffffffc0001000 t ext4_readdir\t[ext4]\n"
      "ffffffffc0002000 T nf_hook_slow\t[nf_tables]\n"
      "0000000000000000 A fixed_percpu_data\n"
      "garbage line\n";
  auto k = Kallsyms::Parse(text);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->size(), 5u);  // data and absolute symbols dropped
  auto s = k->Symbolize(0xffffffff81003010);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.frames[0].function, "schedule");
  EXPECT_EQ(s.frames[0].file, "");
  s = k->Symbolize(0xffffffffc0001234);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.frames[0].function, "ext4_readdir");
  EXPECT_EQ(s.frames[0].file, "[ext4]");
  s = k->Symbolize(0x1000);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.error.empty());
}

// Past the end of kernel text no symbol is named (it used to be the last
// one before, e.g. _einittext for 0xffffffffffffffff).
TEST(Kallsyms, PastTheEndOfTextIsUnknown) {
  const char* text =
      "ffffffff81000000 T _stext\n"
      "ffffffff81000000 T _text\n"
      "ffffffff81003000 T schedule\n"
      "ffffffff82276988 T _etext\n"
      "ffffffff8377f000 T _sinittext\n"
      "ffffffff8377f100 t start_kernel\n"
      "ffffffff837f5870 T _einittext\n"
      "ffffffffc0001000 t ext4_readdir\t[ext4]\n"
      "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n";
  const char* modules = "ext4 8192 1 - Live 0xffffffffc0000000\n";
  auto k = Kallsyms::Parse(text, modules);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->Symbolize(0xffffffff81003010).frames.at(0).function, "schedule");
  EXPECT_EQ(k->Symbolize(0xffffffff8377f200).frames.at(0).function, "start_kernel");
  EXPECT_EQ(k->Symbolize(0xffffffffc0001010).frames.at(0).function, "ext4_readdir");
  EXPECT_EQ(k->Symbolize(0xffffffffc0201010).frames.at(0).function, "ftrace_trampoline");
  for (uint64_t past : {uint64_t{0xffffffff82276988}, uint64_t{0xffffffff83000000}, uint64_t{0xffffffff837f5870},
                        uint64_t{0xffffffffc0002000} /* past ext4's 8 KiB */, uint64_t{0xffffffffffffffff}}) {
    auto s = k->Symbolize(past);
    EXPECT_FALSE(s.ok()) << std::hex << past << " -> " << s.frames.at(0).function;
    EXPECT_FALSE(s.error.empty());
  }
  // Without /proc/modules, a module symbol still does not stretch to the end of memory.
  auto no_modules = Kallsyms::Parse(text);
  ASSERT_TRUE(no_modules.ok());
  EXPECT_FALSE(no_modules->Symbolize(0xffffffffffffffff).ok());
  EXPECT_TRUE(no_modules->Symbolize(0xffffffffc0001010).ok());
}

TEST(Kallsyms, AllZeroAddressesAreReported) {
  auto k = Kallsyms::Parse("0000000000000000 T _stext\n0000000000000000 T schedule\n");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->size(), 0u);
  EXPECT_FALSE(Kallsyms::Load("/nonexistent/kallsyms").ok());
}

}  // namespace
}  // namespace golens::symbolizer
