// Profile files: sniffing, atomic writes, writability checks.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "pprof/builder.h"
#include "pprof/gzip.h"
#include "pprof/profile_io.h"

namespace golens::pprof {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/golens-pprof-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    DIR* d = ::opendir(path_.c_str());
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

Profile Tiny() {
  ProfileBuilder b({{"samples", "count"}});
  uint64_t f = b.AddFunction("main.main", "main.main", "main.go", 1);
  uint64_t l = b.AddLocation(0, 0x10, {{f, 2, 0}});
  std::vector<uint64_t> s{l};
  b.AddSample(s, std::vector<int64_t>{3});
  return b.Build();
}

TEST(ReadProfileFile, SniffsGzipRawAndFolded) {
  TempDir dir;
  auto gz = SerializePprof(Tiny(), true);
  auto raw = SerializePprof(Tiny(), false);
  ASSERT_TRUE(gz.ok() && raw.ok());
  WriteFile(dir.path() + "/a.pb.gz", *gz);
  WriteFile(dir.path() + "/a.pb", *raw);
  WriteFile(dir.path() + "/a.folded", "main.main;x 3\n");
  std::string folded = "main.main;x 3\n";
  WriteFile(dir.path() + "/a.folded.gz",
            *GzipCompress(std::span(reinterpret_cast<const uint8_t*>(folded.data()), folded.size())));
  for (const char* name : {"/a.pb.gz", "/a.pb", "/a.folded", "/a.folded.gz"}) {
    auto p = ReadProfileFile(dir.path() + name);
    ASSERT_TRUE(p.ok()) << name << ": " << p.error().message;
    ASSERT_EQ(p->samples.size(), 1u) << name;
    EXPECT_EQ(p->samples[0].values[0], 3) << name;
  }
}

TEST(ReadProfileFile, BadInputErrorsNameTheFile) {
  TempDir dir;
  WriteFile(dir.path() + "/empty", "");
  auto e = ReadProfileFile(dir.path() + "/empty");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find(dir.path() + "/empty: empty file"), std::string::npos)
      << e.error().message;
  auto gz = SerializePprof(Tiny(), true);
  WriteFile(dir.path() + "/trunc.pb.gz", gz->substr(0, gz->size() - 10));
  auto t = ReadProfileFile(dir.path() + "/trunc.pb.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("truncated gzip"), std::string::npos) << t.error().message;
  WriteFile(dir.path() + "/bin", std::string("\x01\x02\x03\xff\xfe garbage", 13));
  auto b = ReadProfileFile(dir.path() + "/bin");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("not a pprof profile"), std::string::npos) << b.error().message;
  auto missing = ReadProfileFile(dir.path() + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

TEST(WritePprofFile, AtomicReplaceLeavesNoTempFiles) {
  TempDir dir;
  std::string path = dir.path() + "/out.pb.gz";
  WriteFile(path, "old contents");
  ASSERT_TRUE(WritePprofFile(Tiny(), path).ok());
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"out.pb.gz"});
  auto back = ReadProfileFile(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->samples[0].values[0], 3);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0044, 0u) << "readable by others like any output file (umask permitting)";
}

TEST(WritePprofFile, MissingDirectoryIsAClearError) {
  auto r = WritePprofFile(Tiny(), "/nonexistent-dir-golens/x.pb.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent-dir-golens"), std::string::npos) << r.error().message;
}

TEST(CheckWritable, Cases) {
  TempDir dir;
  EXPECT_TRUE(CheckWritable(dir.path() + "/new.pb.gz").ok());
  EXPECT_EQ(dir.Entries().size(), 0u) << "the probe must not stay behind";
  auto d = CheckWritable(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("is a directory"), std::string::npos);
  auto m = CheckWritable("/nonexistent-dir-golens/x.pb.gz");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("No such file"), std::string::npos) << m.error().message;
  auto p = CheckWritable("/proc/golens-cannot-write-here");
  EXPECT_FALSE(p.ok());
  EXPECT_FALSE(CheckWritable("").ok());
}

}  // namespace
}  // namespace golens::pprof
