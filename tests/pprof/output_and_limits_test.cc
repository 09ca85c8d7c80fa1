// Outputs that never hurt: symlinks followed, modes kept, FIFOs and stdout
// written in place, clashing outputs refused; inputs bounded: /dev/zero, a
// never-ending FIFO and a gzip bomb refused at the limit, quickly.
// (/dev/null itself is tested in a private mount namespace by
// output_devices_test.sh, never on the host's /dev.)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "pprof/gzip.h"
#include "pprof/output_file.h"
#include "pprof/profile_io.h"
#include "profiler/base/scoped_fd.h"

namespace golens::pprof {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/golens-output-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

TEST(WriteOutputFile, SymlinkIsFollowedAndStaysALink) {
  TempDir dir;
  std::string target = dir.path() + "/real.svg", link = dir.path() + "/link.svg";
  Spit(target, "old");
  ASSERT_EQ(::symlink("real.svg", link.c_str()), 0);
  ASSERT_TRUE(WriteOutputFile(link, "new").ok());
  struct stat st {};
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced by a file";
  EXPECT_EQ(Slurp(target), "new");
  // A dangling link creates its target.
  std::string dangling = dir.path() + "/dangling.svg";
  ASSERT_EQ(::symlink("created.svg", dangling.c_str()), 0);
  ASSERT_TRUE(WriteOutputFile(dangling, "x").ok());
  EXPECT_EQ(Slurp(dir.path() + "/created.svg"), "x");
  ASSERT_EQ(::lstat(dangling.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST(WriteOutputFile, ExistingModeIsKept) {
  TempDir dir;
  for (mode_t mode : {mode_t{0444}, mode_t{0640}, mode_t{0755}}) {
    std::string path = dir.path() + "/out-" + std::to_string(mode);
    Spit(path, "old");
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    ASSERT_TRUE(WriteOutputFile(path, "new").ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode);
    EXPECT_EQ(Slurp(path), "new");
  }
}

TEST(WriteOutputFile, FifoIsWrittenInPlace) {
  TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = Slurp(fifo); });
  auto r = WriteOutputFile(fifo, "through the pipe");
  reader.join();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(got, "through the pipe");
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  EXPECT_TRUE(CheckWritable(fifo).ok());
}

// Runs WriteOutputFile(path) in a child whose stdout is `out_file` (as a
// shell's `> out_file` would), from inside `cwd`.
int WriteFromChildWithStdout(const std::string& path, const std::string& out_file, const std::string& cwd) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::dup2(fd, 1) < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(3);
    ::_exit(WriteOutputFile(path, "to stdout").ok() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

TEST(WriteOutputFile, DashAndDevStdoutAreStdout) {
  TempDir dir;
  std::string out = dir.path() + "/captured";
  EXPECT_EQ(WriteFromChildWithStdout("-", out, dir.path()), 0);
  EXPECT_EQ(Slurp(out), "to stdout");
  EXPECT_NE(::access((dir.path() + "/-").c_str(), F_OK), 0) << "a file named '-' was created";
  struct stat before {}, after {};
  ASSERT_EQ(::lstat("/dev/stdout", &before), 0);
  EXPECT_EQ(WriteFromChildWithStdout("/dev/stdout", out, dir.path()), 0);
  EXPECT_EQ(Slurp(out), "to stdout");
  ASSERT_EQ(::lstat("/dev/stdout", &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "/dev/stdout was replaced";
  EXPECT_EQ(before.st_mode, after.st_mode);
  EXPECT_TRUE(CheckWritable("-").ok());
}

TEST(CheckOutputsDistinct, Cases) {
  TempDir dir;
  const std::string& d = dir.path();
  Spit(d + "/a.svg", "x");
  ASSERT_EQ(::symlink("a.svg", (d + "/link.svg").c_str()), 0);
  ASSERT_EQ(::mkdir((d + "/sub").c_str(), 0755), 0);
  EXPECT_TRUE(CheckOutputsDistinct({d + "/a.svg", d + "/b.pb.gz"}).ok());
  EXPECT_TRUE(CheckOutputsDistinct({d + "/a.svg", ""}).ok());
  EXPECT_TRUE(CheckOutputsDistinct({"/dev/null", "/dev/null"}).ok());
  EXPECT_TRUE(CheckOutputsDistinct({"-", d + "/a.svg"}).ok());
  auto same = CheckOutputsDistinct({d + "/a.svg", d + "/a.svg"});
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(same.error().message.find("same file"), std::string::npos) << same.error().message;
  EXPECT_FALSE(CheckOutputsDistinct({d + "/link.svg", d + "/a.svg"}).ok());
  // Files that do not exist yet, spelled differently.
  EXPECT_FALSE(CheckOutputsDistinct({d + "/new.svg", d + "/sub/../new.svg"}).ok());
  EXPECT_FALSE(CheckOutputsDistinct({d + "/new.svg", d + "/./new.svg"}).ok());
  auto dashes = CheckOutputsDistinct({"-", "-"});
  ASSERT_FALSE(dashes.ok());
  EXPECT_EQ(dashes.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(dashes.error().message.find("--"), std::string::npos) << "library errors name no flags";
}

TEST(ReadFileBytes, DevZeroFailsAtOnce) {
  auto start = std::chrono::steady_clock::now();
  auto r = ReadFileBytes("/dev/zero");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCorrupt);
  EXPECT_NE(r.error().message.find("/dev/zero"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  auto p = ReadProfileFile("/dev/zero");
  EXPECT_FALSE(p.ok());
}

TEST(ReadFileBytes, EndlessFifoIsRefusedAtTheLimit) {
  TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The writer never stops on its own: only the reader closing ends it.
  std::thread writer([&] {
    std::signal(SIGPIPE, SIG_IGN);
    ScopedFd fd(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    std::string line(4096, 'a');
    line.back() = '\n';
    while (fd && ::write(fd.get(), line.data(), line.size()) > 0) {
    }
  });
  auto start = std::chrono::steady_clock::now();
  auto r = ReadFileBytes(fifo, 1 << 20);
  auto elapsed = std::chrono::steady_clock::now() - start;
  writer.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kResourceExhausted);
  EXPECT_NE(r.error().message.find("1 MiB"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // Under the limit it reads fine.
  std::thread small_writer([&] { Spit(fifo, "a;b 1\n"); });
  auto ok = ReadFileBytes(fifo, 1 << 20);
  small_writer.join();
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "a;b 1\n");
}

TEST(ReadFileBytes, RegularFileOverTheLimitIsRefusedBySize) {
  TempDir dir;
  Spit(dir.path() + "/big.folded", std::string(2048, 'a') + " 1\n");
  auto r = ReadFileBytes(dir.path() + "/big.folded", 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kResourceExhausted);
}

TEST(ParseProfileBytes, GzipBombIsRefusedQuickly) {
  // 64 MiB of folded text (highly repetitive) -> ~0.3 MiB of gzip.
  std::string text;
  const std::string line = "main.main;main.work;runtime.memmove 1\n";
  while (text.size() < (size_t{64} << 20)) text += line;
  auto gz = GzipCompress(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  ASSERT_TRUE(gz.ok());
  ASSERT_LT(gz->size(), size_t{1} << 20);
  auto start = std::chrono::steady_clock::now();
  auto r = ParseProfileBytes(*gz, "bomb.folded.gz", 4 << 20);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kResourceExhausted);
  EXPECT_NE(r.error().message.find("bomb.folded.gz"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("4 MiB"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  // And straight through the decoder too.
  auto direct = GzipDecompress(std::span(reinterpret_cast<const uint8_t*>(gz->data()), gz->size()), 4 << 20);
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().kind, ErrorKind::kResourceExhausted);
  // Within the limit the same bytes parse.
  EXPECT_TRUE(ParseProfileBytes(*gz, "bomb.folded.gz", 128 << 20).ok());
}

}  // namespace
}  // namespace golens::pprof
