// A full disk must give a clear error and leave neither a torn output file
// nor a temp file. Runs as root in a private mount namespace on a tiny tmpfs.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <filesystem>

#include <gtest/gtest.h>

#include "pprof/builder.h"
#include "pprof/profile_io.h"

namespace golens::pprof {
namespace {

Profile Big() {
  ProfileBuilder b({{"samples", "count"}});
  std::vector<uint64_t> locs;
  for (int i = 0; i < 20000; ++i) {
    std::string name = "pkg.func" + std::to_string(i * 7919);
    uint64_t f = b.AddFunction(name, name, "file" + std::to_string(i) + ".go", i);
    locs.push_back(b.AddLocation(0, 0x1000 + i * 16, {{f, i, 0}}));
  }
  for (int i = 0; i + 3 < 20000; ++i) {
    std::vector<uint64_t> s{locs[i], locs[i + 1], locs[i + 3]};
    b.AddSample(s, std::vector<int64_t>{i});
  }
  return b.Build();
}

TEST(FullDisk, ClearErrorAndNoTornFile) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root (mount namespace + tmpfs); run via make test as root";
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  char tmpl[] = "/tmp/golens-fulldisk-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k"), 0)
      << "mount tmpfs: " << std::strerror(errno);
  std::string path = dir + "/profile.pb.gz";
  { std::ofstream(path) << "previous good profile"; }

  auto r = WritePprofFile(Big(), path);
  ASSERT_FALSE(r.ok()) << "a 64 KiB filesystem cannot hold this profile";
  EXPECT_NE(r.error().message.find("No space left on device"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;

  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries.push_back(e.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"profile.pb.gz"}) << "temp file left behind";
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "previous good profile") << "the old file must survive untouched";
  ::umount(dir.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace golens::pprof
