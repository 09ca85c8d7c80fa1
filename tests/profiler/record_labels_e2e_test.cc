// pprof labels, copied by BPF at sample time, on real Go programs built with
// Go 1.21 and 1.23 (g.labels -> map[string]string) and 1.24, 1.26 (local)
// and 1.27 (a sorted slice). The fixture writes its own runtime/pprof CPU
// profile of the same run: golens's label breakdown must agree with Go's.
// Needs root (real BPF); without it every test fails with golens's message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
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
using testing::Subprocess;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;

std::string TempDir() { return testing::ScratchDir(); }


std::string Label(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels)
    if (l.key == key) return l.str;
  return "";
}

// Share (percent of samples) per value of label `key` ("" = no such label).
std::map<std::string, double> Shares(const pprof::Profile& p, const std::string& key) {
  std::map<std::string, double> shares;
  double total = 0;
  for (const auto& s : p.samples) {
    shares[Label(s, key)] += static_cast<double>(s.values[0]);
    total += static_cast<double>(s.values[0]);
  }
  for (auto& [value, share] : shares) share = total > 0 ? 100 * share / total : 0;
  return shares;
}

// The leaf-most function of a sample whose name starts with "main.".
std::string MainFunction(const pprof::Profile& p, const pprof::ProfileIndex& index, const pprof::Sample& s) {
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    for (const auto& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      if (fn && fn->name.rfind("main.", 0) == 0 && fn->name != "main.burn") return fn->name;
    }
  }
  (void)p;
  return "";
}

struct Recording {
  std::string error;
  pprof::Profile golens, go;
  std::string golens_err;
};

// The fixture of one Go release for ~4 s with its own CPU profile, golens
// recording 3 s of it.
Recording Record(const std::string& version, bool many) {
  Recording r;
  std::string fixture = kFixtures + "/labels-" + version;
  std::string go_path = TempDir() + "/go-" + version + (many ? "-many" : "") + ".pb.gz";
  std::string golens_path = TempDir() + "/golens-" + version + (many ? "-many" : "") + ".pb.gz";
  std::vector<std::string> argv = {fixture, "-seconds", "4", "-cpuprofile", go_path};
  if (many) argv.push_back("-many");
  Subprocess target(argv);
  if (!target.WaitForOutput("ready", 20s)) {
    r.error = fixture + " did not start: " + target.err();
    return r;
  }
  CommandResult g = RunCommand({kGolens, "-v", "record", "--pid", std::to_string(target.pid()), "--duration", "3s",
                                "-o", golens_path},
                               60s);
  r.golens_err = g.err;
  if (g.exit_code != 0) {
    r.error = "golens record failed (exit " + std::to_string(g.exit_code) + "): " + g.err;
    return r;
  }
  if (!target.WaitForOutput("profile written", 20s)) {
    r.error = "the fixture wrote no runtime/pprof profile: " + target.err();
    return r;
  }
  auto golens = pprof::ReadProfileFile(golens_path);
  auto go = pprof::ReadProfileFile(go_path);
  if (!golens.ok() || !go.ok()) {
    r.error = "unreadable profile: " + (golens.ok() ? go.error().message : golens.error().message);
    return r;
  }
  r.golens = std::move(golens).value();
  r.go = std::move(go).value();
  return r;
}

class LabelsByRelease : public ::testing::TestWithParam<std::string> {};

TEST_P(LabelsByRelease, MatchGosOwnProfile) {
  Recording r = Record(GetParam(), false);
  ASSERT_EQ(r.error, "");
  auto ours = Shares(r.golens, "worker");
  auto theirs = Shares(r.go, "worker");
  // Same keys and values, shares within 5 points.
  std::set<std::string> values;
  for (const auto& [v, s] : ours) values.insert(v);
  for (const auto& [v, s] : theirs) values.insert(v);
  EXPECT_EQ(values, (std::set<std::string>{"", "alpha", "beta"}));
  for (const auto& v : values) {
    EXPECT_NEAR(ours[v], theirs[v], 5.0) << "worker=" << v << " golens " << ours[v] << "% vs runtime/pprof "
                                         << theirs[v] << "%";
  }
  EXPECT_GT(ours["alpha"], 20.0);
  EXPECT_GT(ours["beta"], 10.0);

  // Every label of a sample as Go sets them: tier=gold only with
  // worker=alpha; the child goroutine inherits its parent's labels; the
  // unlabelled work has none.
  pprof::ProfileIndex index(r.golens);
  int64_t child = 0, plain = 0;
  for (const auto& s : r.golens.samples) {
    EXPECT_EQ(Label(s, "tier") == "gold", Label(s, "worker") == "alpha");
    std::string fn = MainFunction(r.golens, index, s);
    if (fn == "main.alphaChild") {
      EXPECT_EQ(Label(s, "worker"), "alpha") << "a goroutine started under pprof.Do inherits its labels";
      child += s.values[0];
    }
    if (fn == "main.plainWork") {
      EXPECT_TRUE(s.labels.empty()) << "unlabelled goroutine";
      plain += s.values[0];
    }
  }
  EXPECT_GT(child, 10);
  EXPECT_GT(plain, 10);
}

INSTANTIATE_TEST_SUITE_P(GoReleases, LabelsByRelease,
                         ::testing::Values("1.21.13", "1.23.12", "1.24.13", "local", "1.27.4"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '.') c = '_';
                           return "go" + name;
                         });

class ManyLabels : public ::testing::TestWithParam<std::string> {};

// 40 labels of 300-byte values: 32 kept, each value cut at 128 bytes and
// marked, the other 8 counted; no crash, and the metric says so.
TEST_P(ManyLabels, AreBoundedCutMarkedAndCounted) {
  Recording r = Record(GetParam(), true);
  ASSERT_EQ(r.error, "");
  int64_t labelled = 0;
  for (const auto& s : r.golens.samples) {
    if (s.labels.empty()) continue;
    labelled += s.values[0];
    int strings = 0;
    int64_t dropped = -1;
    for (const auto& l : s.labels) {
      if (l.key == "golens_labels_dropped") {
        dropped = l.num;
        continue;
      }
      ++strings;
      EXPECT_EQ(l.key.size(), 5u) << l.key;  // "key07": keys are short, never cut
      const std::string marker = "\u2026[cut]";
      ASSERT_GT(l.str.size(), marker.size());
      EXPECT_EQ(l.str.substr(l.str.size() - marker.size()), marker) << "a cut value is marked";
      EXPECT_EQ(l.str.size(), 128 + marker.size()) << "values are kept up to 128 bytes";
      EXPECT_EQ(l.str.substr(0, 1), "v");
    }
    EXPECT_EQ(strings, 32);
    EXPECT_EQ(dropped, 8);
  }
  EXPECT_GT(labelled, 30);
  EXPECT_NE(r.golens_err.find("samples with labels cut"), std::string::npos) << r.golens_err;
}

INSTANTIATE_TEST_SUITE_P(GoReleases, ManyLabels, ::testing::Values("1.23.12", "local"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '.') c = '_';
                           return "go" + name;
                         });

}  // namespace
}  // namespace golens
