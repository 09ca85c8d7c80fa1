// Go map statistics (golens record --maps sampled) on a real Go program built
// with bucket maps (Go 1.21, 1.23) and Swiss tables (Go 1.24, 1.26 local):
// two maps of known sizes, one just below its growth threshold and one just
// past it, looked up in separate functions. The fixture reads its own map
// headers with unsafe and prints them; golens's labels must agree.
// Needs root (real BPF); without it every test fails with golens's message.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// What the fixture says about one of its maps.
struct Reference {
  int64_t len = -1, buckets = -1, load_pct = -1;
};

std::map<std::string, Reference> ParseReferences(const std::string& text) {
  std::map<std::string, Reference> refs;
  std::regex line(R"(map (\w+) len=(\d+) buckets=(\d+) load_pct=(\d+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it) {
    refs[(*it)[1]] = Reference{std::stoll((*it)[2]), std::stoll((*it)[3]), std::stoll((*it)[4])};
  }
  return refs;
}

const pprof::Label* FindLabel(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels)
    if (l.key == key) return &l;
  return nullptr;
}

// Whether a sample's innermost Go frames are a map lookup.
bool InLookup(const pprof::ProfileIndex& index, const pprof::Sample& s) {
  size_t depth = 0;
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    for (const auto& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      if (!fn) continue;
      if (fn->name.rfind("runtime.mapaccess", 0) == 0) return true;
      if (fn->name.rfind("main.", 0) == 0) return false;
    }
    if (++depth > 4) return false;
  }
  return false;
}

struct Recording {
  std::string error;
  std::string err;  // golens's stderr, the fixture's included
  std::string path;
  pprof::Profile profile;
};

Recording Record(const std::string& fixture, const std::vector<std::string>& extra, const std::string& name) {
  Recording r;
  std::string out = testing::ScratchDir() + "/" + name + ".pb.gz";
  std::vector<std::string> argv = {kGolens, "-v", "record", "-o", out};
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (const std::string& a : {std::string("--"), fixture, std::string("-seconds"), std::string("4")}) argv.push_back(a);
  CommandResult g = RunCommand(argv, 60s);
  r.err = g.err;
  if (g.exit_code != 0) {
    r.error = "golens record failed: " + testing::DescribeResult(g);
    return r;
  }
  auto profile = pprof::ReadProfileFile(out);
  if (!profile.ok()) {
    r.error = "unreadable profile: " + profile.error().message;
    return r;
  }
  r.profile = std::move(profile).value();
  r.path = out;
  return r;
}

struct SiteCounts {
  int64_t lookup = 0;     // samples in a lookup called from this site
  int64_t labelled = 0;   // of those, with map_len
  int64_t len_right = 0;  // of those, map_len == the fixture's len(m)
  int64_t buckets_right = 0;
  int64_t load_right = 0;
};

class MapsByRelease : public ::testing::TestWithParam<std::string> {};

TEST_P(MapsByRelease, SampledStatisticsMatchTheFixture) {
  std::string fixture = kFixtures + "/maps-" + GetParam();
  Recording r = Record(fixture, {"--maps", "sampled"}, "sampled-" + GetParam());
  ASSERT_EQ(r.error, "");
  auto refs = ParseReferences(r.err);
  ASSERT_EQ(refs.size(), 2u) << r.err;
  const Reference& full = refs["full"];
  const Reference& grown = refs["grown"];
  ASSERT_EQ(grown.len, full.len + 1);
  ASSERT_GT(full.load_pct, grown.load_pct) << "the fixture's maps are not at their growth threshold";

  pprof::ProfileIndex index(r.profile);
  std::map<std::string, SiteCounts> sites;  // "full", "grown"
  int64_t lookup = 0, labelled = 0, with_site = 0;
  for (const auto& s : r.profile.samples) {
    if (!InLookup(index, s)) continue;
    const int64_t n = s.values[0];
    lookup += n;
    const pprof::Label* site = FindLabel(s, "map_site");
    const pprof::Label* len = FindLabel(s, "map_len");
    if (site) with_site += n;
    if (len) labelled += n;
    if (!site) continue;
    std::string which = site->str.rfind("main.lookupFull ", 0) == 0    ? "full"
                        : site->str.rfind("main.lookupGrown ", 0) == 0 ? "grown"
                                                                       : "";
    ASSERT_NE(which, "") << "unexpected map_site " << site->str;
    EXPECT_NE(site->str.find("main.go:"), std::string::npos) << site->str;
    SiteCounts& c = sites[which];
    const Reference& ref = refs[which];
    c.lookup += n;
    if (!len) continue;
    c.labelled += n;
    const pprof::Label* buckets = FindLabel(s, "map_buckets");
    const pprof::Label* load = FindLabel(s, "map_load_pct");
    if (len->num == ref.len) c.len_right += n;
    if (buckets && buckets->num == ref.buckets) c.buckets_right += n;
    if (load && load->num == ref.load_pct && load->num_unit == "percent") c.load_right += n;
  }
  ASSERT_GT(lookup, 50) << "too few lookup samples to judge:\n" << r.err;
  // At least 80% of the lookup CPU carries the statistics, and a site.
  EXPECT_GE(labelled * 100, lookup * 80) << labelled << " of " << lookup << "\n" << r.err;
  EXPECT_GE(with_site * 100, lookup * 95) << with_site << " of " << lookup;
  for (const char* which : {"full", "grown"}) {
    SCOPED_TRACE(which);
    const SiteCounts& c = sites[which];
    ASSERT_GT(c.labelled, 10);
    // map_len is len(m) for at least 95% of the labelled samples, and so
    // are the bucket (group) count and the load.
    EXPECT_GE(c.len_right * 100, c.labelled * 95) << c.len_right << " of " << c.labelled;
    EXPECT_GE(c.buckets_right * 100, c.labelled * 95) << c.buckets_right << " of " << c.labelled;
    EXPECT_GE(c.load_right * 100, c.labelled * 95) << c.load_right << " of " << c.labelled;
  }

  // golens maps: one row per site, sorted by CPU, with the map's length.
  CommandResult table = RunCommand({kGolens, "maps", r.path}, 30s);
  ASSERT_EQ(table.exit_code, 0) << testing::DescribeResult(table);
  std::istringstream lines(table.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_GE(rows.size(), 3u) << table.out;
  EXPECT_NE(rows[0].find("LOAD%"), std::string::npos) << rows[0];
  for (const char* which : {"full", "grown"}) {
    std::string fn = std::string("main.lookup") + (which[0] == 'f' ? "Full" : "Grown");
    auto row = std::find_if(rows.begin(), rows.end(), [&](const std::string& l) { return l.find(fn) != std::string::npos; });
    ASSERT_NE(row, rows.end()) << table.out;
    EXPECT_NE(row->find(" " + std::to_string(refs[which].len) + " "), std::string::npos) << *row;
  }

  // Go's own pprof sees the labels.
  CommandResult tags = RunCommand({GO_EXECUTABLE, "tool", "pprof", "-tags", r.path}, 60s);
  ASSERT_EQ(tags.exit_code, 0) << testing::DescribeResult(tags);
  for (const char* key : {"map_len", "map_buckets", "map_load_pct", "map_site"}) {
    EXPECT_NE(tags.out.find(key), std::string::npos) << key << "\n" << tags.out;
  }
  EXPECT_NE(tags.out.find(std::to_string(full.len)), std::string::npos) << tags.out;
}

INSTANTIATE_TEST_SUITE_P(Releases, MapsByRelease, ::testing::Values("1.21.13", "1.23.12", "1.24.13", "local"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '.') c = '_';
                           return name;
                         });

// Deep mode: every probed lookup's bucket depth and probe count against the
// walk the fixture does itself with its map's own hasher.
TEST_P(MapsByRelease, DeepProbesMatchTheFixturesOwnWalk) {
  std::string fixture = kFixtures + "/maps-" + GetParam();
  std::string reference = testing::ScratchDir() + "/reference-" + GetParam() + ".txt";
  std::string probes_path = testing::ScratchDir() + "/probes-" + GetParam() + ".jsonl";
  Recording r;
  {
    std::string out = testing::ScratchDir() + "/deep-" + GetParam() + ".pb.gz";
    CommandResult g = RunCommand({kGolens, "record", "--maps", "deep", "--maps-window", "20ms", "--maps-period",
                                  "200ms", "--maps-out", probes_path, "-o", out, "--", fixture, "-seconds", "3",
                                  "-reference", reference},
                                 60s);
    ASSERT_EQ(g.exit_code, 0) << testing::DescribeResult(g);
    auto profile = pprof::ReadProfileFile(out);
    ASSERT_TRUE(profile.ok()) << profile.error().message;
    r.profile = std::move(profile).value();
    r.path = out;
  }
  // (map, key) -> "depth probes hit"
  std::map<std::pair<std::string, uint64_t>, std::string> expected;
  {
    std::ifstream in(reference);
    std::string addr, hit;
    uint64_t key = 0;
    int depth = 0, probes = 0;
    while (in >> addr >> key >> depth >> probes >> hit) {
      expected[{addr, key}] = std::to_string(depth) + " " + std::to_string(probes) + " " + hit;
    }
  }
  ASSERT_GT(expected.size(), 1000u) << "no reference from the fixture";
  std::ifstream in(probes_path);
  size_t probed = 0, known = 0, agree = 0;
  std::string first_disagreement;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    ++probed;
    auto it = expected.find({j["map"].get<std::string>(), j["key"].get<uint64_t>()});
    if (it == expected.end()) continue;  // another map (the runtime's own)
    ++known;
    std::string got = std::to_string(j["depth"].get<int>()) + " " + std::to_string(j["probes"].get<int>()) + " " +
                      (j["hit"].get<bool>() ? "true" : "false");
    if (got == it->second) {
      ++agree;
    } else if (first_disagreement.empty()) {
      first_disagreement = line + " expected " + it->second;
    }
  }
  ASSERT_GT(known, 500u) << probed << " probed lookups, " << known << " of the fixture's maps";
  EXPECT_GE(agree * 100, known * 95) << agree << " of " << known << "; first: " << first_disagreement;

  // The sites' CPU samples carry the distributions, and golens maps shows them.
  bool labelled = false;
  for (const auto& s : r.profile.samples) labelled |= FindLabel(s, "map_probes_p99") != nullptr;
  EXPECT_TRUE(labelled);
  CommandResult table = RunCommand({kGolens, "maps", r.path}, 30s);
  ASSERT_EQ(table.exit_code, 0) << testing::DescribeResult(table);
  // The lookup sites have probe statistics (a sample may also land in the
  // fixture's map building: mapassign, not probed).
  std::istringstream rows(table.out);
  int lookup_rows = 0;
  for (std::string row; std::getline(rows, row);) {
    if (row.find("main.lookup") == std::string::npos) continue;
    ++lookup_rows;
    EXPECT_EQ(row.find(" - "), std::string::npos) << "a lookup site without probe statistics:\n" << table.out;
  }
  EXPECT_EQ(lookup_rows, 2) << table.out;
}

TEST(Maps, OffLeavesSamplesUnlabelled) {
  Recording r = Record(kFixtures + "/maps-local", {"--maps", "off"}, "off");
  ASSERT_EQ(r.error, "");
  ASSERT_GT(r.profile.samples.size(), 0u);
  for (const auto& s : r.profile.samples) {
    for (const char* key : {"map_len", "map_buckets", "map_load_pct", "map_site"}) {
      EXPECT_EQ(FindLabel(s, key), nullptr) << key;
    }
  }
}

TEST(Maps, BadModeIsAUsageError) {
  CommandResult g = RunCommand({kGolens, "record", "--maps", "sometimes", "--", "/bin/true"}, 30s);
  EXPECT_EQ(g.exit_code, 2) << testing::DescribeResult(g);
  EXPECT_NE(g.err.find("--maps"), std::string::npos) << g.err;
}

// A copy of the fixture whose build info names `version` instead of its own.
std::string WithVersion(const std::string& version) {
  std::string source = kFixtures + "/maps-local";
  std::ifstream in(source, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The release as the fixture's build info and runtime.buildVersion spell it.
  std::smatch m;
  std::string head = bytes.substr(0, std::min<size_t>(bytes.size(), 4 << 20));
  std::regex release(R"(go1\.\d+\.\d+)");
  std::string own;
  for (auto it = std::sregex_iterator(head.begin(), head.end(), release); it != std::sregex_iterator(); ++it) {
    own = (*it)[0];
    break;
  }
  EXPECT_FALSE(own.empty());
  EXPECT_EQ(own.size(), version.size()) << "the replacement must keep the length";
  size_t replaced = 0;
  for (size_t at = bytes.find(own); at != std::string::npos; at = bytes.find(own, at + 1)) {
    bytes.replace(at, own.size(), version);
    ++replaced;
  }
  EXPECT_GT(replaced, 0u);
  std::string path = testing::ScratchDir() + "/maps-" + version;
  std::ofstream(path, std::ios::binary) << bytes;
  chmod(path.c_str(), 0755);
  return path;
}

// An unknown Go release: map statistics off with one warning that says so,
// and the profile is still written.
TEST(Maps, UnknownReleaseTurnsMapsOffWithOneWarning) {
  for (const std::string version : {"go1.99.8", "gox.yy.z"}) {
    SCOPED_TRACE(version);
    std::string fixture = WithVersion(version);
    Recording r = Record(fixture, {}, "unknown-" + version);
    ASSERT_EQ(r.error, "");
    int64_t samples = 0;
    for (const auto& s : r.profile.samples) {
      samples += s.values[0];
      EXPECT_EQ(FindLabel(s, "map_len"), nullptr);
    }
    EXPECT_GT(samples, 0);
    size_t warnings = 0;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("map statistics") != std::string::npos) {
        ++warnings;
        EXPECT_NE(line.find("warning"), std::string::npos) << line;
      }
    }
    EXPECT_EQ(warnings, 1u) << r.err;
  }
}

}  // namespace
}  // namespace golens
