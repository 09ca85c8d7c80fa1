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

TEST(Kallsyms, AllZeroAddressesAreReported) {
  auto k = Kallsyms::Parse("0000000000000000 T _stext\n0000000000000000 T schedule\n");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->size(), 0u);
  EXPECT_FALSE(Kallsyms::Load("/nonexistent/kallsyms").ok());
}

}  // namespace
}  // namespace golens::symbolizer
