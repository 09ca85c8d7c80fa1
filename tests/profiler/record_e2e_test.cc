// End-to-end tests of `golens record` with real BPF on real Go programs
// built by this build. Needs root (CAP_BPF + CAP_PERFMON): without it every
// test fails with golens' own error message, never skips.
//
// Recordings are expensive (seconds each), so each one is made once and
// shared by the tests that assert on it:
//   A: cpu31 (3:1 work ratio) for 10 s at 99 Hz, with runtime/pprof running
//      inside the same process at the same time;
//   B: five targets at once for 5 s with --per-goroutine: the syscall-heavy
//      fixture, the goroutine fixture built with three Go releases, and a
//      300-frame-deep recursion.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
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

std::string Fixture(const std::string& name) { return kFixtures + "/" + name; }

std::string TempDir() { return testing::ScratchDir(); }


// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  // after "pid (comm)": state is field 3, utime 14, stime 15 -> indexes 11, 12
  if (v.size() < 13) return -1;
  return (std::stod(v[11]) + std::stod(v[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ---- profile helpers -------------------------------------------------------

struct Frame {
  std::string function;
  std::string mapping;  // filename of the location's mapping ("" if none)
};

// Frames of a sample, leaf first, inline chains expanded innermost first.
std::vector<Frame> Frames(const pprof::Profile& p, const pprof::ProfileIndex& index,
                          const pprof::Sample& s) {
  std::vector<Frame> frames;
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    const pprof::Mapping* m = index.mapping(loc->mapping_id);
    std::string mapping = m ? m->filename : "";
    if (loc->lines.empty()) frames.push_back({"?", mapping});
    for (const pprof::Line& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      frames.push_back({fn ? fn->name : "?", mapping});
    }
  }
  (void)p;
  return frames;
}

int64_t Count(const pprof::Sample& s) { return s.values.empty() ? 0 : s.values[0]; }

// Flat value per function (the innermost frame of each sample).
std::map<std::string, int64_t> Flat(const pprof::Profile& p, int value_index) {
  pprof::ProfileIndex index(p);
  std::map<std::string, int64_t> flat;
  for (const auto& s : p.samples) {
    auto frames = Frames(p, index, s);
    if (!frames.empty()) flat[frames[0].function] += s.values.at(static_cast<size_t>(value_index));
  }
  return flat;
}

std::vector<std::pair<std::string, int64_t>> TopFlat(const pprof::Profile& p, int value_index, size_t n) {
  auto flat = Flat(p, value_index);
  std::vector<std::pair<std::string, int64_t>> v(flat.begin(), flat.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  if (v.size() > n) v.resize(n);
  return v;
}

int64_t LabelNum(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels) {
    if (l.key == key && l.str.empty()) return l.num;
  }
  return -1;
}

pprof::Profile MustRead(const std::string& path) {
  auto p = pprof::ReadProfileFile(path);
  EXPECT_TRUE(p.ok()) << path << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() ? std::move(p).value() : pprof::Profile{};
}

// `go tool pprof <mode>` must read the file without a single warning.
void ExpectPprofToolClean(const std::string& path) {
  for (const char* mode : {"-top", "-traces", "-raw"}) {
    CommandResult r = RunCommand({GO_EXECUTABLE, "tool", "pprof", mode, path}, 120s);
    EXPECT_EQ(r.exit_code, 0) << mode << " " << path << ": " << r.err;
    EXPECT_EQ(r.err, "") << "go tool pprof " << mode << " " << path << " wrote to stderr";
    EXPECT_NE(r.out.find("Duration"), std::string::npos) << mode;
  }
}

// ---- recording A: cpu31 for 10 s, beside runtime/pprof ----------------------

struct RecordingA {
  std::string error;  // why the recording failed ("" = ok)
  std::string pprof_path, svg_path, go_pprof_path;
  std::string golens_out, golens_err;
  double cpu_seconds = 0;
  pprof::Profile profile, go_profile;
};

const RecordingA& GetRecordingA() {
  static RecordingA* a = [] {
    auto* r = new RecordingA;
    r->pprof_path = TempDir() + "/a.pb.gz";
    r->svg_path = TempDir() + "/a.svg";
    r->go_pprof_path = TempDir() + "/a-go.pb.gz";
    Subprocess fixture({Fixture("cpu31"), "-cpuprofile", r->go_pprof_path, "-seconds", "11"});
    if (!fixture.WaitForOutput("ready", 10s)) {
      r->error = "cpu31 did not start: " + fixture.err();
      return r;
    }
    Subprocess golens({kGolens, "record", "--pid", std::to_string(fixture.pid()), "--duration", "10s",
                       "--hz", "99", "-o", r->pprof_path, "--svg", r->svg_path});
    bool started = golens.WaitForOutput("recording 1 process", 20s, true);
    double cpu0 = CpuSeconds(fixture.pid());
    bool stopped = started && golens.WaitForOutput("recording stopped", 30s, true);
    double cpu1 = CpuSeconds(fixture.pid());
    auto code = golens.Wait(60s);
    r->golens_out = golens.out();
    r->golens_err = golens.err();
    if (!started || !stopped || code != 0) {
      r->error = "golens record failed (exit " + std::to_string(code.value_or(-1)) +
                 "): stdout: " + r->golens_out + " stderr: " + r->golens_err;
      return r;
    }
    r->cpu_seconds = cpu1 - cpu0;
    if (!fixture.WaitForOutput("profile written", 20s)) {
      r->error = "runtime/pprof profile not written: " + fixture.err();
      return r;
    }
    r->profile = MustRead(r->pprof_path);
    r->go_profile = MustRead(r->go_pprof_path);
    return r;
  }();
  return *a;
}

#define REQUIRE_A(a)                        \
  const RecordingA& a = GetRecordingA();    \
  ASSERT_EQ(a.error, "") << "recording A failed"

TEST(RecordCpu, ProfileHeaderLikeGo) {
  REQUIRE_A(a);
  const pprof::Profile& p = a.profile;
  ASSERT_EQ(p.sample_types.size(), 2u);
  EXPECT_EQ(p.sample_types[0], (pprof::ValueType{"samples", "count"}));
  EXPECT_EQ(p.sample_types[1], (pprof::ValueType{"cpu", "nanoseconds"}));
  EXPECT_EQ(p.period_type, (pprof::ValueType{"cpu", "nanoseconds"}));
  EXPECT_EQ(p.period, 1000000000 / 99);
  EXPECT_GT(p.time_nanos, 1600000000LL * 1000000000LL);
  EXPECT_NEAR(static_cast<double>(p.duration_nanos) / 1e9, 10.0, 0.5);
  for (const auto& s : p.samples) {
    ASSERT_EQ(s.values.size(), 2u);
    EXPECT_EQ(s.values[1], s.values[0] * p.period);
    EXPECT_TRUE(s.labels.empty()) << "no per-goroutine labels without --per-goroutine";
  }
  ASSERT_FALSE(p.mappings.empty());
  EXPECT_EQ(p.mappings[0].filename, Fixture("cpu31"));
  EXPECT_FALSE(p.mappings[0].build_id.empty());
  EXPECT_TRUE(p.mappings[0].has_functions);
  EXPECT_TRUE(p.mappings[0].has_line_numbers);
  EXPECT_LT(p.mappings[0].memory_start, p.mappings[0].memory_limit);
  // Summary line: samples, lost, processes, duration, outputs.
  EXPECT_NE(a.golens_err.find(" samples, 0 lost, 1 process, "), std::string::npos) << a.golens_err;
  EXPECT_NE(a.golens_err.find(a.pprof_path + ", " + a.svg_path), std::string::npos) << a.golens_err;
  EXPECT_EQ(a.golens_out, "") << "golens writes its messages to stderr only";
}

TEST(RecordCpu, BothFunctionsOnTopAtThreeToOne) {
  REQUIRE_A(a);
  auto top = TopFlat(a.profile, 0, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].first, "main.heavy");
  EXPECT_EQ(top[1].first, "main.light");
  double ratio = static_cast<double>(top[0].second) / static_cast<double>(std::max<int64_t>(1, top[1].second));
  std::printf("golens: main.heavy %lld, main.light %lld samples: ratio %.2f\n",
              static_cast<long long>(top[0].second), static_cast<long long>(top[1].second), ratio);
  EXPECT_GE(ratio, 2.6) << top[0].second << " vs " << top[1].second;
  EXPECT_LE(ratio, 3.4) << top[0].second << " vs " << top[1].second;
}

TEST(RecordCpu, SampleCountMatchesCpuTime) {
  REQUIRE_A(a);
  double expected = 99.0 * a.cpu_seconds;
  double got = static_cast<double>(testing::SampleTotal(a.profile, 0));
  std::printf("golens: %.0f samples for %.2f CPU seconds (expected %.0f at 99 Hz)\n", got, a.cpu_seconds,
              expected);
  ASSERT_GT(a.cpu_seconds, 1.0);
  EXPECT_NEAR(got, expected, 0.10 * expected) << "cpu seconds " << a.cpu_seconds;
}

// Self time by Go function, for comparing with runtime/pprof: kernel frames
// (runtime/pprof has none) and runtime.asyncPreempt count for the Go code
// they interrupted. asyncPreempt is a call the runtime injects with a signal
// (SIGURG); on a loaded machine SIGPROF is delivered together with it, so
// runtime/pprof charges up to ~10% of samples to it.
std::map<std::string, int64_t> GoSelf(const pprof::Profile& p, int value_index) {
  pprof::ProfileIndex index(p);
  std::map<std::string, int64_t> self;
  for (const auto& s : p.samples) {
    for (const Frame& f : Frames(p, index, s)) {
      if (f.mapping == "[kernel]" || f.function == "runtime.asyncPreempt") continue;
      self[f.function] += s.values.at(static_cast<size_t>(value_index));
      break;
    }
  }
  return self;
}

std::vector<std::pair<std::string, int64_t>> Top(const std::map<std::string, int64_t>& m, size_t n) {
  std::vector<std::pair<std::string, int64_t>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  if (v.size() > n) v.resize(n);
  return v;
}

TEST(RecordCpu, AgreesWithRuntimePprof) {
  REQUIRE_A(a);
  int go_cpu = pprof::SampleTypeIndex(a.go_profile, "cpu");
  ASSERT_GE(go_cpu, 0);
  auto our_self = GoSelf(a.profile, 0);
  auto go_self = GoSelf(a.go_profile, go_cpu);
  auto ours = Top(our_self, 2);
  auto theirs = Top(go_self, 2);
  ASSERT_EQ(ours.size(), 2u);
  ASSERT_EQ(theirs.size(), 2u);
  EXPECT_EQ(ours[0].first, theirs[0].first);
  EXPECT_EQ(ours[1].first, theirs[1].first);
  double our_total = static_cast<double>(testing::SampleTotal(a.profile, 0));
  double go_total = static_cast<double>(testing::SampleTotal(a.go_profile, go_cpu));
  ASSERT_GT(go_total, 0);
  for (const char* fn : {"main.heavy", "main.light"}) {
    double ours_pct = 100.0 * static_cast<double>(our_self[fn]) / our_total;
    double go_pct = 100.0 * static_cast<double>(go_self[fn]) / go_total;
    std::printf("%s flat: golens %.1f%%, runtime/pprof %.1f%%\n", fn, ours_pct, go_pct);
    EXPECT_NEAR(ours_pct, go_pct, 5.0) << fn;
  }
}

TEST(RecordCpu, StacksReachMainAndKeepLines) {
  REQUIRE_A(a);
  pprof::ProfileIndex index(a.profile);
  int64_t with_main = 0, total = 0;
  for (const auto& s : a.profile.samples) {
    auto frames = Frames(a.profile, index, s);
    total += Count(s);
    bool heavy_or_light = !frames.empty() && (frames[0].function == "main.heavy" || frames[0].function == "main.light");
    // Called from main.main, or from the worker goroutines' main.main.func1.
    if (heavy_or_light && frames.size() >= 2 && frames[1].function.starts_with("main.main")) {
      with_main += Count(s);
    }
  }
  // Nearly every sample is heavy/light called from main (a few are runtime/SIGPROF).
  EXPECT_GT(with_main, total * 8 / 10);
  bool has_line = false;
  for (const auto& loc : a.profile.locations) {
    for (const auto& line : loc.lines) has_line |= line.line > 0;
  }
  EXPECT_TRUE(has_line);
}

TEST(RecordCpu, GoToolPprofReadsItCleanly) {
  REQUIRE_A(a);
  ExpectPprofToolClean(a.pprof_path);
}

TEST(RecordCpu, GoToolPprofHttpServesIt) {
  REQUIRE_A(a);
  // The pprof tool itself (`go tool -n pprof`), so that stopping it does not
  // make the go command print "signal: terminated".
  CommandResult tool = RunCommand({GO_EXECUTABLE, "tool", "-n", "pprof"}, 60s);
  ASSERT_EQ(tool.exit_code, 0) << tool.err;
  std::string pprof_binary = tool.out.substr(0, tool.out.find('\n'));
  int port = testing::FreeLoopbackPort();
  ASSERT_GT(port, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  Subprocess ui({pprof_binary, "-http=127.0.0.1:" + std::to_string(port), "-no_browser", a.pprof_path});
  ASSERT_TRUE(ui.WaitForOutput("Serving web UI on ", 60s, true)) << ui.err();
  // (The graph page "/ui/" needs graphviz, which is not a golens dependency.)
  for (const char* page : {"/ui/top", "/ui/flamegraph", "/ui/peek?f=main.heavy", "/ui/source?f=main.heavy"}) {
    CommandResult r = RunCommand({"/usr/bin/curl", "-sf", "--retry", "5", "--retry-connrefused",
                                  "--retry-delay", "1", url + page}, 60s);
    EXPECT_EQ(r.exit_code, 0) << url << page << ": " << r.err;
    EXPECT_NE(r.out.find("main.heavy"), std::string::npos) << page;
  }
  ui.Kill(SIGTERM);
  ui.Wait(10s);
  // Nothing but the banner on stderr: no symbolization or format warnings.
  std::string rest = ui.err();
  size_t banner = rest.find("Serving web UI on ");
  if (banner != std::string::npos) rest.erase(banner, rest.find('\n', banner) + 1 - banner);
  EXPECT_EQ(rest, "") << "pprof -http wrote: " << ui.err();
}

TEST(RecordCpu, WritesFlameGraph) {
  REQUIRE_A(a);
  std::ifstream in(a.svg_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string svg = ss.str();
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("main.heavy"), std::string::npos);
}

// ---- recording B: four targets, per goroutine, kernel stacks ----------------

struct Target {
  std::string binary;
  std::unique_ptr<Subprocess> process;
  std::map<std::string, int64_t> goids;  // "spinA" -> goroutine id
};

struct RecordingB {
  std::string error;
  std::string path;
  std::vector<Target> targets;  // [0] syscalls, then goroutines per Go release, then deep
  pprof::Profile profile;
};

const std::vector<std::string> kGoReleases = {"local", "1.21.13", "1.23.12"};

const RecordingB& GetRecordingB() {
  static RecordingB* b = [] {
    auto* r = new RecordingB;
    r->path = TempDir() + "/b.pb.gz";
    std::vector<std::string> binaries = {Fixture("syscalls")};
    for (const auto& v : kGoReleases) binaries.push_back(Fixture("goroutines-" + v));
    binaries.push_back(Fixture("deep"));
    std::vector<std::string> args = {kGolens, "record", "--duration", "5s", "--per-goroutine", "-o", r->path};
    for (const auto& bin : binaries) {
      Target t;
      t.binary = bin;
      t.process = std::make_unique<Subprocess>(std::vector<std::string>{bin});
      bool ready = bin.find("goroutines") == std::string::npos ? t.process->WaitForOutput("ready", 10s)
                                             : t.process->WaitForOutput("goid spinB", 10s) &&
                                                   t.process->WaitForOutput("goid spinA", 10s);
      if (!ready) {
        r->error = bin + " did not start: " + t.process->err();
        return r;
      }
      std::istringstream lines(t.process->out());
      std::string word, name;
      int64_t id;
      while (lines >> word >> name >> id) t.goids[name] = id;
      args.push_back("--pid");
      args.push_back(std::to_string(t.process->pid()));
      r->targets.push_back(std::move(t));
    }
    CommandResult result = RunCommand(args, 60s);
    if (result.exit_code != 0) {
      r->error = "golens record failed: " + result.out + result.err;
      return r;
    }
    for (auto& t : r->targets) t.process->Kill();
    r->profile = MustRead(r->path);
    return r;
  }();
  return *b;
}

#define REQUIRE_B(b)                     \
  const RecordingB& b = GetRecordingB(); \
  ASSERT_EQ(b.error, "") << "recording B failed"

bool IsKernel(const Frame& f) { return f.mapping == "[kernel]"; }

TEST(RecordMulti, EachTargetInItsOwnMappingSetNothingMixed) {
  REQUIRE_B(b);
  pprof::ProfileIndex index(b.profile);
  std::map<std::string, int64_t> samples_per_binary;
  for (const auto& s : b.profile.samples) {
    std::set<std::string> binaries;
    for (const Frame& f : Frames(b.profile, index, s)) {
      if (!f.mapping.empty() && f.mapping[0] == '/' && f.mapping.find("/fixtures/") != std::string::npos) {
        binaries.insert(f.mapping);
      }
    }
    ASSERT_LE(binaries.size(), 1u) << "a sample mixes " << *binaries.begin() << " and " << *binaries.rbegin();
    if (!binaries.empty()) samples_per_binary[*binaries.begin()] += Count(s);
  }
  for (const auto& t : b.targets) {
    EXPECT_GT(samples_per_binary[t.binary], 20) << t.binary;
  }
  // Every fixture binary appears as a mapping of its own.
  std::set<std::string> mapped;
  for (const auto& m : b.profile.mappings) mapped.insert(m.filename);
  for (const auto& t : b.targets) EXPECT_TRUE(mapped.count(t.binary)) << t.binary;
  EXPECT_TRUE(b.profile.mappings[0].filename == b.targets[0].binary);
}

TEST(RecordMulti, GoroutineIdsMatchTheRuntimeForEachGoRelease) {
  REQUIRE_B(b);
  pprof::ProfileIndex index(b.profile);
  for (size_t i = 1; i <= kGoReleases.size(); ++i) {
    const Target& t = b.targets[i];
    for (const char* fn : {"spinA", "spinB"}) {
      ASSERT_TRUE(t.goids.count(fn)) << t.binary << " did not print its goroutine ids: " << t.process->out();
      int64_t want = t.goids.at(fn);
      int64_t match = 0, total = 0;
      for (const auto& s : b.profile.samples) {
        auto frames = Frames(b.profile, index, s);
        bool in_fn = false, in_binary = false;
        for (const Frame& f : frames) {
          in_fn |= f.function == std::string("main.") + fn;
          in_binary |= f.mapping == t.binary;
        }
        if (!in_fn || !in_binary) continue;
        total += Count(s);
        if (LabelNum(s, "goroutine") == want) match += Count(s);
      }
      std::printf("%s %s: goroutine %lld on %lld of %lld samples\n", t.binary.c_str(), fn,
                  static_cast<long long>(want), static_cast<long long>(match), static_cast<long long>(total));
      EXPECT_GE(total, 10) << t.binary << " " << fn;
      EXPECT_GE(match, total * 95 / 100) << t.binary << " " << fn << ": goroutine " << want << ", "
                                         << match << " of " << total << " samples carry it";
    }
  }
}

TEST(RecordMulti, KernelFramesUnderTheGoFramesThatCalledThem) {
  REQUIRE_B(b);
  pprof::ProfileIndex index(b.profile);
  int64_t syscall_samples = 0, with_kernel = 0;
  std::set<std::string> kernel_functions;
  for (const auto& s : b.profile.samples) {
    auto frames = Frames(b.profile, index, s);
    bool in_syscalls = false;
    for (const Frame& f : frames) in_syscalls |= f.mapping == b.targets[0].binary;
    if (!in_syscalls) continue;
    syscall_samples += Count(s);
    // leaf-first: kernel frames, then user frames; the Go caller must be
    // one of main.readZero / main.writeNull.
    size_t k = 0;
    while (k < frames.size() && IsKernel(frames[k])) kernel_functions.insert(frames[k++].function);
    if (k == 0) continue;
    bool go_caller = false;
    for (size_t j = k; j < frames.size(); ++j) {
      EXPECT_FALSE(IsKernel(frames[j])) << "kernel frame above user frames";
      go_caller |= frames[j].function == "main.readZero" || frames[j].function == "main.writeNull";
    }
    if (go_caller) with_kernel += Count(s);
  }
  ASSERT_GT(syscall_samples, 20);
  EXPECT_GT(with_kernel, syscall_samples / 3) << with_kernel << " of " << syscall_samples;
  // Symbolized from kallsyms: the read path of /dev/zero is in there.
  bool has_read = false;
  for (const auto& fn : kernel_functions) has_read |= fn.find("read") != std::string::npos;
  EXPECT_TRUE(has_read);
}

TEST(RecordMulti, StacksDeeperThanTheLimitEndInTruncated) {
  REQUIRE_B(b);
  const std::string deep = b.targets.back().binary;
  pprof::ProfileIndex index(b.profile);
  int64_t deep_samples = 0, truncated = 0, truncated_elsewhere = 0;
  for (const auto& s : b.profile.samples) {
    auto frames = Frames(b.profile, index, s);
    bool in_deep = false;
    for (const Frame& f : frames) in_deep |= f.mapping == deep;
    bool cut = !frames.empty() && frames.back().function == "[truncated]";
    if (!in_deep) {
      if (cut) truncated_elsewhere += Count(s);
      continue;
    }
    deep_samples += Count(s);
    if (cut) {
      truncated += Count(s);
      // The cut stack still holds the full 127 frames of main.deep.
      EXPECT_GE(frames.size(), 120u);
    }
  }
  ASSERT_GT(deep_samples, 20);
  EXPECT_GE(truncated, deep_samples * 9 / 10) << truncated << " of " << deep_samples;
  EXPECT_EQ(truncated_elsewhere, 0) << "shallow stacks must not be marked truncated";
}

TEST(RecordMulti, GoToolPprofReadsItCleanly) {
  REQUIRE_B(b);
  ExpectPprofToolClean(b.path);
}

// ---- -- CMD, non-Go targets, errors ------------------------------------------

TEST(RecordCommand, CatchesAProgramThatRunsOnly300ms) {
  std::string out = TempDir() + "/short.pb.gz";
  CommandResult r = RunCommand(
      {kGolens, "record", "--duration", "20s", "--no-kernel", "-o", out, "--", Fixture("short")}, 60s);
  // golens exits with the command's status, and says so on stderr.
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("command exited with code 3"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "golens writes nothing to the command's stdout";
  pprof::Profile p = MustRead(out);
  auto flat = Flat(p, 0);
  // ~300 ms at 99 Hz is ~30 samples; the program is caught from its start.
  EXPECT_GE(flat["main.shortBurn"], 15) << r.out << r.err;
  EXPECT_LT(static_cast<double>(p.duration_nanos) / 1e9, 5.0) << "ends when the command exits";
  ASSERT_FALSE(p.mappings.empty());
  EXPECT_EQ(p.mappings[0].filename, Fixture("short"));
  for (const auto& m : p.mappings) EXPECT_NE(m.filename, "[kernel]") << "--no-kernel";
}

TEST(RecordCommand, NonGoTargetStillProfiledWithNativeSymbols) {
  std::string out = TempDir() + "/native.pb.gz";
  CommandResult r =
      RunCommand({kGolens, "record", "--duration", "10s", "-o", out, "--", Fixture("native"), "1.0"}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("Go features are off"), std::string::npos) << r.err;
  pprof::Profile p = MustRead(out);
  auto flat = Flat(p, 0);
  EXPECT_GE(flat["burn_native"], 40) << r.err;
  ExpectPprofToolClean(out);
}

TEST(RecordCommand, DurationEndTerminatesTheCommand) {
  std::string out = TempDir() + "/term.pb.gz";
  CommandResult r = RunCommand(
      {kGolens, "record", "--duration", "1s", "-o", out, "--", Fixture("cpu31"), "-exit-after", "60"}, 60s);
  // The command got SIGTERM when --duration ended; golens exits with its
  // status (a Go program dies of the signal: 128 + 15).
  EXPECT_EQ(r.exit_code, 143) << r.out << r.err;
  EXPECT_NE(r.err.find("command killed by signal 15"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("still running"), std::string::npos) << r.err;
  EXPECT_GT(testing::SampleTotal(MustRead(out), 0), 50);
}

TEST(RecordErrors, WithoutCapabilitiesNamesThemAndExits2) {
  std::string out = "/tmp/golens-nocaps-" + std::to_string(getpid()) + ".pb.gz";
  CommandResult r = RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "--inh-caps=-all", kGolens, "record", "--pid", "1", "--duration", "1s", "-o", out},
                               30s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("missing capability CAP_BPF and CAP_PERFMON"), std::string::npos) << r.err;
  unlink(out.c_str());
}

TEST(RecordErrors, MissingOnlyCapBpfNamesIt) {
  // Root without CAP_SYS_ADMIN and CAP_BPF, still with CAP_PERFMON.
  std::string out = TempDir() + "/nobpf.pb.gz";
  CommandResult r = RunCommand({"/usr/bin/setpriv", "--inh-caps=-sys_admin,-cap_39", "--bounding-set=-sys_admin,-cap_39",
                                kGolens, "record", "--pid", "1", "--duration", "1s", "-o", out},
                               30s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("missing capability CAP_BPF:"), std::string::npos) << r.err;
}

TEST(RecordErrors, UnknownPid) {
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);  // a pid that just stopped existing
  CommandResult r = RunCommand({kGolens, "record", "--pid", std::to_string(gone), "--duration", "1s", "-o",
                                TempDir() + "/none.pb.gz"},
                               30s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no such process"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(gone)), std::string::npos) << r.err;
}

TEST(RecordErrors, UnwritableOutputFailsBeforeSampling) {
  Subprocess target({Fixture("cpu31")});
  ASSERT_TRUE(target.WaitForOutput("ready", 10s));
  for (const std::string out : {"/nonexistent-dir/x.pb.gz", "/proc/version"}) {
    CommandResult r = RunCommand(
        {kGolens, "record", "--pid", std::to_string(target.pid()), "--duration", "10s", "-o", out}, 30s);
    EXPECT_NE(r.exit_code, 0) << out;
    EXPECT_NE(r.err.find(out), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("recording"), std::string::npos) << "sampling must not start: " << r.err;
  }
  CommandResult r = RunCommand({kGolens, "record", "--pid", std::to_string(target.pid()), "--duration", "10s",
                                "-o", TempDir() + "/ok.pb.gz", "--svg", "/nonexistent-dir/f.svg"},
                               30s);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent-dir/f.svg"), std::string::npos) << r.err;
}

TEST(RecordErrors, UsageErrors) {
  CommandResult both = RunCommand({kGolens, "record", "--pid", "1", "--", "/bin/true"}, 30s);
  EXPECT_EQ(both.exit_code, 2) << both.err;
  CommandResult none = RunCommand({kGolens, "record"}, 30s);
  EXPECT_EQ(none.exit_code, 2) << none.err;
  CommandResult hz = RunCommand({kGolens, "record", "--hz", "0", "--", "/bin/true"}, 30s);
  EXPECT_EQ(hz.exit_code, 2) << hz.err;
  CommandResult dur = RunCommand({kGolens, "record", "--duration", "soon", "--", "/bin/true"}, 30s);
  EXPECT_EQ(dur.exit_code, 2) << dur.err;
  CommandResult missing = RunCommand({kGolens, "record", "--", "/nonexistent/cmd"}, 30s);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/cmd"), std::string::npos) << missing.err;
}

TEST(RecordLoss, DroppedSamplesAreCountedAndReported) {
  // A one-page ring buffer, and golens stopped (SIGSTOP) for a second while
  // BPF keeps sampling in the kernel: the buffer fills, later samples are
  // lost, and the summary must say how many. (Without the stop a reader with
  // a CPU to itself kept up even at 5000 Hz.)
  Subprocess target({Fixture("cpu31")});
  ASSERT_TRUE(target.WaitForOutput("ready", 10s));
  std::string out = TempDir() + "/loss.pb.gz";
  Subprocess golens({"/usr/bin/env", "GOLENS_RINGBUF_BYTES=4096", kGolens, "record", "--pid",
                     std::to_string(target.pid()), "--hz", "999", "--duration", "4s", "-o", out});
  ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 30s, /*on_stderr=*/true)) << golens.err();
  golens.Kill(SIGSTOP);
  std::this_thread::sleep_for(1s);
  golens.Kill(SIGCONT);
  auto code = golens.Wait(60s);
  ASSERT_TRUE(code.has_value());
  CommandResult r{*code, golens.out(), golens.err()};
  ASSERT_EQ(r.exit_code, 0) << r.err;
  unsigned long long samples = 0, lost = 0;
  size_t summary = r.err.find("golens: ", r.err.find(" lost, ") == std::string::npos ? 0 : r.err.rfind("\ngolens: ", r.err.find(" lost, ")) + 1);
  ASSERT_NE(r.err.find(" lost, "), std::string::npos) << "no summary line on stderr: " << r.err;
  ASSERT_EQ(std::sscanf(r.err.c_str() + summary, "golens: %llu samples, %llu lost", &samples, &lost), 2) << r.err;
  EXPECT_GT(lost, 0u) << r.err;
  EXPECT_GT(samples, 0u) << r.err;
  EXPECT_EQ(testing::SampleTotal(MustRead(out), 0), static_cast<int64_t>(samples));
}

TEST(RecordSignals, SigintEndsEarlyAndStillWrites) {
  Subprocess target({Fixture("cpu31")});
  ASSERT_TRUE(target.WaitForOutput("ready", 10s));
  std::string out = TempDir() + "/sigint.pb.gz";
  Subprocess golens({kGolens, "record", "--pid", std::to_string(target.pid()), "--duration", "60s", "-o", out});
  ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 20s, true)) << golens.err();
  std::this_thread::sleep_for(1500ms);
  golens.Kill(SIGINT);
  auto code = golens.Wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << golens.err();
  EXPECT_NE(golens.err().find("interrupted"), std::string::npos) << golens.err();
  pprof::Profile p = MustRead(out);
  EXPECT_GT(testing::SampleTotal(p, 0), 50);
  EXPECT_LT(static_cast<double>(p.duration_nanos) / 1e9, 10.0);
}

TEST(RecordSignals, TargetExitingMidwayEndsItsPartCleanly) {
  // Long enough for golens to attach on a loaded machine (it failed at 1.5 s
  // with load 9: the target was a zombie before golens looked at it).
  Subprocess target({Fixture("cpu31"), "-exit-after", "4"});
  ASSERT_TRUE(target.WaitForOutput("ready", 10s));
  std::string out = TempDir() + "/exit.pb.gz";
  CommandResult r = RunCommand(
      {kGolens, "record", "--pid", std::to_string(target.pid()), "--duration", "20s", "-o", out}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("exited"), std::string::npos) << r.err;
  pprof::Profile p = MustRead(out);
  EXPECT_GT(Flat(p, 0)["main.heavy"], 30);
  EXPECT_LT(static_cast<double>(p.duration_nanos) / 1e9, 10.0);
}

}  // namespace
}  // namespace golens
