// End-to-end tests of `golens record -- CMD` following the whole process tree
// (like `perf record`): children and grandchildren are recorded with their
// own mappings; frames are symbolized through the file that was mapped when
// the sample was taken (a library replaced at the same path and address
// mid-run); processes are keyed by (pid, start time), so a reused pid is two
// processes; golens passes the command's stdout and exit status through.
//
// Needs root (BPF, perf events, clone3 with set_tid). A test that cannot run
// fails and says why; nothing skips.
//
// The CLI contract these tests drive:
//   golens record [-o out.pb.gz] [--hz 99] [--duration D] [--no-children] -- CMD ARGS...
//   - records CMD and every process it forks/execs until CMD exits (no
//     default time limit in launch mode); --no-children: CMD only;
//   - golens' own messages (summary line included) go to stderr; golens exits
//     with CMD's exit status (128 + signal when a signal killed it);
//   - one pprof comment per recorded process:
//       golens record: pid <PID> start <START> exe <EXE>[ go <GOVERSION>] samples <N>
//     START = field 22 of /proc/PID/stat (clock ticks since boot);
//   - every location has a mapping with the mapped file's path and build ID.
//
// GOLENS_TEST_BINARY=/path/to/golens runs the tests against another build.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "pprof/profile.h"
#include "pprof/profile_io.h"
#include "tests/profiler/e2e_util.h"
#include "tests/profiler/profile_checks.h"
#include "tests/profiler/subprocess.h"

namespace golens {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;
const std::string kGo = GO_EXECUTABLE;

std::string Fixture(const std::string& name) { return kFixtures + "/" + name; }

std::string TempDir() { return testing::ScratchDir(); }

// A fresh directory under TempDir().
std::string MakeDir(const std::string& name) {
  std::string dir = TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// "exit 3, stdout: ..., stderr: ..." for failure messages.
std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

// ---- profile helpers (copied in spirit from record_e2e_test.cc) ------------

struct Frame {
  std::string function;
  const pprof::Mapping* mapping = nullptr;  // nullptr: the location has none
  const pprof::Location* location = nullptr;
};

// Frames of a sample, leaf first, inline chains expanded innermost first.
std::vector<Frame> Frames(const pprof::ProfileIndex& index, const pprof::Sample& s) {
  std::vector<Frame> frames;
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    const pprof::Mapping* m = loc->mapping_id ? index.mapping(loc->mapping_id) : nullptr;
    if (loc->lines.empty()) frames.push_back({"?", m, loc});
    for (const pprof::Line& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      frames.push_back({fn ? fn->name : "?", m, loc});
    }
  }
  return frames;
}

int64_t Count(const pprof::Sample& s) { return s.values.empty() ? 0 : s.values[0]; }

// Samples (count) whose stack holds a function named `name` anywhere.
int64_t Inclusive(const pprof::Profile& p, const std::string& name) {
  pprof::ProfileIndex index(p);
  int64_t n = 0;
  for (const auto& s : p.samples) {
    for (const Frame& f : Frames(index, s)) {
      if (f.function == name) {
        n += Count(s);
        break;
      }
    }
  }
  return n;
}

// Every mapping (as "filename build_id") of the locations that hold a
// function matching `pred`.
template <typename Pred>
std::set<std::pair<std::string, std::string>> MappingsOf(const pprof::Profile& p, Pred pred) {
  pprof::ProfileIndex index(p);
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& loc : p.locations) {
    for (const auto& line : loc.lines) {
      const pprof::Function* fn = index.function(line.function_id);
      if (!fn || !pred(fn->name)) continue;
      const pprof::Mapping* m = loc.mapping_id ? index.mapping(loc.mapping_id) : nullptr;
      out.insert(m ? std::make_pair(m->filename, m->build_id) : std::make_pair(std::string("<no mapping>"), std::string()));
    }
  }
  return out;
}

std::string Join(const std::set<std::pair<std::string, std::string>>& mappings) {
  std::string s;
  for (const auto& [file, id] : mappings) s += "  " + file + " build_id " + (id.empty() ? "<none>" : id) + "\n";
  return s;
}

// The 12 functions with the most samples, inclusive, for failure messages.
std::string TopFunctions(const pprof::Profile& p) {
  std::map<std::string, int64_t> inclusive = testing::InclusiveByFunction(p);
  std::vector<std::pair<std::string, int64_t>> v(inclusive.begin(), inclusive.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  std::string out = "top functions (inclusive samples) of " + std::to_string(testing::SampleTotal(p)) + " samples:\n";
  for (size_t i = 0; i < v.size() && i < 12; ++i) out += "  " + std::to_string(v[i].second) + " " + v[i].first + "\n";
  return out;
}

std::string Comments(const pprof::Profile& p) {
  std::string out = "comments:\n";
  for (const auto& c : p.comments) out += "  " + c + "\n";
  return out;
}

// Every location has a mapping; a file-backed mapping (not "[kernel]" and
// the like) has an absolute path and a build ID. The "[truncated]" marker
// of stacks cut at the kernel's depth limit, and the "[unwind cut: ...]"
// root of a native stack that could not be unwound whole, are no code
// locations.
void ExpectEveryLocationMapped(const pprof::Profile& p) {
  pprof::ProfileIndex index(p);
  int missing = 0, bad = 0;
  std::set<std::string> bad_files;
  std::string examples;  // of locations without a mapping
  for (const auto& loc : p.locations) {
    const pprof::Mapping* m = loc.mapping_id ? index.mapping(loc.mapping_id) : nullptr;
    const std::string marker_name =
        loc.address == 0 && loc.lines.size() == 1 ? index.function(loc.lines[0].function_id)->name : "";
    bool truncated_marker = marker_name == "[truncated]" || marker_name.starts_with("[unwind cut: ");
    if (!m && truncated_marker) continue;
    if (!m) {
      if (++missing <= 8) {
        char address[32];
        std::snprintf(address, sizeof(address), "0x%llx", static_cast<unsigned long long>(loc.address));
        examples += std::string("  ") + address;
        for (const auto& line : loc.lines) {
          const pprof::Function* fn = index.function(line.function_id);
          examples += " " + (fn ? fn->name : "?");
        }
        examples += "\n";
      }
      continue;
    }
    if (!m->filename.empty() && m->filename[0] == '[') continue;
    if (m->filename.empty() || m->filename[0] != '/' || m->build_id.empty()) {
      ++bad;
      bad_files.insert("'" + m->filename + "' build_id '" + m->build_id + "'");
    }
  }
  EXPECT_EQ(missing, 0) << missing << " of " << p.locations.size() << " locations have no mapping, e.g.:\n"
                        << examples;
  std::string files;
  for (const auto& f : bad_files) files += "  " + f + "\n";
  EXPECT_EQ(bad, 0) << bad << " locations in mappings without a path or build ID:\n" << files;
}

pprof::Profile MustRead(const std::string& path) {
  auto p = pprof::ReadProfileFile(path);
  EXPECT_TRUE(p.ok()) << path << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() ? std::move(p).value() : pprof::Profile{};
}

// One "golens record: pid P start S exe E[ go V] samples N" comment.
struct ProcessComment {
  int64_t pid = 0;
  uint64_t start = 0;
  std::string exe;
  std::string go_version;
  int64_t samples = 0;
};

std::vector<ProcessComment> ProcessComments(const pprof::Profile& p) {
  static const std::regex re(R"(^golens record: pid (\d+) start (\d+) exe (.+?)(?: go (\S+))? samples (\d+)$)");
  std::vector<ProcessComment> out;
  for (const auto& c : p.comments) {
    std::smatch m;
    if (!std::regex_match(c, m, re)) continue;
    ProcessComment pc;
    pc.pid = std::stoll(m[1]);
    pc.start = std::stoull(m[2]);
    pc.exe = m[3];
    pc.go_version = m[4];
    pc.samples = std::stoll(m[5]);
    out.push_back(pc);
  }
  return out;
}

// The GNU build ID of an ELF file in hex, through `readelf -n`.
std::string GnuBuildId(const std::string& path) {
  CommandResult r = RunCommand({"/usr/bin/readelf", "-n", path}, 30s);
  size_t at = r.out.find("Build ID: ");
  if (r.exit_code != 0 || at == std::string::npos) return "";
  at += 10;
  size_t end = r.out.find_first_of(" \n", at);
  return r.out.substr(at, end - at);
}

// The summary line golens ends with ("golens: N samples, ...").
const std::regex& SummaryLine() {
  static const std::regex re(R"((^|\n)golens: \d+ samples, )");
  return re;
}

// ---- background: a command that runs longer than 30 s ---------------------
// Started before the first test and checked by the last one, so it costs no
// wall time of its own: without --duration, launch mode records until the
// command exits, it must not be stopped at the old 30 s default.

constexpr int kLongSleepSeconds = 32;

struct LongRun {
  std::unique_ptr<Subprocess> golens;
  std::string out_path;
  std::chrono::steady_clock::time_point started;
};

LongRun& GetLongRun() {
  static LongRun* run = new LongRun;
  return *run;
}

// The sleep's pid, from the "started PID" line the command prints (0 if not yet).
pid_t LongRunChild() {
  LongRun& run = GetLongRun();
  if (!run.golens) return 0;
  int pid = 0;
  std::string out = run.golens->out();
  if (std::sscanf(out.c_str(), "started %d", &pid) != 1) return 0;
  return pid;
}

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    LongRun& run = GetLongRun();
    run.out_path = MakeDir("long") + "/long.pb.gz";
    run.started = std::chrono::steady_clock::now();
    run.golens = std::make_unique<Subprocess>(std::vector<std::string>{
        kGolens, "record", "-o", run.out_path, "--", "/bin/sh", "-c",
        "echo started $$; exec /bin/sleep " + std::to_string(kLongSleepSeconds)});
  }
  void TearDown() override {
    LongRun& run = GetLongRun();
    if (run.golens && !run.golens->Wait(0ms)) {
      pid_t child = LongRunChild();
      run.golens->Kill(SIGKILL);
      run.golens->Wait(10s);
      if (child > 0) kill(child, SIGKILL);  // only our own sleep, by its pid
    }
    run.golens.reset();
    std::error_code ignored;
    if (TempDir() != "/tmp") std::filesystem::remove_all(TempDir(), ignored);
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Environment);

// ---- 1. go build: the go command and the compilers it starts ---------------

struct GoBuildRecording {
  std::string error;  // why it could not be made ("" = ok)
  CommandResult result;
  std::string profile_path, output_binary;
  double seconds = 0;
  pprof::Profile profile;
};

// `golens record [extra] -o X -- go build -C module -o OUT .` with a fresh,
// empty GOCACHE, so that the go command really runs compile and link.
GoBuildRecording RecordGoBuild(const std::string& name, const std::vector<std::string>& extra) {
  GoBuildRecording r;
  std::string dir = MakeDir(name);
  std::string gocache = MakeDir(name + "/gocache");
  std::string gopath = MakeDir(name + "/gopath");
  r.profile_path = dir + "/gobuild.pb.gz";
  r.output_binary = dir + "/gobuild_module";
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "GOCACHE=" + gocache,
                                   "GOPATH=" + gopath,
                                   "GOMODCACHE=" + gopath + "/pkg/mod",
                                   "GOFLAGS=-buildvcs=false",
                                   "GOTOOLCHAIN=local",
                                   "GOPROXY=off",
                                   "GOWORK=off",
                                   "GOENV=off",
                                   "CGO_ENABLED=0",
                                   kGolens,
                                   "record",
                                   "-o",
                                   r.profile_path,
                                   // The go command's own main goroutine (main.main) runs only
                                   // briefly: sample often enough to catch it.
                                   "--hz",
                                   "299"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (const char* a : {"--", GO_EXECUTABLE, "build", "-C", GOBUILD_MODULE_DIR, "-o"}) argv.push_back(a);
  argv.push_back(r.output_binary);
  argv.push_back(".");
  auto t0 = std::chrono::steady_clock::now();
  r.result = RunCommand(argv, 180s);
  r.seconds = SecondsSince(t0);
  std::printf("golens record %s-- go build (fresh GOCACHE): %.1f s, exit %d\n",
              extra.empty() ? "" : (extra[0] + " ").c_str(), r.seconds, r.result.exit_code);
  if (r.result.exit_code != 0) {
    r.error = "golens record -- go build failed: " + Describe(r.result);
    return r;
  }
  r.profile = MustRead(r.profile_path);
  return r;
}

const GoBuildRecording& GoBuildWithChildren() {
  static GoBuildRecording* r = new GoBuildRecording(RecordGoBuild("gobuild-children", {}));
  return *r;
}

const GoBuildRecording& GoBuildNoChildren() {
  static GoBuildRecording* r = new GoBuildRecording(RecordGoBuild("gobuild-nochildren", {"--no-children"}));
  return *r;
}

bool IsCompilerFunction(const std::string& name) { return name.starts_with("cmd/compile/internal/"); }

TEST(RecordTree, ProcessTree) {
  const GoBuildRecording& r = GoBuildWithChildren();
  ASSERT_EQ(r.error, "");
  const pprof::Profile& p = r.profile;
  EXPECT_TRUE(std::filesystem::exists(r.output_binary)) << "go build wrote no " << r.output_binary;
  EXPECT_EQ(r.result.out, "") << "go build prints nothing on success; golens must not write to stdout";
  EXPECT_TRUE(std::regex_search(r.result.err, SummaryLine())) << "no summary line on stderr:\n" << r.result.err;

  // The compiler's frames, in the compile binary's mapping.
  auto compile_mappings = MappingsOf(p, IsCompilerFunction);
  ASSERT_FALSE(compile_mappings.empty()) << "no cmd/compile/internal/ frames: the compile processes that "
                                            "go build started were not recorded\n"
                                         << Comments(p) << TopFunctions(p);
  for (const auto& [file, id] : compile_mappings) {
    EXPECT_TRUE(EndsWith(file, "/compile")) << "cmd/compile/internal/ frame in mapping " << file;
  }
  // The go command's own main.main, in the go binary's mapping.
  auto main_mappings = MappingsOf(p, [](const std::string& n) { return n == "main.main"; });
  bool go_main = false;
  for (const auto& [file, id] : main_mappings) go_main |= EndsWith(file, "/go");
  EXPECT_TRUE(go_main) << "no main.main in a mapping of the go command; main.main is in:\n"
                       << Join(main_mappings) << TopFunctions(p);

  // One comment per process: the go command, the compiles, the link, ...
  auto processes = ProcessComments(p);
  // A process that execs has a line per program it ran (before and after).
  std::set<std::tuple<int64_t, uint64_t, std::string>> keys;
  bool go_process = false, compile_process = false;
  for (const auto& pc : processes) {
    keys.insert({pc.pid, pc.start, pc.exe});
    if (EndsWith(pc.exe, "/go")) {
      go_process = true;
      EXPECT_FALSE(pc.go_version.empty()) << "the go command is a Go program; its comment names no Go version";
    }
    compile_process |= EndsWith(pc.exe, "/compile");
  }
  EXPECT_GE(keys.size(), 2u) << Comments(p);
  EXPECT_EQ(keys.size(), processes.size()) << "one comment per (pid, start, program)\n" << Comments(p);
  EXPECT_TRUE(go_process) << Comments(p);
  EXPECT_TRUE(compile_process) << Comments(p);
  // The samples of the comments add up to the profile's.
  int64_t commented = 0;
  for (const auto& pc : processes) commented += pc.samples;
  EXPECT_EQ(commented, testing::SampleTotal(p)) << Comments(p);
  ExpectEveryLocationMapped(p);
  std::printf("go build: %zu processes, %lld samples\n", processes.size(), static_cast<long long>(testing::SampleTotal(p)));
}

TEST(RecordTree, ProcessTreeNoChildren) {
  const GoBuildRecording& r = GoBuildNoChildren();
  ASSERT_EQ(r.error, "");
  const pprof::Profile& p = r.profile;
  EXPECT_TRUE(std::filesystem::exists(r.output_binary)) << "go build wrote no " << r.output_binary;
  auto compile_mappings = MappingsOf(p, IsCompilerFunction);
  EXPECT_TRUE(compile_mappings.empty()) << "--no-children, yet compiler frames in:\n" << Join(compile_mappings);
  auto processes = ProcessComments(p);
  ASSERT_EQ(processes.size(), 1u) << "--no-children records only the launched process\n" << Comments(p);
  EXPECT_TRUE(EndsWith(processes[0].exe, "/go")) << Comments(p);
  EXPECT_GT(testing::SampleTotal(p), 0) << "the go command itself burns CPU loading packages";
  for (const auto& m : p.mappings) EXPECT_FALSE(EndsWith(m.filename, "/compile")) << m.filename;
}

// ---- 2. a library replaced at the same path (and address) mid-run ----------

struct DlRecording {
  std::string error;
  CommandResult result;
  pprof::Profile profile;
  std::string build_id_a, build_id_b;
};

DlRecording RecordDlReplace(const std::string& mode) {
  DlRecording r;
  std::string dir = MakeDir("dl-" + mode);
  std::string out = dir + "/dl.pb.gz";
  r.build_id_a = GnuBuildId(Fixture("tree/libA.so"));
  r.build_id_b = GnuBuildId(Fixture("tree/libB.so"));
  if (r.build_id_a.empty() || r.build_id_b.empty() || r.build_id_a == r.build_id_b) {
    r.error = "libA.so / libB.so need distinct GNU build IDs, have '" + r.build_id_a + "' and '" + r.build_id_b + "'";
    return r;
  }
  auto t0 = std::chrono::steady_clock::now();
  r.result = RunCommand({kGolens, "record", "-o", out, "--", Fixture("tree/dlreplace"), mode, dir,
                         Fixture("tree/libA.so"), Fixture("tree/libB.so"), "1.5"},
                        60s);
  std::printf("golens record -- dlreplace %s: %.1f s, exit %d; fixture said:\n%s", mode.c_str(), SecondsSince(t0),
              r.result.exit_code, r.result.out.c_str());
  if (r.result.exit_code == 3) {
    r.error = "dlreplace: a library stayed mapped after dlclose, the test cannot work: " + Describe(r.result);
  } else if (r.result.exit_code != 0) {
    r.error = "golens record -- dlreplace " + mode + " failed: " + Describe(r.result);
  } else if (r.result.out.find("same base:") == std::string::npos) {
    r.error = "dlreplace did not finish (no \"same base:\" line on stdout): " + Describe(r.result);
  } else {
    r.profile = MustRead(out);
  }
  return r;
}

void ExpectBothLibrariesSymbolizedThroughTheirOwnFile(const DlRecording& r, const std::string& file_a,
                                                      const std::string& file_b) {
  const pprof::Profile& p = r.profile;
  int64_t a = Inclusive(p, "work_a_hot"), b = Inclusive(p, "work_b_hot");
  std::printf("work_a_hot %lld samples, work_b_hot %lld samples\n", static_cast<long long>(a),
              static_cast<long long>(b));
  ASSERT_GT(a + b, 100) << "1.5 s + 1.5 s at 99 Hz is ~300 samples\n" << TopFunctions(p);
  EXPECT_GE(a * 10, (a + b) * 4) << "work_a_hot " << a << " vs work_b_hot " << b << "\n" << TopFunctions(p);
  EXPECT_GE(b * 10, (a + b) * 4) << "work_a_hot " << a << " vs work_b_hot " << b << "\n" << TopFunctions(p);

  auto a_mappings = MappingsOf(p, [](const std::string& n) { return n == "work_a_hot"; });
  auto b_mappings = MappingsOf(p, [](const std::string& n) { return n == "work_b_hot"; });
  EXPECT_EQ(a_mappings, (std::set<std::pair<std::string, std::string>>{{file_a, r.build_id_a}}))
      << "work_a_hot must be only in " << file_a << " build_id " << r.build_id_a << " (libA.so); it is in:\n"
      << Join(a_mappings);
  EXPECT_EQ(b_mappings, (std::set<std::pair<std::string, std::string>>{{file_b, r.build_id_b}}))
      << "work_b_hot must be only in " << file_b << " build_id " << r.build_id_b << " (libB.so); it is in:\n"
      << Join(b_mappings);

  // Nothing in the libraries' mappings is left unsymbolized (a sample
  // normalized against the wrong file would be).
  pprof::ProfileIndex index(p);
  int unsymbolized = 0, in_libs = 0;
  for (const auto& loc : p.locations) {
    const pprof::Mapping* m = loc.mapping_id ? index.mapping(loc.mapping_id) : nullptr;
    if (!m || (m->filename != file_a && m->filename != file_b)) continue;
    ++in_libs;
    if (loc.lines.empty()) ++unsymbolized;
  }
  EXPECT_GT(in_libs, 0);
  EXPECT_EQ(unsymbolized, 0) << unsymbolized << " of " << in_libs << " locations in " << file_a << " / " << file_b
                             << " have no function";
  // work() calls the hot function: in (nearly) every sample the caller is
  // work, in the same mapping (a stack unwound with the other library's
  // frame layout would not be).
  int64_t hot = 0, called_by_work = 0;
  std::map<std::string, int64_t> other_callers;
  for (const auto& s : p.samples) {
    auto frames = Frames(index, s);
    for (size_t i = 0; i < frames.size(); ++i) {
      if (frames[i].function != "work_a_hot" && frames[i].function != "work_b_hot") continue;
      hot += Count(s);
      if (i + 1 < frames.size() && frames[i + 1].function == "work" && frames[i + 1].mapping == frames[i].mapping) {
        called_by_work += Count(s);
      } else {
        other_callers[frames[i].function + " <- " + (i + 1 < frames.size() ? frames[i + 1].function : "(none)")] +=
            Count(s);
      }
      break;
    }
  }
  std::string others;
  for (const auto& [edge, n] : other_callers) others += "  " + std::to_string(n) + " " + edge + "\n";
  EXPECT_GE(called_by_work * 100, hot * 95) << called_by_work << " of " << hot
                                            << " samples in work_?_hot are called by work() in the same mapping; "
                                               "the others:\n"
                                            << others;
  ExpectEveryLocationMapped(p);
}

TEST(RecordTree, LibraryReplacedMidRun) {
  DlRecording r = RecordDlReplace("samepath");
  ASSERT_EQ(r.error, "");
  std::string lib = TempDir() + "/dl-samepath/libwork.so";
  ExpectBothLibrariesSymbolizedThroughTheirOwnFile(r, lib, lib);
}

TEST(RecordTree, LibraryUnloadedThenOtherFileLoaded) {
  DlRecording r = RecordDlReplace("otherpath");
  ASSERT_EQ(r.error, "");
  ExpectBothLibrariesSymbolizedThroughTheirOwnFile(r, Fixture("tree/libA.so"), Fixture("tree/libB.so"));
}

// ---- 3. one pid, two processes ---------------------------------------------

TEST(RecordTree, PidReuse) {
  std::string out = MakeDir("pidreuse") + "/pidreuse.pb.gz";
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r = RunCommand({kGolens, "record", "-o", out, "--", Fixture("tree/pidreuse"),
                                Fixture("tree/burn_alpha"), Fixture("tree/burn_beta"), "1"},
                               60s);
  std::printf("golens record -- pidreuse: %.1f s, exit %d; fixture said: %s", SecondsSince(t0), r.exit_code,
              r.out.c_str());
  ASSERT_NE(r.exit_code, 3) << "clone3(set_tid) is unsupported or not permitted here (needs Linux 5.5+ and "
                               "CAP_SYS_ADMIN), so pid reuse cannot be staged: "
                            << Describe(r);
  ASSERT_NE(r.exit_code, 4) << "the pid stayed taken by another process, retry: " << Describe(r);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  int pid_a = 0, pid_b = 0;
  unsigned long long start_a = 0, start_b = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "%d %d\nstarts %llu %llu", &pid_a, &pid_b, &start_a, &start_b), 4)
      << "pidreuse did not report its children: " << Describe(r);
  ASSERT_EQ(pid_a, pid_b) << "clone3(set_tid) did not reuse the pid";
  ASSERT_NE(start_a, start_b);

  pprof::Profile p = MustRead(out);
  std::map<uint64_t, std::vector<std::string>> exes_by_start;  // of pid_a
  for (const auto& pc : ProcessComments(p)) {
    if (pc.pid == pid_a) exes_by_start[pc.start].push_back(pc.exe);
  }
  ASSERT_EQ(exes_by_start.size(), 2u) << "pid " << pid_a << " was two processes (start " << start_a << " and "
                                      << start_b << ")\n"
                                      << Comments(p);
  ASSERT_TRUE(exes_by_start.count(start_a)) << "no process pid " << pid_a << " start " << start_a << "\n"
                                            << Comments(p);
  ASSERT_TRUE(exes_by_start.count(start_b)) << "no process pid " << pid_b << " start " << start_b << "\n"
                                            << Comments(p);
  auto has_exe = [](const std::vector<std::string>& exes, const std::string& suffix) {
    return std::any_of(exes.begin(), exes.end(), [&](const std::string& e) { return EndsWith(e, suffix); });
  };
  EXPECT_TRUE(has_exe(exes_by_start[start_a], "/burn_alpha")) << Comments(p);
  EXPECT_TRUE(has_exe(exes_by_start[start_b], "/burn_beta")) << Comments(p);

  int64_t alpha = Inclusive(p, "burn_alpha"), beta = Inclusive(p, "burn_beta");
  std::printf("burn_alpha %lld samples, burn_beta %lld samples\n", static_cast<long long>(alpha),
              static_cast<long long>(beta));
  ASSERT_GT(alpha + beta, 60) << "1 s + 1 s at 99 Hz is ~200 samples\n" << TopFunctions(p);
  EXPECT_GE(alpha * 10, (alpha + beta) * 3) << TopFunctions(p);
  EXPECT_GE(beta * 10, (alpha + beta) * 3) << TopFunctions(p);
  auto alpha_mappings = MappingsOf(p, [](const std::string& n) { return n == "burn_alpha"; });
  auto beta_mappings = MappingsOf(p, [](const std::string& n) { return n == "burn_beta"; });
  for (const auto& [file, id] : alpha_mappings) {
    EXPECT_TRUE(EndsWith(file, "/burn_alpha")) << "burn_alpha symbolized through " << file;
  }
  for (const auto& [file, id] : beta_mappings) {
    EXPECT_TRUE(EndsWith(file, "/burn_beta")) << "burn_beta symbolized through " << file;
  }
  ExpectEveryLocationMapped(p);
}

// ---- 4. stdout, stderr and the exit status are the command's ---------------

TEST(RecordTree, ExitStatusAndStderr) {
  std::string out = MakeDir("exit") + "/exit7.pb.gz";
  CommandResult r = RunCommand({kGolens, "record", "-o", out, "--", "/bin/sh", "-c", "echo '{\"a\":1}'; exit 7"}, 60s);
  EXPECT_EQ(r.out, "{\"a\":1}\n") << "stdout must be the command's alone: " << Describe(r);
  EXPECT_EQ(r.exit_code, 7) << "golens exits with the command's status: " << Describe(r);
  EXPECT_TRUE(std::regex_search(r.err, SummaryLine())) << "no summary line on stderr: " << Describe(r);
  EXPECT_TRUE(std::filesystem::exists(out)) << out;
}

TEST(RecordTree, ExitStatusOfACommandKilledBySignal) {
  std::string out = MakeDir("segv") + "/segv.pb.gz";
  CommandResult r = RunCommand({kGolens, "record", "-o", out, "--", "/bin/sh", "-c", "kill -SEGV $$"}, 60s);
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << "killed by SIGSEGV: 139: " << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_TRUE(std::regex_search(r.err, SummaryLine())) << "no summary line on stderr: " << Describe(r);
  EXPECT_TRUE(std::filesystem::exists(out)) << out;
}

TEST(RecordTree, DurationStillBoundsTheCommand) {
  std::string out = MakeDir("duration") + "/duration.pb.gz";
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r = RunCommand({kGolens, "record", "--duration", "2s", "-o", out, "--", "/bin/sleep", "10"}, 60s);
  double seconds = SecondsSince(t0);
  std::printf("golens record --duration 2s -- sleep 10: %.1f s, exit %d\n", seconds, r.exit_code);
  EXPECT_GE(seconds, 1.8) << Describe(r);
  EXPECT_LT(seconds, 7.0) << "--duration 2s must end the command (SIGTERM) after ~2 s: " << Describe(r);
  // sleep dies of the SIGTERM golens sends at the end of --duration.
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_TRUE(std::regex_search(r.err, SummaryLine())) << "no summary line on stderr: " << Describe(r);
}

// Last: checks the command started by Environment::SetUp (see above).
TEST(RecordTree, NoDefaultTimeLimitInLaunchMode) {
  LongRun& run = GetLongRun();
  ASSERT_TRUE(run.golens) << "the long command was not started";
  double waited = SecondsSince(run.started);
  auto code = run.golens->Wait(std::chrono::seconds(kLongSleepSeconds + 20));
  double seconds = SecondsSince(run.started);
  std::printf("golens record -- sleep %d (no --duration): %.1f s (%.1f s of it waited here), exit %s\n",
              kLongSleepSeconds, seconds, seconds - waited, code ? std::to_string(*code).c_str() : "none");
  ASSERT_TRUE(code.has_value()) << "golens did not end after the command's " << kLongSleepSeconds << " s\n"
                                << run.golens->err();
  EXPECT_GE(seconds, kLongSleepSeconds - 0.5) << "the command was stopped early (the old 30 s default?): exit "
                                               << *code << "\n--- stdout:\n"
                                               << run.golens->out() << "\n--- stderr:\n"
                                               << run.golens->err();
  EXPECT_EQ(*code, 0) << "sleep exits 0 when nobody stops it\n" << run.golens->err();
  pid_t child = LongRunChild();
  EXPECT_GT(child, 0) << "stdout: " << run.golens->out();
  EXPECT_EQ(run.golens->out(), "started " + std::to_string(child) + "\n");
  EXPECT_TRUE(std::regex_search(run.golens->err(), SummaryLine())) << run.golens->err();
}

}  // namespace
}  // namespace golens
