// End-to-end tests of native (cgo, libc, dlopen) stacks with real BPF on the
// cgo fixture built by this build (Go 1.21, whose asmcgocall frame differs,
// and the local release), whose C code has no frame pointers. Needs root:
// without it every test fails with golens' own message, never skips.
//
// The C part of the stacks is checked against `perf record --call-graph
// dwarf` of the same program (Debian's linux-perf), which unwinds C the same
// way (CFI) but stops at runtime.asmcgocall.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "pprof/profile_io.h"
#include "tests/profiler/e2e_util.h"
#include "tests/profiler/subprocess.h"

namespace golens {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::RunCommand;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;
const std::string kPerf = "/usr/bin/perf";  // Debian's linux-perf

std::string Fixture(const std::string& name) { return kFixtures + "/" + name; }

// Function names of a sample, leaf first, inline chains expanded.
std::vector<std::string> Names(const pprof::ProfileIndex& index, const pprof::Sample& s) {
  std::vector<std::string> names;
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    if (loc->lines.empty()) names.push_back("?");
    for (const pprof::Line& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      names.push_back(fn ? fn->name : "?");
    }
  }
  return names;
}

// `name` is `want` or a compiler clone of it ("msort_with_tmp.part.0").
bool SameFunction(const std::string& name, const std::string& want) {
  return name == want || (name.size() > want.size() && name.compare(0, want.size(), want) == 0 &&
                          name[want.size()] == '.' && want.find('.') == std::string::npos);
}

// Whether `chain` (root-most last) appears in order in `names` (leaf first).
bool HasChain(const std::vector<std::string>& names, const std::vector<std::string>& chain) {
  size_t at = 0;
  for (const std::string& name : names) {
    if (at < chain.size() && SameFunction(name, chain[at])) ++at;
  }
  return at == chain.size();
}

struct Shares {
  int64_t total = 0;     // samples of the whole program
  int64_t with_leaf = 0; // samples whose leaf is the function
  int64_t whole = 0;     // of those, with the whole chain
  std::string example;   // a stack without it, for the failure message
};

Shares Measure(const pprof::Profile& p, const std::string& leaf, const std::vector<std::string>& chain) {
  pprof::ProfileIndex index(p);
  Shares s;
  for (const auto& sample : p.samples) {
    int64_t n = sample.values.empty() ? 0 : sample.values[0];
    s.total += n;
    auto names = Names(index, sample);
    if (names.empty() || names[0] != leaf) continue;
    s.with_leaf += n;
    if (HasChain(names, chain)) {
      s.whole += n;
    } else if (s.example.empty()) {
      for (const auto& name : names) s.example += name + " <- ";
    }
  }
  return s;
}

struct Recording {
  std::string error;
  pprof::Profile profile;
  std::string err;
};

// `wrapper` (a command line ending in "--") runs golens, e.g. under perf.
Recording Record(const std::vector<std::string>& command, const std::vector<std::string>& extra = {},
                 const std::vector<std::string>& wrapper = {}) {
  Recording r;
  static int n = 0;
  std::string out = testing::ScratchDir() + "/native-" + std::to_string(n++) + ".pb.gz";
  std::vector<std::string> argv = wrapper;
  argv.insert(argv.end(), {kGolens, "-v", "record", "--hz", "99", "-o", out});
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  CommandResult c = RunCommand(argv, 120s);
  r.err = c.err;
  if (c.exit_code != 0) {
    r.error = testing::DescribeResult(c);
    return r;
  }
  auto p = pprof::ReadProfileFile(out);
  if (!p.ok()) {
    r.error = p.error().message;
    return r;
  }
  r.profile = std::move(p).value();
  return r;
}

const std::vector<std::string> kSortChain = {"compare_mixed", "msort_with_tmp", "sort_hot", "main.sortCaller",
                                             "main.main"};

class NativeStacks : public ::testing::TestWithParam<std::string> {};

// Go -> C -> libc qsort -> C callback, all C without frame pointers: the
// callback's samples carry the whole chain, libc's internals by name (its
// detached debug symbols, libc6-dbg).
TEST_P(NativeStacks, QsortCallbackCarriesTheWholeChain) {
  Recording r = Record({Fixture("cgo-" + GetParam()), "sort", "5"});
  ASSERT_EQ(r.error, "");
  Shares s = Measure(r.profile, "compare_mixed", kSortChain);
  ASSERT_GE(s.with_leaf, 100) << "too few samples in the callback; stderr: " << r.err;
  EXPECT_GE(static_cast<double>(s.whole), 0.9 * static_cast<double>(s.with_leaf))
      << s.whole << " of " << s.with_leaf << " callback samples have the whole chain; e.g. " << s.example;
  // The cgo glue between them is there too, in order.
  pprof::ProfileIndex index(r.profile);
  int64_t glue = 0;
  for (const auto& sample : r.profile.samples) {
    auto names = Names(index, sample);
    if (!names.empty() && names[0] == "compare_mixed" &&
        HasChain(names, {"compare_mixed", "sort_hot", "runtime.asmcgocall", "runtime.cgocall", "main._Cfunc_sort_hot",
                         "main.sortCaller", "main.main", "runtime.main"}))
      glue += sample.values[0];
  }
  EXPECT_GE(static_cast<double>(glue), 0.9 * static_cast<double>(s.with_leaf));
}

// C calling back into Go (//export): the Go function's samples go through
// the cgo callback glue, the C caller and back into Go up to main.main.
TEST_P(NativeStacks, GoCalledFromCCarriesTheWholeChain) {
  Recording r = Record({Fixture("cgo-" + GetParam()), "callback", "4"});
  ASSERT_EQ(r.error, "");
  Shares s = Measure(r.profile, "main.goBurn", {"main.goBurn", "call_go_back", "main.callbackCaller", "main.main"});
  ASSERT_GE(s.with_leaf, 100) << "too few samples in the Go callback; stderr: " << r.err;
  EXPECT_GE(static_cast<double>(s.whole), 0.9 * static_cast<double>(s.with_leaf))
      << s.whole << " of " << s.with_leaf << " samples have the whole chain; e.g. " << s.example;
}

// A library loaded with dlopen after golens attached: found, unwound whole.
TEST_P(NativeStacks, DlopenedLibraryUnwindsWhole) {
  Recording r = Record({Fixture("cgo-" + GetParam()), "dlopen", Fixture("libcgolib.so"), "4"});
  ASSERT_EQ(r.error, "");
  Shares s = Measure(r.profile, "library_mix",
                     {"library_mix", "library_burn", "run_library", "main.libraryCaller", "main.main"});
  ASSERT_GE(s.with_leaf, 100) << "too few samples in the library; stderr: " << r.err;
  EXPECT_GE(static_cast<double>(s.whole), 0.9 * static_cast<double>(s.with_leaf))
      << s.whole << " of " << s.with_leaf << " samples have the whole chain; e.g. " << s.example;
}

INSTANTIATE_TEST_SUITE_P(GoReleases, NativeStacks, ::testing::Values("local", "1.21.13"));

// --no-native keeps the frame-pointer path: the same program's callback
// samples never reach main.main (what the issue saw), so the test above
// measures the feature, not luck.
TEST(NativeStacksOff, FramePointersAloneDoNotReachMain) {
  Recording r = Record({Fixture("cgo-local"), "sort", "3"}, {"--no-native"});
  ASSERT_EQ(r.error, "");
  Shares s = Measure(r.profile, "compare_mixed", kSortChain);
  ASSERT_GE(s.with_leaf, 50) << r.err;
  EXPECT_LT(static_cast<double>(s.whole), 0.1 * static_cast<double>(s.with_leaf));
}

// perf's DWARF unwinding of the same program: the C part of the stacks
// (callback <- libc <- sort_hot) in the same share of samples, and the
// callback's share of all CPU within a few points of golens's in the same run.
//
// The shares come from one execution that both sample: perf records golens
// recording the fixture, so nothing that moves between runs can tell them
// apart. (Two runs once disagreed: the callback's mixing was dead code to the
// compiler, leaving a handful of instructions whose share was wherever timer
// interrupts landed, 0.19 .. 0.39 at 99 Hz over 74 runs of either tool
// alone. The mixing is real work now and the share about 0.8 in every run.)
// Within one run golens and perf differ by sampling noise alone (sd 0.02 in
// 52 runs, at most 0.05). The chain comes from perf recording the fixture
// alone: perf following golens as well unwound through libc in only 13 of 28
// runs, and a stack's shape does not change between runs.
struct PerfShares {
  int64_t total = 0, with_leaf = 0, c_chain = 0;
  std::string error;
};

// The samples of threads named `comm` in `data`, which was recorded with
// --call-graph dwarf.
PerfShares PerfScript(const std::string& data, const std::string& comm) {
  PerfShares p;
  CommandResult script = RunCommand({kPerf, "script", "-i", data, "--comms", comm, "-F", "comm,ip,sym"}, 120s);
  if (script.exit_code != 0) {
    p.error = "perf script: " + testing::DescribeResult(script);
    return p;
  }
  // Samples are separated by blank lines: a header line, then one frame per line (leaf first).
  std::istringstream in(script.out);
  std::string line;
  std::vector<std::string> frames;
  bool header = true;
  auto flush = [&] {
    if (!frames.empty()) {
      ++p.total;
      if (frames[0] == "compare_mixed") {
        ++p.with_leaf;
        if (HasChain(frames, {"compare_mixed", "msort_with_tmp", "sort_hot"})) ++p.c_chain;
      }
    }
    frames.clear();
    header = true;
  };
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) {
      flush();
      continue;
    }
    if (header) {
      header = false;
      continue;
    }
    std::istringstream words(line);
    std::string ip, sym;
    words >> ip >> sym;
    frames.push_back(sym);
  }
  flush();
  return p;
}

const std::vector<std::string> kPerfRecord = {kPerf, "record", "-q", "-F", "99", "--call-graph", "dwarf,16384"};

PerfShares PerfRecord(const std::string& fixture) {
  std::string data = testing::ScratchDir() + "/perf-native.data";
  std::vector<std::string> argv = kPerfRecord;
  argv.insert(argv.end(), {"-o", data, "--", fixture, "sort", "5"});
  CommandResult rec = RunCommand(argv, 120s);
  if (rec.exit_code != 0) {
    PerfShares p;
    p.error = "perf record: " + testing::DescribeResult(rec);
    return p;
  }
  return PerfScript(data, "cgo-local");
}

// golens's own account of what it recorded and dropped (its -v counters and
// summary), for failure messages.
std::string Counters(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("bpf metric") != std::string::npos || line.find("recorder:") != std::string::npos ||
        line.find("native stacks:") != std::string::npos || line.find(" samples, ") != std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

double Ratio(int64_t part, int64_t whole) { return static_cast<double>(part) / static_cast<double>(whole); }

TEST(NativeStacksVsPerf, CPartAndSharesAgreeWithPerfDwarf) {
  const std::string fixture = Fixture("cgo-local");
  PerfShares alone = PerfRecord(fixture);
  ASSERT_EQ(alone.error, "");
  // About 500 samples in 5 s at 99 Hz, a fifth to a third of them in the
  // callback: 100 was the edge (99 seen once). Enough for the chain share.
  ASSERT_GE(alone.with_leaf, 50) << "perf saw too few callback samples";

  const std::string data = testing::ScratchDir() + "/perf-golens-native.data";
  std::vector<std::string> wrapper = kPerfRecord;
  wrapper.insert(wrapper.end(), {"-o", data, "--"});
  Recording r = Record({fixture, "sort", "5"}, {}, wrapper);
  ASSERT_EQ(r.error, "");
  // perf follows golens's threads too: only the fixture's (named after its file).
  PerfShares perf = PerfScript(data, "cgo-local");
  ASSERT_EQ(perf.error, "");
  ASSERT_GE(perf.with_leaf, 60) << "perf saw too few callback samples";
  Shares ours = Measure(r.profile, "compare_mixed", {"compare_mixed", "msort_with_tmp", "sort_hot"});
  ASSERT_GE(ours.with_leaf, 60) << Counters(r.err);

  double perf_chain = Ratio(alone.c_chain, alone.with_leaf);
  double our_chain = Ratio(ours.whole, ours.with_leaf);
  double perf_share = Ratio(perf.with_leaf, perf.total);
  double our_share = Ratio(ours.with_leaf, ours.total);
  std::printf("callback samples with callback <- msort <- sort_hot: golens %.3f, perf %.3f; callback share of CPU "
              "in one run: golens %.3f (%lld of %lld), perf %.3f (%lld of %lld); perf alone %.3f\n",
              our_chain, perf_chain, our_share, static_cast<long long>(ours.with_leaf),
              static_cast<long long>(ours.total), perf_share, static_cast<long long>(perf.with_leaf),
              static_cast<long long>(perf.total), Ratio(alone.with_leaf, alone.total));
  EXPECT_GE(our_chain, perf_chain - 0.05) << "C chain: golens " << our_chain << ", perf " << perf_chain;
  EXPECT_NEAR(our_share, perf_share, 0.08) << "callback share of CPU: golens " << our_share << ", perf "
                                           << perf_share << "\n"
                                           << Counters(r.err);
  // Both sample the program's CPU time at 99 Hz: a sample golens lost or
  // left out (in BPF or in the recorder) shows here even when the shares agree.
  EXPECT_NEAR(static_cast<double>(ours.total), static_cast<double>(perf.total), 0.1 * static_cast<double>(perf.total))
      << "samples of the program: golens " << ours.total << ", perf " << perf.total << "\n"
      << Counters(r.err);
}

}  // namespace
}  // namespace golens
