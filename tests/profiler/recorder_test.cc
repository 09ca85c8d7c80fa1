// The recording core without BPF or root: synthetic ring buffer records
// (samples and process events, encoded exactly as BPF writes them) go
// through the Recorder (per-process state, normalization, leaf fix-up,
// attributes, aggregation) and BuildCpuProfile (symbolization, pprof). The
// processes are described by a fake /proc whose mappings point at real Go
// binaries built by this build: cpu31 and goroutines-local both map their
// text at 0x400000, which makes "another program at the same address" (a
// replaced library, a reused pid) easy to stage.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pprof/profile.h"
#include "profiler/cpu_profile.h"
#include "profiler/recorder.h"
#include "profiler/sample_record.h"
#include "profiler/spans.h"

namespace golens::profiler {
namespace {

const std::string kFixtures = GOLENS_FIXTURES;
const std::string kProgramA = kFixtures + "/cpu31";             // main.heavy, main.light, main.main
const std::string kProgramB = kFixtures + "/goroutines-local";  // main.spinA, main.spinB, main.main

class FakeProc : public ProcessSource {
 public:
  struct Proc {
    std::string exe;
    uint64_t start_ticks = 0;
    std::vector<symbolizer::Mapping> maps;
  };
  std::map<pid_t, Proc> procs;
  int maps_reads = 0;

  void Run(pid_t pid, uint64_t start, const std::string& exe) {
    symbolizer::Mapping text;
    text.start = 0x400000;
    text.end = 0x4d0000;  // covers both programs' text
    text.file_offset = 0;
    text.perms = "r-xp";
    text.inode = std::hash<std::string>{}(exe);
    text.dev = "00:01";
    text.path = exe;
    procs[pid] = Proc{exe, start, {text}};
  }

  Result<std::string> ExePath(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.exe;
  }
  Result<uint64_t> StartTicks(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.start_ticks;
  }
  Result<std::vector<symbolizer::Mapping>> Mappings(pid_t pid) override {
    ++maps_reads;
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.maps;
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenBinary(pid_t, const symbolizer::Mapping& m) override {
    return symbolizer::Binary::Open(m.path);
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenPath(const std::string& path) override {
    return symbolizer::Binary::Open(path);
  }
  bool Alive(pid_t pid, uint64_t start_ticks) override {
    auto it = procs.find(pid);
    return it != procs.end() && it->second.start_ticks == start_ticks;
  }
};

uint64_t TicksToNanos(uint64_t ticks) { return ticks * (1000000000ull / ClockTicksPerSecond()); }

uint64_t Symbol(const std::string& binary, const std::string& name) {
  auto b = symbolizer::Binary::Open(binary);
  if (!b.ok()) return 0;
  auto sym = (*b)->FindSymbol(name);
  return sym ? sym->vaddr : 0;
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heavy_ = Symbol(kProgramA, "main.heavy");
    light_ = Symbol(kProgramA, "main.light");
    main_a_ = Symbol(kProgramA, "main.main");
    spin_a_ = Symbol(kProgramB, "main.spinA");
    main_b_ = Symbol(kProgramB, "main.main");
    ASSERT_TRUE(heavy_ && light_ && main_a_ && spin_a_ && main_b_) << "fixture binaries missing: " << kFixtures;
  }

  // A sample of (pid, start) with a user stack (leaf first).
  void Sample(Recorder& r, pid_t pid, uint64_t start_ticks, std::vector<uint64_t> user, uint64_t goid = 0,
              std::vector<uint64_t> kernel = {}) {
    SampleRecordBuilder b;
    b.head().tgid = static_cast<uint32_t>(pid);
    b.head().tid = static_cast<uint32_t>(pid);
    b.head().start_ns = TicksToNanos(start_ticks) + 12345;  // sub-tick part is ignored, as in /proc
    if (goid) {
      b.head().goid = goid;
      b.head().flags |= GOLENS_SAMPLE_GOID_VALID;
    }
    if (!kernel.empty()) b.head().flags |= GOLENS_SAMPLE_KERNEL_MODE;
    b.User(std::move(user)).Kernel(std::move(kernel));
    r.OnRecord(b.bytes());
  }

  void Event(Recorder& r, uint32_t kind, pid_t pid, uint64_t start_ticks, pid_t parent = 0,
             uint64_t parent_start = 0, uint64_t addr = 0, uint64_t len = 0) {
    golens_proc_event e = MakeProcEvent(kind, static_cast<uint32_t>(pid), TicksToNanos(start_ticks));
    e.parent_tgid = static_cast<uint32_t>(parent);
    e.parent_start_ns = TicksToNanos(parent_start);
    e.addr = addr;
    e.len = len;
    r.OnRecord({reinterpret_cast<const uint8_t*>(&e), sizeof(e)});
  }

  // Flat samples per leaf function name.
  static std::map<std::string, int64_t> Flat(const pprof::Profile& p) {
    pprof::ProfileIndex index(p);
    std::map<std::string, int64_t> flat;
    for (const auto& s : p.samples) {
      const pprof::Location* loc = index.location(s.location_ids.at(0));
      std::string name = "?";
      if (loc && !loc->lines.empty()) name = index.function(loc->lines.front().function_id)->name;
      flat[name] += s.values[0];
    }
    return flat;
  }

  // Function names of one sample's stack, leaf first.
  static std::vector<std::string> Stack(const pprof::Profile& p, const pprof::Sample& s) {
    pprof::ProfileIndex index(p);
    std::vector<std::string> names;
    for (uint64_t id : s.location_ids) {
      const pprof::Location* loc = index.location(id);
      for (const auto& line : loc->lines) names.push_back(index.function(line.function_id)->name);
      if (loc->lines.empty()) names.push_back("?");
    }
    return names;
  }

  FakeProc proc_;
  BinaryRegistry binaries_;
  uint64_t heavy_ = 0, light_ = 0, main_a_ = 0, spin_a_ = 0, main_b_ = 0;
};

TEST_F(RecorderTest, AggregatesAndSymbolizesPerInterval) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  for (int i = 0; i < 30; ++i) Sample(r, 100, 5000, {heavy_ + 4, main_a_ + 0x40});
  for (int i = 0; i < 10; ++i) Sample(r, 100, 5000, {light_ + 4, main_a_ + 0x40});
  auto interval = r.TakeInterval(WallClockNanos());
  EXPECT_EQ(interval->total(), 40u);
  EXPECT_EQ(interval->stacks().size(), 2u);  // equal stacks add up
  pprof::Profile p = BuildCpuProfile(*interval, {});
  auto flat = Flat(p);
  EXPECT_EQ(flat["main.heavy"], 30);
  EXPECT_EQ(flat["main.light"], 10);
  ASSERT_FALSE(p.mappings.empty());
  EXPECT_EQ(p.mappings[0].filename, kProgramA);  // mapping[0] = the executable
  ASSERT_EQ(p.comments.size(), 1u);
  EXPECT_EQ(p.comments[0], "golens record: pid 100 start 5000 exe " + kProgramA + " go " +
                               (*symbolizer::Binary::Open(kProgramA))->go_version() + " samples 40");
  for (const auto& s : p.samples) EXPECT_TRUE(s.labels.empty());  // no attributes asked for

  // The next interval starts empty.
  Sample(r, 100, 5000, {heavy_ + 4});
  EXPECT_EQ(r.TakeInterval(WallClockNanos())->total(), 1u);
}

TEST_F(RecorderTest, GoroutineAttributeIsPartOfTheKeyAndBecomesALabel) {
  proc_.Run(100, 5000, kProgramA);
  RecorderOptions options;
  options.attributes.goroutine = true;
  Recorder r(options, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  for (int i = 0; i < 3; ++i) Sample(r, 100, 5000, {heavy_ + 4}, /*goid=*/7);
  for (int i = 0; i < 2; ++i) Sample(r, 100, 5000, {heavy_ + 4}, /*goid=*/9);
  auto interval = r.TakeInterval(WallClockNanos());
  EXPECT_EQ(interval->stacks().size(), 2u);  // same stack, two attribute sets
  pprof::Profile p = BuildCpuProfile(*interval, {});
  std::map<int64_t, int64_t> by_goroutine;
  for (const auto& s : p.samples) {
    ASSERT_EQ(s.labels.size(), 1u);
    EXPECT_EQ(s.labels[0].key, "goroutine");
    by_goroutine[s.labels[0].num] += s.values[0];
  }
  EXPECT_EQ(by_goroutine, (std::map<int64_t, int64_t>{{7, 3}, {9, 2}}));
}

TEST_F(RecorderTest, FramelessLeafGetsItsCallerBackAndGarbageIsCut) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  // At the first instruction of main.heavy (before `push rbp`) the frame
  // pointer walk does not see main.main; the return address is at SP.
  SampleRecordBuilder b;
  b.head().tgid = 100;
  b.head().start_ns = TicksToNanos(5000);
  b.head().flags = GOLENS_SAMPLE_USER_SP_VALID;
  b.head().user_sp = 0x7ffc0000;
  b.head().user_sp_words[0] = main_a_ + 0x41;
  b.User({heavy_});
  r.OnRecord(b.bytes());
  // A frame-pointer walk through code without frame pointers: garbage
  // after the first frames is cut, not shown.
  Sample(r, 100, 5000, {light_ + 4, main_a_ + 0x40, 0x12345, 0x400010});
  auto interval = r.TakeInterval(WallClockNanos());
  pprof::Profile p = BuildCpuProfile(*interval, {});
  ASSERT_EQ(p.samples.size(), 2u);
  // main.main + 0x40 may sit in a call inlined into main.main: compare the
  // leaf and the outermost (physical) frame.
  std::set<std::string> stacks;
  std::string all;
  for (const auto& s : p.samples) {
    auto st = Stack(p, s);
    stacks.insert(st.front() + ".." + st.back());
    for (const auto& f : st) all += f + ";";
    all += " | ";
  }
  EXPECT_TRUE(stacks.count("main.heavy..main.main")) << "caller not restored: " << all;
  EXPECT_TRUE(stacks.count("main.light..main.main")) << "garbage frames not cut: " << all;
  EXPECT_EQ(r.stats().leaf_restored, 1u);
  EXPECT_EQ(r.stats().stacks_cut, 1u);
}

TEST_F(RecorderTest, SamplesKeepTheMappingInForceWhenTaken) {
  // A library (here: a whole text mapping) is unmapped and another file is
  // mapped at the same address. Samples before and after must each
  // symbolize through the file that was mapped when they were taken, even
  // though the profile is built after both.
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  for (int i = 0; i < 5; ++i) Sample(r, 100, 5000, {heavy_ + 4});
  Event(r, GOLENS_PROC_EVENT_MUNMAP, 100, 5000, 0, 0, 0x400000, 0xd0000);
  proc_.Run(100, 5000, kProgramB);  // what /proc shows from now on
  for (int i = 0; i < 3; ++i) Sample(r, 100, 5000, {spin_a_ + 4});
  auto interval = r.TakeInterval(WallClockNanos());
  pprof::Profile p = BuildCpuProfile(*interval, {});
  auto flat = Flat(p);
  EXPECT_EQ(flat["main.heavy"], 5);
  EXPECT_EQ(flat["main.spinA"], 3);
  EXPECT_EQ(flat.size(), 2u);
  std::set<std::string> files;
  for (const auto& m : p.mappings) files.insert(m.filename);
  EXPECT_TRUE(files.count(kProgramA) && files.count(kProgramB));
}

TEST_F(RecorderTest, ForkInheritsExecReadsTheNewProgram) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, /*follow_children=*/true).ok());
  Event(r, GOLENS_PROC_EVENT_FORK, 101, 5100, 100, 5000);
  Sample(r, 101, 5100, {heavy_ + 4});  // still the parent's program
  int reads = proc_.maps_reads;
  proc_.Run(101, 5100, kProgramB);
  Event(r, GOLENS_PROC_EVENT_EXEC, 101, 5100);
  EXPECT_GT(proc_.maps_reads, reads);
  Sample(r, 101, 5100, {spin_a_ + 4});
  Sample(r, 101, 5100, {spin_a_ + 4});
  auto interval = r.TakeInterval(WallClockNanos());
  auto flat = Flat(BuildCpuProfile(*interval, {}));
  EXPECT_EQ(flat["main.heavy"], 1);
  EXPECT_EQ(flat["main.spinA"], 2);
  EXPECT_EQ(r.live_processes(), 2u);
}

TEST_F(RecorderTest, ReusedPidIsANewProcess) {
  proc_.Run(100, 5000, kProgramA);
  proc_.Run(50, 10, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(50, true).ok());
  Event(r, GOLENS_PROC_EVENT_FORK, 100, 5000, 50, 10);
  for (int i = 0; i < 4; ++i) Sample(r, 100, 5000, {heavy_ + 4});
  Event(r, GOLENS_PROC_EVENT_EXIT, 100, 5000);
  Sample(r, 100, 5000, {heavy_ + 4});  // cannot happen in order; dropped if it does
  // The pid comes back as another process running another program.
  Event(r, GOLENS_PROC_EVENT_FORK, 100, 7000, 50, 10);
  proc_.Run(100, 7000, kProgramB);
  Event(r, GOLENS_PROC_EVENT_EXEC, 100, 7000);
  for (int i = 0; i < 6; ++i) Sample(r, 100, 7000, {spin_a_ + 4});
  auto interval = r.TakeInterval(WallClockNanos());
  pprof::Profile p = BuildCpuProfile(*interval, {});
  auto flat = Flat(p);
  EXPECT_EQ(flat["main.heavy"], 4);
  EXPECT_EQ(flat["main.spinA"], 6);
  EXPECT_EQ(r.stats().unknown_process, 1u);
  ASSERT_EQ(interval->processes().size(), 2u);
  EXPECT_EQ(interval->processes()[0].id.pid, interval->processes()[1].id.pid);
  EXPECT_NE(interval->processes()[0].id.start_ticks, interval->processes()[1].id.start_ticks);
  EXPECT_EQ(p.comments.size(), 2u);
}

// The agent stores one profile per process: the same interval split by
// process (a reused pid is two processes) adds up to the whole, each part
// with only its own samples, mappings and comment.
TEST_F(RecorderTest, IntervalSplitsIntoOneProfilePerProcess) {
  proc_.Run(100, 5000, kProgramA);
  proc_.Run(200, 6000, kProgramB);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  ASSERT_TRUE(r.Attach(200, false).ok());
  for (int i = 0; i < 5; ++i) Sample(r, 100, 5000, {heavy_ + 4, main_a_ + 0x40});
  for (int i = 0; i < 7; ++i) Sample(r, 200, 6000, {spin_a_ + 4, main_b_ + 0x40});
  // the same stack in both processes must not merge
  Sample(r, 100, 5000, {heavy_ + 4});
  auto interval = r.TakeInterval(WallClockNanos());
  ASSERT_EQ(interval->processes().size(), 2u);
  std::map<pid_t, std::map<std::string, int64_t>> by_pid;
  for (const IntervalProcess& process : interval->processes()) {
    CpuProfileOptions options;
    options.only_process = process.key;
    pprof::Profile p = BuildCpuProfile(*interval, options);
    by_pid[process.id.pid] = Flat(p);
    ASSERT_EQ(p.comments.size(), 1u);
    EXPECT_NE(p.comments[0].find("pid " + std::to_string(process.id.pid)), std::string::npos);
    ASSERT_FALSE(p.mappings.empty());
    EXPECT_EQ(p.mappings[0].filename, process.exe_path);
    for (const pprof::Mapping& m : p.mappings) EXPECT_NE(m.filename, process.id.pid == 100 ? kProgramB : kProgramA);
  }
  EXPECT_EQ(by_pid[100], (std::map<std::string, int64_t>{{"main.heavy", 6}}));
  EXPECT_EQ(by_pid[200], (std::map<std::string, int64_t>{{"main.spinA", 7}}));
  auto whole = Flat(BuildCpuProfile(*interval, {}));
  EXPECT_EQ(whole["main.heavy"] + whole["main.spinA"], 13);
}

// With every exec reported (the agent's discovery), execs of processes that
// are not targets reach the listener and change nothing else.
TEST_F(RecorderTest, UntrackedExecsGoToTheListener) {
  struct Listener : RecorderListener {
    void OnProgram(const ProcessState&) override {}
    void OnGone(const ProcessState&) override {}
    void OnUntrackedExec(pid_t pid, uint64_t start, const std::string& file) override {
      seen.emplace_back(pid, start, file);
    }
    std::vector<std::tuple<pid_t, uint64_t, std::string>> seen;
  } listener;
  Recorder r({}, &proc_, &binaries_, &listener);
  golens_proc_event e = MakeProcEvent(GOLENS_PROC_EVENT_EXEC_UNTRACKED, 300, TicksToNanos(8000));
  std::strcpy(e.filename, "/usr/bin/app");
  r.OnRecord({reinterpret_cast<const uint8_t*>(&e), sizeof(e)});
  ASSERT_EQ(listener.seen.size(), 1u);
  EXPECT_EQ(listener.seen[0], std::make_tuple(pid_t{300}, uint64_t{8000}, std::string("/usr/bin/app")));
  EXPECT_EQ(r.live_processes(), 0u) << "an untracked exec makes no target";
  EXPECT_EQ(r.stats().malformed, 0u);
}

TEST_F(RecorderTest, ProgramThatExitedBeforeProcWasReadStillSymbolizes) {
  // A short tool run: by the time the exec event is handled, /proc has
  // nothing left. The exec'd file is a non-PIE executable: mapped where it
  // always is.
  proc_.Run(50, 10, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(50, true).ok());
  Event(r, GOLENS_PROC_EVENT_FORK, 100, 5000, 50, 10);
  golens_proc_event e = MakeProcEvent(GOLENS_PROC_EVENT_EXEC, 100, TicksToNanos(5000));
  std::snprintf(e.filename, sizeof e.filename, "%s", kProgramB.c_str());
  r.OnRecord({reinterpret_cast<const uint8_t*>(&e), sizeof(e)});
  for (int i = 0; i < 3; ++i) Sample(r, 100, 5000, {spin_a_ + 4});
  EXPECT_EQ(r.stats().assumed_programs, 1u);
  auto interval = r.TakeInterval(WallClockNanos());
  EXPECT_EQ(Flat(BuildCpuProfile(*interval, {}))["main.spinA"], 3);
  ASSERT_EQ(interval->processes().size(), 1u);
  EXPECT_EQ(interval->processes()[0].exe_path, kProgramB);
}

TEST_F(RecorderTest, ExitedProcessesAndTheirBinariesAreForgotten) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  Sample(r, 100, 5000, {heavy_ + 4});
  Event(r, GOLENS_PROC_EVENT_EXIT, 100, 5000);
  EXPECT_EQ(r.live_processes(), 0u);
  EXPECT_EQ(binaries_.live(), 1u);  // the interval still needs it
  {
    auto interval = r.TakeInterval(WallClockNanos());
    EXPECT_EQ(Flat(BuildCpuProfile(*interval, {}))["main.heavy"], 1);
  }
  EXPECT_EQ(binaries_.live(), 0u);
}

TEST_F(RecorderTest, LivenessBackstopDropsVanishedProcesses) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  proc_.procs.erase(100);  // its exit event was lost
  r.CheckLiveness();
  EXPECT_EQ(r.live_processes(), 0u);
}

TEST_F(RecorderTest, MalformedRecordsAreCountedNotTrusted) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  SampleRecordBuilder b;
  b.head().tgid = 100;
  b.head().start_ns = TicksToNanos(5000);
  b.User({heavy_, main_a_});
  auto bytes = b.bytes();
  std::vector<uint64_t> copy(bytes.size() / 8 + 1);
  std::memcpy(copy.data(), bytes.data(), bytes.size());
  auto* raw = reinterpret_cast<uint8_t*>(copy.data());
  r.OnRecord({raw, 4});                  // shorter than a header
  r.OnRecord({raw, bytes.size() - 8});  // size field past the end
  reinterpret_cast<golens_sample*>(raw)->user_frames = 1000;
  r.OnRecord({raw, bytes.size()});
  reinterpret_cast<golens_sample*>(raw)->user_frames = 2;
  reinterpret_cast<golens_sample*>(raw)->header.version = 1;
  r.OnRecord({raw, bytes.size()});
  EXPECT_EQ(r.stats().malformed, 4u);
  EXPECT_EQ(r.stats().samples, 0u);
}

// The bytes BPF writes for a label section (bpf/abi.h).
std::vector<uint8_t> LabelSection(const std::vector<std::tuple<std::string, std::string, uint8_t>>& labels,
                                  uint16_t total) {
  std::vector<uint8_t> out(sizeof(golens_labels));
  golens_labels head{static_cast<uint16_t>(labels.size()), total, 0};
  std::memcpy(out.data(), &head, sizeof(head));
  for (const auto& [key, value, flags] : labels) {
    golens_label l{static_cast<uint8_t>(key.size()), static_cast<uint8_t>(value.size()), flags, 0};
    const auto* raw = reinterpret_cast<const uint8_t*>(&l);
    out.insert(out.end(), raw, raw + sizeof(l));
    out.insert(out.end(), key.begin(), key.end());
    out.insert(out.end(), value.begin(), value.end());
  }
  return out;
}

TEST_F(RecorderTest, LabelAndSpanSectionsBecomeLabelsInOnePlace) {
  proc_.Run(100, 5000, kProgramA);
  Recorder r({}, &proc_, &binaries_);
  ASSERT_TRUE(r.Attach(100, false).ok());
  auto labels = LabelSection({{"worker", "alpha", 0}, {"long", "vvvv", GOLENS_LABEL_VALUE_CUT}}, 40);
  golens_span span{};
  span.span_id = 0x0123456789abcdefull;
  std::snprintf(span.traceparent, sizeof span.traceparent, "%s",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  span.flags = GOLENS_SPAN_HAS_TRACEPARENT;
  std::memcpy(span.method, "GET", 3);
  span.method_len = 3;
  std::memcpy(span.path, "/work", 5);
  span.path_len = 5;
  SampleRecordBuilder b;
  b.head().tgid = 100;
  b.head().start_ns = TicksToNanos(5000);
  b.User({heavy_ + 4});
  b.Section(GOLENS_SECTION_LABELS, 0, labels);
  b.Section(GOLENS_SECTION_SPAN, 0, {reinterpret_cast<const uint8_t*>(&span), sizeof(span)});
  r.OnRecord(b.bytes());
  pprof::Profile p = BuildCpuProfile(*r.TakeInterval(WallClockNanos()), {});
  ASSERT_EQ(p.samples.size(), 1u);
  std::map<std::string, std::string> str;
  std::map<std::string, int64_t> num;
  for (const auto& l : p.samples[0].labels) {
    if (l.str.empty()) {
      num[l.key] = l.num;
    } else {
      str[l.key] = l.str;
    }
  }
  EXPECT_EQ(str["worker"], "alpha");
  EXPECT_EQ(str["long"], std::string("vvvv") + kCutMarker);
  EXPECT_EQ(num[kLabelsDroppedKey], 38);
  EXPECT_EQ(str["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(str["span_id"], "efcdab8967452301");  // the id's bytes in memory order
  EXPECT_EQ(str["http.method"], "GET");
  EXPECT_EQ(str["http.path"], "/work");
  EXPECT_EQ(r.stats().attributes.labels_cut, 1u);
  EXPECT_EQ(r.stats().attributes.labels_dropped, 38u);

  // A malformed label section loses the labels, not the sample.
  SampleRecordBuilder bad;
  bad.head().tgid = 100;
  bad.head().start_ns = TicksToNanos(5000);
  bad.User({heavy_ + 4});
  labels.resize(labels.size() - 2);
  bad.Section(GOLENS_SECTION_LABELS, 0, labels);
  r.OnRecord(bad.bytes());
  EXPECT_EQ(r.stats().attributes.labels_malformed, 1u);
  EXPECT_EQ(r.stats().samples, 2u);
}

TEST(Spans, TraceparentRulesOfW3cTraceContext) {
  golens_span span{};
  for (int i = 0; i < 16; ++i) span.trace_id[i] = static_cast<uint8_t>(i);
  span.flags = GOLENS_SPAN_HAS_TRACEPARENT;
  auto ids = [&](const char* header) {
    std::snprintf(span.traceparent, sizeof span.traceparent, "%s", header);
    return DecodeSpanIds(span);
  };
  EXPECT_EQ(ids("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").parent_span_id, "00f067aa0ba902b7");
  // Invalid: upper case, all-zero ids, wrong version or shape -> a fresh trace.
  for (const char* bad : {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}) {
    SpanIds got = ids(bad);
    EXPECT_EQ(got.trace_id, "000102030405060708090a0b0c0d0e0f") << bad;
    EXPECT_EQ(got.parent_span_id, "") << bad;
  }
  FinishedSpan f;
  f.ids = ids("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  f.path = "/\xff\"quoted\"";
  f.start_ktime_ns = 100;
  f.end_ktime_ns = 350;
  std::string json = SpanJson(f, 1000);
  EXPECT_NE(json.find("\"start_unix_nanos\":1100"), std::string::npos) << json;
  EXPECT_NE(json.find("\"duration_nanos\":250"), std::string::npos) << json;
  EXPECT_NE(json.find("\\\"quoted\\\""), std::string::npos) << json;  // escaped, and invalid UTF-8 replaced
}

TEST(SampleRecord, SectionsRoundTripAndUnknownKindsAreSkipped) {
  SampleRecordBuilder b;
  b.head().tgid = 1;
  b.User({1, 2, 3}).Kernel({0xffffffff81000000ull});
  const uint8_t payload[5] = {1, 2, 3, 4, 5};
  b.Section(3, 7, payload);
  b.Section(1, 0, {});
  auto decoded = DecodeSample(b.bytes());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->user.size(), 3u);
  EXPECT_EQ(decoded->kernel.size(), 1u);
  ASSERT_EQ(decoded->sections.size(), 2u);
  EXPECT_EQ(decoded->sections[0].kind, 1);
  ASSERT_NE(decoded->section(3), nullptr);
  EXPECT_EQ(decoded->section(3)->flags, 7);
  EXPECT_EQ(decoded->section(3)->payload.size(), 5u);
  EXPECT_EQ(decoded->section(3)->payload[4], 5);
  EXPECT_EQ(decoded->section(2), nullptr);
}

TEST(FrameCache, BoundedAndCountsHits) {
  auto binary = symbolizer::Binary::Open(kProgramA);
  ASSERT_TRUE(binary.ok());
  BinaryRegistry registry;
  auto record = registry.Get(*binary);
  FrameCache cache(8);
  uint64_t heavy = Symbol(kProgramA, "main.heavy");
  std::vector<uint64_t> pcs;
  for (int i = 0; i < 20; ++i) pcs.push_back(heavy + static_cast<uint64_t>(i));
  auto first = cache.Symbolize(*record, std::span(pcs).first(2));
  EXPECT_EQ(first[0]->frames.at(0).function, "main.heavy");
  cache.Symbolize(*record, std::span(pcs).first(2));
  EXPECT_EQ(cache.stats().hits, 2u);
  cache.Symbolize(*record, pcs);
  EXPECT_LE(cache.stats().entries, 8u);
  EXPECT_GT(cache.stats().generations_dropped, 0u);
}

TEST(FrameCache, OutlivesTheBinaryRecordOfTheSameBuild) {
  // The last process of a program exits, the next one starts: a new record
  // for the same build finds the frames symbolized before.
  FrameCache cache;
  BinaryRegistry registry;
  uint64_t heavy = Symbol(kProgramA, "main.heavy");
  std::vector<uint64_t> pcs = {heavy, heavy + 1};
  uint64_t first_id = 0;
  {
    auto record = registry.Get(*symbolizer::Binary::Open(kProgramA));
    first_id = record->id();
    cache.Symbolize(*record, pcs);
  }
  EXPECT_EQ(registry.live(), 0u);
  auto again = registry.Get(*symbolizer::Binary::Open(kProgramA));
  EXPECT_NE(again->id(), first_id);
  cache.Symbolize(*again, pcs);
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

}  // namespace
}  // namespace golens::profiler
