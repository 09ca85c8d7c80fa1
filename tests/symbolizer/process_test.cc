// Live processes (root: /proc/PID/map_files needs CAP_SYS_ADMIN): load bias of
// PIE executables, deleted and replaced binaries, cache sharing across PIDs,
// Refresh, and the real /proc/kallsyms.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

namespace fs = std::filesystem;
using testing::Fixture;
using testing::SpinningProcess;

constexpr const char* kSpin = "example.com/golens/testprog/internal/work.Spin";

void RequireRoot() { ASSERT_EQ(geteuid(), 0u) << "symbolizer_process_test needs root (/proc/PID/map_files)"; }

std::string TempPath(const std::string& tag) {
  return (fs::temp_directory_path() / ("golens_sym_" + tag + "_" + std::to_string(getpid()))).string();
}

TEST(ProcessSymbolizer, PieAndNonPieProcesses) {
  RequireRoot();
  for (const char* name : {"local_pie", "local_pie.stripped", "1_21_13_pie.stripped", "1_23_12_cgopie.stripped",
                           "local_plain.stripped", "1_27_4_plain.stripped"}) {
    SCOPED_TRACE(name);
    SpinningProcess proc(Fixture(name));
    ASSERT_TRUE(proc.ok());
    BinaryCache cache;
    auto ps = ProcessSymbolizer::Create(proc.pid(), &cache);
    ASSERT_TRUE(ps.ok()) << ps.error().message;
    auto r = (*ps)->Symbolize(std::vector<uint64_t>{proc.spin_address(), 0x10});
    ASSERT_EQ(r.size(), 2u);
    ASSERT_TRUE(r[0].ok()) << r[0].error;
    EXPECT_EQ(r[0].frames.back().function, kSpin);
    EXPECT_FALSE(r[1].ok());
    EXPECT_FALSE(r[1].error.empty());

    auto n = (*ps)->Normalize(proc.spin_address());
    ASSERT_TRUE(n.has_value());
    auto binary = (*ps)->BinaryFor(n->mapping_index);
    ASSERT_TRUE(binary);
    auto sym = binary->FindSymbol(kSpin);
    ASSERT_TRUE(sym.has_value());
    EXPECT_EQ(n->vaddr, sym->vaddr);
    if (binary->is_pie()) EXPECT_NE(proc.spin_address(), sym->vaddr) << "PIE should be loaded with a bias";
  }
}

TEST(ProcessSymbolizer, DeletedBinaryStillSymbolizes) {
  RequireRoot();
  const std::string path = TempPath("deleted");
  fs::copy_file(Fixture("local_pie.stripped"), path, fs::copy_options::overwrite_existing);
  SpinningProcess proc(path);
  ASSERT_TRUE(proc.ok());
  fs::remove(path);
  BinaryCache cache;
  auto ps = ProcessSymbolizer::Create(proc.pid(), &cache);
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  auto n = (*ps)->Normalize(proc.spin_address());
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE((*ps)->mappings()[n->mapping_index].deleted);
  EXPECT_EQ((*ps)->mappings()[n->mapping_index].path, path);
  // Opened through /proc/PID/map_files, reported under the path the process mapped.
  auto binary = (*ps)->BinaryFor(n->mapping_index);
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->path(), path);
  auto r = (*ps)->Symbolize(std::vector<uint64_t>{proc.spin_address()});
  ASSERT_TRUE(r[0].ok()) << r[0].error;
  EXPECT_EQ(r[0].frames.back().function, kSpin);
}

TEST(ProcessSymbolizer, ReplacedBinaryUsesTheMappedFile) {
  RequireRoot();
  const std::string path = TempPath("replaced");
  fs::copy_file(Fixture("local_plain.stripped"), path, fs::copy_options::overwrite_existing);
  SpinningProcess proc(path);
  ASSERT_TRUE(proc.ok());
  // Deploy a different build over the same path (rename, as package managers do).
  fs::copy_file(Fixture("1_23_12_plain.stripped"), path + ".new", fs::copy_options::overwrite_existing);
  fs::rename(path + ".new", path);
  BinaryCache cache;
  auto ps = ProcessSymbolizer::Create(proc.pid(), &cache);
  ASSERT_TRUE(ps.ok());
  auto n = (*ps)->Normalize(proc.spin_address());
  ASSERT_TRUE(n.has_value());
  auto binary = (*ps)->BinaryFor(n->mapping_index);
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->go_version(), GOLENS_SYM_LOCAL_GO_VERSION);
  auto r = (*ps)->Symbolize(std::vector<uint64_t>{proc.spin_address()});
  ASSERT_TRUE(r[0].ok()) << r[0].error;
  EXPECT_EQ(r[0].frames.back().function, kSpin);
  proc.Stop();
  fs::remove(path);
}

TEST(ProcessSymbolizer, CacheIsSharedAcrossProcessesAndRefresh) {
  RequireRoot();
  SpinningProcess a(Fixture("local_pie.stripped"));
  SpinningProcess b(Fixture("local_pie.stripped"));
  ASSERT_TRUE(a.ok() && b.ok());
  BinaryCache cache;
  auto pa = ProcessSymbolizer::Create(a.pid(), &cache);
  auto pb = ProcessSymbolizer::Create(b.pid(), &cache);
  ASSERT_TRUE(pa.ok() && pb.ok());
  ASSERT_TRUE((*pa)->Symbolize(std::vector<uint64_t>{a.spin_address()})[0].ok());
  auto after_first = cache.stats();
  ASSERT_TRUE((*pb)->Symbolize(std::vector<uint64_t>{b.spin_address()})[0].ok());
  auto after_second = cache.stats();
  EXPECT_EQ(after_second.misses, after_first.misses) << "second process must not parse again";
  EXPECT_GT(after_second.hits, after_first.hits);

  // Refresh keeps already opened binaries: no new cache traffic for known mappings.
  ASSERT_TRUE((*pa)->Refresh().ok());
  ASSERT_TRUE((*pa)->Symbolize(std::vector<uint64_t>{a.spin_address()})[0].ok());
  EXPECT_EQ(cache.stats().misses, after_second.misses);
  EXPECT_EQ(cache.stats().hits, after_second.hits);

  // A vanished process: Refresh reports it.
  pid_t gone = a.pid();
  a.Stop();
  auto refreshed = (*pa)->Refresh();
  ASSERT_FALSE(refreshed.ok());
  EXPECT_NE(refreshed.error().message.find("/proc/" + std::to_string(gone)), std::string::npos);
}

// A zombie (exited, not reaped) reads empty maps: Refresh must say so and
// keep the snapshot, so the samples it left still symbolize.
TEST(ProcessSymbolizer, RefreshOfZombieKeepsSnapshot) {
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(gate[1]);
    char c;
    (void)!read(gate[0], &c, 1);  // wait until the parent took its snapshot
    _exit(0);
  }
  close(gate[0]);
  BinaryCache cache;
  auto ps = ProcessSymbolizer::Create(child, &cache);
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  const size_t mappings = (*ps)->mappings().size();
  ASSERT_GT(mappings, 0u);

  close(gate[1]);  // the child exits and stays a zombie until waitpid
  std::string state;
  for (int i = 0; i < 500 && state != "Z"; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close_paren = line.rfind(')');
    state = close_paren == std::string::npos ? "" : line.substr(close_paren + 2, 1);
    if (state != "Z") usleep(10000);
  }
  ASSERT_EQ(state, "Z") << "child did not become a zombie";

  auto refreshed = (*ps)->Refresh();
  EXPECT_FALSE(refreshed.ok());
  EXPECT_EQ((*ps)->mappings().size(), mappings) << "the snapshot must survive the zombie";
  int status = 0;
  waitpid(child, &status, 0);
}

TEST(ProcessSymbolizer, VdsoFromProcessMemory) {
  BinaryCache cache;
  auto ps = ProcessSymbolizer::Create(getpid(), &cache);
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  const auto& maps = (*ps)->mappings();
  size_t vdso = maps.size();
  for (size_t i = 0; i < maps.size(); ++i)
    if (maps[i].path == "[vdso]") vdso = i;
  ASSERT_LT(vdso, maps.size()) << "no [vdso] mapping";
  auto binary = (*ps)->BinaryFor(vdso);
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->path(), "[vdso]");
  auto sym = binary->FindSymbol("__vdso_clock_gettime");
  ASSERT_TRUE(sym.has_value());
  const uint64_t runtime = maps[vdso].start + (sym->vaddr - *binary->FileOffsetToVaddr(maps[vdso].file_offset));
  auto r = (*ps)->Symbolize(std::vector<uint64_t>{runtime + 1});
  ASSERT_TRUE(r[0].ok()) << r[0].error;
  EXPECT_EQ(r[0].frames[0].function, "clock_gettime");  // the public alias of __vdso_clock_gettime
  // A second process symbolizer hits the cache (same kernel, same vDSO bytes).
  auto again = ProcessSymbolizer::Create(getpid(), &cache);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->BinaryFor(vdso));
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(Kallsyms, RealKernelSymbols) {
  RequireRoot();
  auto k = Kallsyms::Load();
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_GT(k->size(), 10000u);
  // Look "schedule" up in the file and resolve an address inside it.
  auto text = testing::RunCommand("grep -m1 ' T schedule$' /proc/kallsyms");
  ASSERT_EQ(text.exit_code, 0);
  uint64_t addr = std::strtoull(text.out.c_str(), nullptr, 16);
  ASSERT_NE(addr, 0u);
  auto s = k->Symbolize(addr + 1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.frames[0].function, "schedule");
}

}  // namespace
}  // namespace golens::symbolizer
