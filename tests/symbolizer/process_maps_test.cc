#include <gtest/gtest.h>
#include <unistd.h>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

TEST(ProcessMappings, ParsesEveryKindOfLine) {
  const char* text =
      "00400000-00452000 r-xp 00000000 fd:01 1319 /usr/bin/prog\n"
      "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
      "7f1000000000-7f1000001000 r-xp 00002000 08:02 77 /tmp/my prog (deleted)\n"
      "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]\n"
      "7ffd10000000-7ffd10001000 rw-p 00000000 00:00 0\n";
  auto maps = ParseProcessMappings(text);
  ASSERT_TRUE(maps.ok()) << maps.error().message;
  ASSERT_EQ(maps->size(), 5u);
  const auto& m = *maps;
  EXPECT_EQ(m[0].start, 0x400000u);
  EXPECT_EQ(m[0].end, 0x452000u);
  EXPECT_EQ(m[0].perms, "r-xp");
  EXPECT_TRUE(m[0].executable());
  EXPECT_EQ(m[0].dev, "fd:01");
  EXPECT_EQ(m[0].inode, 1319u);
  EXPECT_EQ(m[0].path, "/usr/bin/prog");
  EXPECT_FALSE(m[0].deleted);
  EXPECT_EQ(m[1].path, "");
  EXPECT_FALSE(m[1].executable());
  EXPECT_EQ(m[2].path, "/tmp/my prog");
  EXPECT_TRUE(m[2].deleted);
  EXPECT_EQ(m[2].file_offset, 0x2000u);
  EXPECT_EQ(m[3].path, "[vdso]");
  EXPECT_EQ(m[4].path, "");
}

TEST(ProcessMappings, RejectsGarbage) {
  auto r = ParseProcessMappings("this is not a maps file\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(ParseProcessMappings("0-1 r-xp zz 00:00 0\n").ok());
}

TEST(ProcessMappings, ReadsOwnProcess) {
  auto maps = ReadProcessMappings(getpid());
  ASSERT_TRUE(maps.ok()) << maps.error().message;
  bool self = false;
  char exe[4096] = {};
  ASSERT_GT(readlink("/proc/self/exe", exe, sizeof exe - 1), 0);
  for (const auto& m : *maps) self |= m.path == exe && m.executable();
  EXPECT_TRUE(self);
}

TEST(ProcessMappings, VanishedProcessIsAnError) {
  auto r = ReadProcessMappings(0x3ffffff0);  // above pid_max
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/proc/"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace golens::symbolizer
