// End-to-end tests of `golens agent`: continuous profiling into the store
// while Go services start, restart and exit; the store read back through
// `golens store list|export` and the store library; faults (kill -9 of the
// agent mid-write, then a restart on the same store; a full disk); a target
// in its own PID and mount namespace and in a container cgroup.
//
// Needs root (BPF, perf events, mount namespaces, cgroups). A test that
// cannot run fails and says why; nothing skips.
//
// The CLI contract these tests drive:
//   golens agent --store DIR [--pid P ... | --exe-name N ... | --all-go] [--interval 10s] [--hz 19]
//                [--retention 168h] [--spans] [--service S] [--push URL] [--push-header 'K: V' ...]
//   - runs until SIGINT/SIGTERM, then stores the interval in flight and exits 0;
//   - one stored profile per process per interval, with service (GOLENS_SERVICE, else
//     OTEL_SERVICE_NAME, else the executable's name), build ID, Go version, host, pid, container id;
//   golens store list --store DIR;  golens store export --store DIR --service S [--build-id B] -o F
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pprof/profile.h"
#include "pprof/profile_io.h"
#include "pprof/store/store.h"
#include "symbolizer/symbolizer.h"
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

std::string MakeDir(const std::string& name) {
  std::string dir = testing::ScratchDir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void RequireRoot() { ASSERT_EQ(::geteuid(), 0u) << "the agent tests need root (BPF, perf events); run make test as root"; }

std::string BuildIdOf(const std::string& path) {
  auto binary = symbolizer::Binary::Open(path);
  return binary.ok() ? (*binary)->build_id() : "";
}

// The agent as a child, stopped with SIGTERM (and checked) by Stop().
class AgentProcess {
 public:
  explicit AgentProcess(std::vector<std::string> args) {
    std::vector<std::string> argv{kGolens, "agent"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Subprocess>(argv);
  }
  bool WaitStarted() { return process_->WaitForOutput("agent: profiling", 60s, /*on_stderr=*/true); }
  // SIGTERM; returns the exit code (nullopt: it did not exit in time).
  std::optional<int> Stop() {
    process_->Kill(SIGTERM);
    return process_->Wait(30s);
  }
  Subprocess& process() { return *process_; }

 private:
  std::unique_ptr<Subprocess> process_;
};

std::vector<std::string> Env(const std::string& assignment, const std::string& binary, double seconds) {
  return {"/usr/bin/env", assignment, binary, "-seconds", std::to_string(seconds)};
}

// Two builds of one service and one other service start, run, restart and
// exit while the agent runs; the store holds the right services, builds,
// pids and time ranges, and each service's merged profile shows the fixture's
// work ratio, as `golens record` of the same run does.
TEST(Agent, ServicesBuildsRestartsAndRecordAgreement) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-services");
  const std::string v1 = Fixture("agentsvc-v1"), v2 = Fixture("agentsvc-v2"), other = Fixture("agentsvc-other");
  const std::string v1_build = BuildIdOf(v1), v2_build = BuildIdOf(v2);
  ASSERT_FALSE(v1_build.empty());
  ASSERT_NE(v1_build, v2_build) << "the two builds must differ";

  auto t0 = std::chrono::system_clock::now();
  AgentProcess agent({"--store", store_dir, "--exe-name", "agentsvc-v1", "--exe-name", "agentsvc-v2",
                      "--exe-name", "agentsvc-other", "--interval", "2s", "--hz", "299"});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();

  // checkout v1 and inventory (first run) together; inventory is also
  // recorded by `golens record` for the agreement check.
  // inventory's first run is launched by `golens record -- CMD`, so both
  // see it from its exec on.
  const std::string recorded = store_dir + "/../inventory-record.pb.gz";
  Subprocess checkout_v1(Env("GOLENS_SERVICE=checkout", v1, 7));
  std::vector<std::string> launch{kGolens, "record", "--hz", "299", "-o", recorded, "--"};
  for (const std::string& a : Env("OTEL_SERVICE_NAME=inventory", other, 7)) launch.push_back(a);
  Subprocess record(launch);
  ASSERT_TRUE(checkout_v1.Wait(20s).has_value());
  ASSERT_EQ(record.Wait(30s), std::optional<int>(0)) << record.err();
  auto record_profile = pprof::ReadProfileFile(recorded);
  ASSERT_TRUE(record_profile.ok()) << record_profile.error().message;
  int64_t inventory_1_pid = 0;
  for (const std::string& c : record_profile->comments) {
    if (c.find("agentsvc-other") != std::string::npos) std::sscanf(c.c_str(), "golens record: pid %ld", &inventory_1_pid);
  }
  ASSERT_GT(inventory_1_pid, 0) << "no process comment in the recorded profile";
  // The deploy: checkout v2 replaces v1; inventory restarts (new pid).
  Subprocess checkout_v2(Env("GOLENS_SERVICE=checkout", v2, 6));
  Subprocess inventory_2(Env("OTEL_SERVICE_NAME=inventory", other, 6));
  ASSERT_TRUE(checkout_v2.Wait(20s).has_value());
  ASSERT_TRUE(inventory_2.Wait(20s).has_value());
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  auto t1 = std::chrono::system_clock::now();
  EXPECT_NE(agent.process().err().find("profiles stored"), std::string::npos) << agent.process().err();

  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto services = (*store)->ListServices();
  ASSERT_TRUE(services.ok()) << services.error().message;
  std::map<std::string, std::vector<store::BuildInfo>> by_service;
  for (const auto& s : *services) by_service[s.service] = s.builds;
  ASSERT_EQ(by_service.size(), 2u) << "services: checkout and inventory only";
  ASSERT_EQ(by_service["checkout"].size(), 2u);
  EXPECT_EQ(by_service["checkout"][0].build_id, v1_build) << "v1 was first seen first";
  EXPECT_EQ(by_service["checkout"][1].build_id, v2_build);
  EXPECT_LE(by_service["checkout"][0].last_seen_ns, by_service["checkout"][1].first_seen_ns + 2'500'000'000LL)
      << "v2 started after v1 ended (interval granularity 2 s)";
  ASSERT_EQ(by_service["inventory"].size(), 1u);
  const int64_t t0_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count();
  const int64_t t1_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1.time_since_epoch()).count();
  for (const auto& [service, builds] : by_service) {
    for (const auto& b : builds) {
      EXPECT_GE(b.first_seen_ns, t0_ns - 2'000'000'000LL) << service;
      EXPECT_LE(b.last_seen_ns, t1_ns + 1'000'000'000LL) << service;
      EXPECT_FALSE(b.go_version.empty()) << service;
    }
  }
  store::Selection inventory;
  inventory.service = "inventory";
  auto metas = (*store)->Select(inventory);
  ASSERT_TRUE(metas.ok());
  std::set<int64_t> pids;
  for (const auto& m : *metas) {
    pids.insert(m.pid);
    EXPECT_EQ(m.exe_path, other);
    EXPECT_FALSE(m.host.empty());
    EXPECT_LT(m.start_ns, m.end_ns);
  }
  EXPECT_EQ(pids, (std::set<int64_t>{inventory_1_pid, inventory_2.pid()})) << "the restart is a second process";

  // The CLI export of each checkout build: heavy:light is 3:1 for v1, 6:1 for v2.
  for (const auto& [build, ratio] : std::vector<std::pair<std::string, double>>{{v1_build, 3.0}, {v2_build, 6.0}}) {
    std::string out = store_dir + "/../checkout-" + build.substr(0, 8) + ".pb.gz";
    CommandResult r = RunCommand({kGolens, "store", "export", "--store", store_dir, "--service", "checkout",
                                  "--build-id", build, "-o", out});
    ASSERT_EQ(r.exit_code, 0) << testing::DescribeResult(r);
    auto merged = pprof::ReadProfileFile(out);
    ASSERT_TRUE(merged.ok()) << merged.error().message;
    auto inclusive = testing::InclusiveByFunction(*merged);
    ASSERT_GT(inclusive["main.light"], 40) << "too few samples to judge";
    double measured = static_cast<double>(inclusive["main.heavy"]) / inclusive["main.light"];
    EXPECT_NEAR(measured, ratio, ratio * 0.25) << "build " << build;
    CommandResult top = RunCommand({kGo, "tool", "pprof", "-top", out});
    EXPECT_EQ(top.exit_code, 0) << testing::DescribeResult(top);
    EXPECT_NE(top.out.find("main.heavy"), std::string::npos) << top.out;
  }

  // inventory's first run as the agent stored it vs `golens record` of it.
  store::Selection first_run = inventory;
  auto all = (*store)->Select(first_run);
  ASSERT_TRUE(all.ok());
  int64_t agent_total = 0;
  std::map<std::string, int64_t> agent_inclusive;
  for (const auto& m : *all) {
    if (m.pid != inventory_1_pid) continue;
    auto p = (*store)->Load(m.id);
    ASSERT_TRUE(p.ok()) << p.error().message;
    agent_total += testing::SampleTotal(*p);
    for (const auto& [f, n] : testing::InclusiveByFunction(*p)) agent_inclusive[f] += n;
  }
  int64_t record_total = testing::SampleTotal(*record_profile);
  ASSERT_GT(record_total, 100);
  // The agent attaches a moment after the exec (its poll, ~20 ms).
  EXPECT_NEAR(static_cast<double>(agent_total), static_cast<double>(record_total), 0.2 * record_total);
  auto record_inclusive = testing::InclusiveByFunction(*record_profile);
  for (const char* f : {"main.heavy", "main.light"}) {
    double agent_share = static_cast<double>(agent_inclusive[f]) / agent_total;
    double record_share = static_cast<double>(record_inclusive[f]) / record_total;
    EXPECT_NEAR(agent_share, record_share, 0.06) << f;
  }

  CommandResult list = RunCommand({kGolens, "store", "list", "--store", store_dir});
  ASSERT_EQ(list.exit_code, 0) << testing::DescribeResult(list);
  EXPECT_NE(list.out.find("checkout"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(v2_build), std::string::npos) << list.out;
}

// --all-go: a Go program started after the agent is found through its exec;
// a non-Go program (sleep) is not profiled.
TEST(Agent, AllGoFindsNewGoProgramsOnly) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-allgo");
  AgentProcess agent({"--store", store_dir, "--all-go", "--interval", "1s", "--hz", "99"});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  Subprocess go_program(Env("GOLENS_SERVICE=allgo-found", Fixture("agentsvc-other"), 3));
  Subprocess sleeper({"/bin/sleep", "3"});
  ASSERT_TRUE(go_program.Wait(20s).has_value());
  ASSERT_TRUE(sleeper.Wait(20s).has_value());
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();

  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  store::Selection all;
  auto metas = (*store)->Select(all);
  ASSERT_TRUE(metas.ok());
  bool found = false;
  for (const auto& m : *metas) {
    EXPECT_NE(m.pid, sleeper.pid()) << "sleep is not a Go program";
    EXPECT_NE(m.exe_path, "/bin/sleep");
    if (m.pid == go_program.pid()) {
      found = true;
      EXPECT_EQ(m.service, "allgo-found");
    }
  }
  EXPECT_TRUE(found) << "the Go program started after the agent was not profiled";
}

// kill -9 of the agent while it writes, then a restart on the same store:
// every visible profile loads, nothing torn, and the second run adds to it.
TEST(Agent, KillNineThenRestart) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-kill9");
  Subprocess target(Env("GOLENS_SERVICE=kill9", Fixture("agentsvc-other"), 20));
  std::mt19937 rng(7);
  int64_t before = 0;
  for (int round = 0; round < 3; ++round) {
    AgentProcess agent({"--store", store_dir, "--pid", std::to_string(target.pid()), "--interval", "1s", "--hz",
                        "199"});
    ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 1000));
    agent.process().Kill(SIGKILL);
    ASSERT_TRUE(agent.process().Wait(10s).has_value());

    store::StoreOptions ro;
    ro.read_only = true;
    auto store = store::Store::Open(store_dir, ro);
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.error().message;
    store::Selection s;
    s.service = "kill9";
    auto merged = (*store)->Merge(s);
    ASSERT_TRUE(merged.ok()) << merged.error().message;
    EXPECT_EQ(merged->skipped_corrupt, 0) << "a torn profile is visible after kill -9";
    EXPECT_GT(merged->profiles, before) << "round " << round << " stored nothing";
    before = merged->profiles;
  }
  // A clean stop after the kills still works on the same store.
  AgentProcess last({"--store", store_dir, "--pid", std::to_string(target.pid()), "--interval", "1s"});
  ASSERT_TRUE(last.WaitStarted()) << last.process().err();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(last.Stop(), std::optional<int>(0)) << last.process().err();
}

// --retention: a restart deletes what ended longer ago than the retention.
TEST(Agent, RetentionDeletesOldProfiles) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-retention");
  // Long enough for two agent starts on a loaded machine (BPF loading can
  // take seconds); killed at the end.
  Subprocess target(Env("GOLENS_SERVICE=retained", Fixture("agentsvc-other"), 60));
  {
    AgentProcess agent({"--store", store_dir, "--pid", std::to_string(target.pid()), "--interval", "1s"});
    ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
    std::this_thread::sleep_for(2500ms);
    ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  }
  const int64_t first_run_end =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(3s);
  AgentProcess agent({"--store", store_dir, "--pid", std::to_string(target.pid()), "--interval", "1s", "--retention",
                      "2s"});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  store::Selection s;
  s.service = "retained";
  auto metas = (*store)->Select(s);
  ASSERT_TRUE(metas.ok());
  ASSERT_FALSE(metas->empty()) << "the second run stored nothing";
  for (const auto& m : *metas) EXPECT_GT(m.end_ns, first_run_end) << "a profile of the first run survived retention";
  target.Kill(SIGKILL);
  target.Wait(10s);
}

// The fixture's own walk of its full map (-reference): probes per key, for
// the keys its lookups cycle through (all of them, equally often).
std::map<int, int> ReferenceProbesOfMap(const std::string& reference, const std::string& fixture_stderr,
                                        const std::string& map_name) {
  std::map<int, int> probes;
  size_t line = fixture_stderr.find("map " + map_name + " ");
  if (line == std::string::npos) return probes;
  size_t at = fixture_stderr.find("addr=", line);
  if (at == std::string::npos) return probes;
  std::string addr = fixture_stderr.substr(at + 5, fixture_stderr.find_first_of(" \n", at) - at - 5);
  std::ifstream in(reference);
  std::string map, hit;
  uint64_t key = 0;
  int depth = 0, n = 0;
  while (in >> map >> key >> depth >> n >> hit) {
    if (map == addr) ++probes[n];
  }
  return probes;
}

// --metrics-listen: a real Prometheus (Debian's package) scrapes the agent;
// its query API returns the agent's health series, the map sites of a
// fixture with maps of known sizes, and deep mode's probe-count histogram of
// a site, whose mean and shape match the fixture's own walk of that map;
// promtool accepts the exposition.
TEST(Agent, PrometheusScrapesHealthMapSitesAndProbeHistograms) {
  RequireRoot();
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/prometheus")) << "Debian's prometheus package is missing (make deps installs it)";
  const std::string store_dir = MakeDir("agent-metrics");
  const int metrics_port = testing::FreeLoopbackPort();
  AgentProcess agent({"--store", store_dir, "--exe-name", "maps-local", "--interval", "1s", "--hz", "199",
                      "--maps", "deep", "--maps-window", "20ms", "--maps-period", "250ms", "--metrics-listen",
                      "127.0.0.1:" + std::to_string(metrics_port)});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  const std::string prom_dir = MakeDir("prometheus");
  const int prom_port = testing::FreeLoopbackPort();
  {
    std::ofstream config(prom_dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
              "  - job_name: golens\n    static_configs:\n      - targets: ['127.0.0.1:" << metrics_port << "']\n";
  }
  Subprocess prometheus({"/usr/bin/prometheus", "--config.file=" + prom_dir + "/prometheus.yml",
                         "--storage.tsdb.path=" + prom_dir + "/data",
                         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
  // What Prometheus scraped, through its own query API.
  auto query = [&](const std::string& q) {
    CommandResult r = RunCommand({"/usr/bin/curl", "-sS", "--max-time", "5", "-G",
                                  "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/query",
                                  "--data-urlencode", "query=" + q});
    return r.out;
  };
  // The fixture starts once Prometheus scrapes the agent (it can take
  // seconds to start): rates of what the fixture does are then not zero.
  for (int i = 0; i < 60 && query("up{job=\"golens\"} == 1").find("\"value\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(500ms);
  }
  const std::string reference = prom_dir + "/reference.txt";
  Subprocess fixture({Fixture("maps-local"), "-seconds", "6", "-reference", reference});
  ASSERT_TRUE(fixture.Wait(30s).has_value());
  const std::map<int, int> expected = ReferenceProbesOfMap(reference, fixture.err(), "full");
  ASSERT_FALSE(expected.empty()) << "no reference walk from the fixture: " << fixture.err();
  std::string sites, stored;
  for (int i = 0; i < 60; ++i) {
    sites = query("golens_map_site_entries{service=\"maps-local\"}");
    stored = query("golens_agent_profiles_stored_total");
    if (sites.find("lookupFull") != std::string::npos && sites.find("lookupGrown") != std::string::npos &&
        stored.find("\"value\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_NE(stored.find("\"job\":\"golens\""), std::string::npos) << stored;
  ASSERT_NE(sites.find("main.lookupFull"), std::string::npos) << sites << "\nprometheus: " << prometheus.err();
  ASSERT_NE(sites.find("main.lookupGrown"), std::string::npos) << sites;
  std::string load = query("golens_map_site_load_ratio{service=\"maps-local\"}");
  EXPECT_NE(load.find("lookupFull"), std::string::npos) << load;

  // Deep mode's histogram of the lookupFull site, as Prometheus computes with
  // it: the mean probe count, the share of lookups done in one probe, and a
  // quantile. The windows catch stretches of the fixture's key cycle, so the
  // probed lookups are spread over its keys as the reference's keys are.
  const std::string site = "service=\"maps-local\",site=~\"main.lookupFull .*\"";
  auto number = [&](const std::string& q) {
    std::string r = query(q);
    size_t v = r.find("\"value\":[");
    if (v == std::string::npos) return -1.0;
    size_t quote = r.find(",\"", v);
    return quote == std::string::npos ? -1.0 : std::strtod(r.c_str() + quote + 2, nullptr);
  };
  double count = -1;
  for (int i = 0; i < 30 && count < 2000; ++i) {
    count = number("sum(golens_map_lookup_probes_count{" + site + "})");
    if (count < 2000) std::this_thread::sleep_for(500ms);
  }
  ASSERT_GE(count, 2000) << "probed lookups of lookupFull in Prometheus: "
                         << query("golens_map_lookup_probes_count") << "\nagent: " << agent.process().err();
  double mean = number("sum(golens_map_lookup_probes_sum{" + site + "}) / sum(golens_map_lookup_probes_count{" +
                       site + "})");
  double one = number("sum(golens_map_lookup_probes_bucket{" + site + ",le=\"1\"}) / sum(golens_map_lookup_probes_count{" +
                      site + "})");
  double keys = 0, probes_sum = 0, probes_one = 0;
  for (const auto& [probes, n] : expected) {
    keys += n;
    probes_sum += static_cast<double>(probes) * n;
    if (probes <= 1) probes_one += n;
  }
  double expected_mean = probes_sum / keys;
  double expected_one = probes_one / keys;
  // Quantiles through histogram_quantile, where sampling noise cannot move
  // them across a bucket bound: the median is in the first bucket (most
  // lookups take one probe), p99.9 above it and at most the longest walk of
  // the reference (buckets are unit-wide up to 6; Prometheus interpolates).
  const int longest = expected.rbegin()->first;
  ASSERT_GE(longest, 2) << "the fixture's full map has no lookup of more than one probe";
  ASSERT_LT(expected_one, 0.99);
  auto quantile = [&](double q) {
    return number("histogram_quantile(" + std::to_string(q) + ", sum by (le) (golens_map_lookup_probes_bucket{" +
                  site + "}))");
  };
  const double p50 = quantile(0.5), p999 = quantile(0.999);
  std::printf("lookupFull probes: Prometheus mean %.3f, one-probe share %.3f, p50 %.2f, p99.9 %.2f over %.0f lookups; "
              "the fixture's walk: mean %.3f, one-probe share %.3f, longest %d over %.0f keys\n",
              mean, one, p50, p999, count, expected_mean, expected_one, longest, keys);
  EXPECT_NEAR(mean, expected_mean, 0.1 * expected_mean);
  EXPECT_NEAR(one, expected_one, 0.05);
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, 1);
  EXPECT_GT(p999, 1);
  EXPECT_LE(p999, longest <= 6 ? longest : 2 * longest);

  // Every query of the Grafana dashboard we ship runs on this Prometheus;
  // the map panels and the health panels show data.
  {
    std::ifstream in(std::string(GOLENS_SOURCE_DIR) + "/web/grafana/golens-agent.json");
    ASSERT_TRUE(in) << "web/grafana/golens-agent.json is missing";
    nlohmann::json dashboard = nlohmann::json::parse(in);
    int queries = 0;
    for (const auto& panel : dashboard["panels"]) {
      if (!panel.contains("targets")) continue;
      for (const auto& target : panel["targets"]) {
        std::string expr = target["expr"].get<std::string>();
        for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
                 {"$__rate_interval", "1m"}, {"$service", ".*"}, {"$job", ".*"}}) {
          for (size_t at; (at = expr.find(from)) != std::string::npos;) expr.replace(at, from.size(), to);
        }
        ++queries;
        const bool must_show = expr.find("golens_map_") != std::string::npos ||
                               expr.find("golens_agent_targets") != std::string::npos ||
                               expr.find("golens_bpf_events_total") != std::string::npos;
        nlohmann::json answer;
        // A rate needs two scrapes of a series: new series get a few seconds.
        for (int attempt = 0; attempt < 20; ++attempt) {
          answer = nlohmann::json::parse(query(expr), nullptr, false);
          if (!must_show || answer.is_discarded() || !answer["data"]["result"].empty()) break;
          std::this_thread::sleep_for(500ms);
        }
        ASSERT_FALSE(answer.is_discarded()) << expr;
        EXPECT_EQ(answer["status"], "success") << panel["title"] << ": " << expr << "\n" << answer.dump();
        if (must_show) {
          EXPECT_FALSE(answer["data"]["result"].empty()) << panel["title"] << ": no data for " << expr;
        }
      }
    }
    EXPECT_GE(queries, 15) << "the dashboard lost its panels";
  }

  // The exposition itself passes promtool.
  CommandResult scrape =
      RunCommand({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
  ASSERT_EQ(scrape.exit_code, 0);
  {
    std::ofstream(prom_dir + "/scrape.txt") << scrape.out;
  }
  CommandResult check = RunCommand({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + prom_dir + "/scrape.txt"});
  EXPECT_EQ(check.exit_code, 0) << testing::DescribeResult(check);
  EXPECT_NE(scrape.out.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(scrape.out.find("golens_bpf_events_total{counter=\"samples\"}"), std::string::npos);
  EXPECT_NE(scrape.out.find("# TYPE golens_map_lookup_bucket_depth histogram"), std::string::npos);
  prometheus.Kill(SIGTERM);
  prometheus.Wait(10s);
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
}

// A metric's value in a Prometheus text exposition (-1 when absent).
double MetricValue(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::strtod(line.c_str() + name.size() + 1, nullptr);
  }
  return -1;
}

// Nanoseconds the golens BPF programs have run (bpftool's view, with the
// kernel's statistics on while the agent runs).
uint64_t GolensBpfRunTime() {
  CommandResult r = RunCommand({"/usr/sbin/bpftool", "prog", "show", "--json"});
  uint64_t total = 0;
  size_t pos = 0;
  // Each program object: "name":"golens_...", ... "run_time_ns":N
  while ((pos = r.out.find("\"name\":\"golens_", pos)) != std::string::npos) {
    size_t end = r.out.find('}', pos);
    size_t run = r.out.find("\"run_time_ns\":", pos);
    if (run != std::string::npos && run < end) total += std::strtoull(r.out.c_str() + run + 14, nullptr, 10);
    pos = end == std::string::npos ? r.out.size() : end;
  }
  return total;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double total = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i >= 14) total += std::strtod(f.c_str(), nullptr) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

// --max-overhead 0.5% with 20 busy Go programs, starting at 999 Hz: the
// agent lowers its rate until its measured cost is under the budget within a
// minute, and an independent measurement (its CPU from /proc, its BPF
// programs' run time from bpftool) agrees.
TEST(Agent, OverheadBudgetSettlesWithTwentyBusyTargets) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-budget");
  const int port = testing::FreeLoopbackPort();
  AgentProcess agent({"--store", store_dir, "--exe-name", "agentsvc-other", "--interval", "3s", "--hz", "999",
                      "--max-overhead", "0.5%", "--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  std::vector<std::unique_ptr<Subprocess>> targets;
  for (int i = 0; i < 20; ++i) {
    targets.push_back(std::make_unique<Subprocess>(Env("GOLENS_SERVICE=budget", Fixture("agentsvc-other"), 75)));
  }
  auto scrape = [&] {
    return RunCommand({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}).out;
  };
  auto t0 = std::chrono::steady_clock::now();
  double overhead = -1;
  int under = 0;
  while (std::chrono::steady_clock::now() - t0 < 60s && under < 2) {
    std::this_thread::sleep_for(3s);
    std::string m = scrape();
    overhead = MetricValue(m, "golens_agent_overhead_ratio");
    under = overhead >= 0 && overhead <= 0.005 ? under + 1 : 0;
  }
  const double settle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_GE(under, 2) << "not under the budget after 60 s: " << overhead << "\n" << agent.process().err();
  std::string m = scrape();
  EXPECT_LT(MetricValue(m, "golens_agent_sampling_hz"), 999) << "it never lowered the rate";
  EXPECT_GE(MetricValue(m, "golens_agent_budget_changes_total{direction=\"down\"}"), 1);
  EXPECT_NE(agent.process().err().find("over the budget"), std::string::npos) << agent.process().err();

  // Independently, over 9 s at the settled rate.
  const double cpus = static_cast<double>(std::thread::hardware_concurrency());
  uint64_t bpf0 = GolensBpfRunTime();
  double cpu0 = ProcessCpuSeconds(agent.process().pid());
  auto w0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(9s);
  uint64_t bpf1 = GolensBpfRunTime();
  double cpu1 = ProcessCpuSeconds(agent.process().pid());
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  double measured = (static_cast<double>(bpf1 - bpf0) / 1e9 + (cpu1 - cpu0)) / (wall * cpus);
  EXPECT_GT(bpf1, bpf0) << "bpftool saw no BPF run time: are the statistics on?";
  EXPECT_LT(measured, 0.005 * 1.25) << "measured from outside: " << measured << " (settled after " << settle_s << " s)";
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
}

// A budget no setting can meet, with deep map mode on: the rate goes down to
// 1 Hz first, then the lookup probes stop (BPF's probe counter stands still
// while the fixture keeps looking up), and the agent says the rest of its
// cost does not depend on the rate.
TEST(Agent, OverheadBudgetTurnsMapProbesOffAfterTheRate) {
  RequireRoot();
  const std::string store_dir = MakeDir("agent-budget-maps");
  const int port = testing::FreeLoopbackPort();
  Subprocess fixture({Fixture("maps-local"), "-seconds", "40"});
  AgentProcess agent({"--store", store_dir, "--exe-name", "maps-local", "--interval", "1s", "--hz", "19", "--maps",
                      "deep", "--maps-window", "50ms", "--maps-period", "200ms", "--max-overhead", "0.001%",
                      "--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  auto scrape = [&] {
    return RunCommand({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}).out;
  };
  const std::string probe_counter = "golens_bpf_events_total{counter=\"map_probe\"}";
  double probes_while_on = -1, hz = -1, active = -1;
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 30s) {
    std::this_thread::sleep_for(500ms);
    std::string m = scrape();
    active = MetricValue(m, "golens_agent_map_probes_active");
    hz = MetricValue(m, "golens_agent_sampling_hz");
    if (active == 1) probes_while_on = MetricValue(m, probe_counter);
    if (active == 0) break;
  }
  ASSERT_EQ(active, 0) << "map probes still on after 30 s:\n" << agent.process().err();
  EXPECT_EQ(hz, 1) << "map probes went before the rate was at its lowest";
  EXPECT_GT(probes_while_on, 0) << "deep mode probed nothing while it was on";
  std::this_thread::sleep_for(500ms);  // the window in progress ends as planned
  double before = MetricValue(scrape(), probe_counter);
  std::this_thread::sleep_for(2s);
  double after = MetricValue(scrape(), probe_counter);
  EXPECT_EQ(before, after) << "lookups still probed with map probes off";
  ASSERT_FALSE(fixture.Wait(0s).has_value()) << "the fixture ended early: the check above saw no lookups";
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  const std::string log = agent.process().err();
  EXPECT_NE(log.find("at 1 Hz: map lookup probes off"), std::string::npos) << log;
  EXPECT_NE(log.find("does not depend on the sampling rate"), std::string::npos) << log;
  fixture.Kill(SIGKILL);
  fixture.Wait(10s);
}

// A full disk: one clear error, intervals dropped (counted), the agent keeps
// running and writes again once space returns.
TEST(Agent, FullDiskDropsThenResumes) {
  RequireRoot();
  // A private mount namespace for this test process (the agent inherits it).
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  const std::string dir = MakeDir("agent-fulldisk");
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=2m"), 0) << std::strerror(errno);
  const std::string store_dir = dir + "/store";
  Subprocess target(Env("GOLENS_SERVICE=fulldisk", Fixture("agentsvc-other"), 30));
  AgentProcess agent({"--store", store_dir, "--pid", std::to_string(target.pid()), "--interval", "1s", "--hz", "499"});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  std::this_thread::sleep_for(2500ms);
  // Fill the filesystem.
  const std::string filler = dir + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    std::string block(64 * 1024, 'x');
    while (out.write(block.data(), block.size())) {
    }
  }
  ASSERT_TRUE(agent.process().WaitForOutput("dropping intervals", 15s, true)) << agent.process().err();
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(std::filesystem::remove(filler));
  ASSERT_TRUE(agent.process().WaitForOutput("writable again", 15s, true)) << agent.process().err();
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  const std::string err = agent.process().err();
  size_t first = err.find("cannot store profiles");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("cannot store profiles", first + 1), std::string::npos) << "the error is logged once: " << err;
  EXPECT_NE(err.find("dropped (store not writable)"), std::string::npos) << err;

  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  store::Selection s;
  s.service = "fulldisk";
  auto merged = (*store)->Merge(s);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->skipped_corrupt, 0);
  EXPECT_GE(merged->profiles, 3);
  ::umount2(dir.c_str(), MNT_DETACH);
}

// A target in its own PID and mount namespace (its binary visible only in
// that mount namespace) inside a container-like cgroup: profiled with its
// host pid, its container id, its symbols.
TEST(Agent, ContainerTarget) {
  RequireRoot();
  std::string id;
  {
    std::mt19937_64 rng(std::random_device{}());
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) id += hex[rng() % 16];
  }
  const std::string cgroup_root = "/sys/fs/cgroup/unified";
  ASSERT_TRUE(std::filesystem::exists(cgroup_root + "/cgroup.procs")) << "no cgroup v2 hierarchy at " << cgroup_root;
  const std::string cgroup = cgroup_root + "/golens-test-" + std::to_string(::getpid()) + "/docker-" + id + ".scope";
  std::filesystem::create_directories(cgroup);
  const std::string store_dir = MakeDir("agent-container");
  const std::string image = MakeDir("agent-container-image");
  std::filesystem::copy_file(Fixture("agentsvc-other"), image + "/app", std::filesystem::copy_options::overwrite_existing);

  AgentProcess agent({"--store", store_dir, "--exe-name", "app", "--interval", "1s", "--hz", "99"});
  ASSERT_TRUE(agent.WaitStarted()) << agent.process().err();
  // The "container": new PID + mount namespaces; the binary is moved to a
  // tmpfs mounted only inside, so the host path does not exist.
  std::string script = "echo $$ > " + cgroup + "/cgroup.procs && mkdir -p /run/golens-ct && mount -t tmpfs tmpfs "
                       "/run/golens-ct && cp " + image + "/app /run/golens-ct/app && rm " + image +
                       "/app && exec env GOLENS_SERVICE=contained /run/golens-ct/app -seconds 4";
  Subprocess container({"/usr/bin/unshare", "--pid", "--fork", "--mount", "--mount-proc", "--", "/bin/sh", "-c", script});
  ASSERT_TRUE(container.Wait(30s).has_value()) << container.err();
  EXPECT_FALSE(std::filesystem::exists("/run/golens-ct/app")) << "the binary must be visible only in the container";
  ASSERT_EQ(agent.Stop(), std::optional<int>(0)) << agent.process().err();
  std::filesystem::remove(cgroup);
  std::filesystem::remove(std::filesystem::path(cgroup).parent_path());

  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  store::Selection s;
  s.service = "contained";
  auto metas = (*store)->Select(s);
  ASSERT_TRUE(metas.ok());
  ASSERT_FALSE(metas->empty()) << "the contained process was not profiled; agent: " << agent.process().err();
  for (const auto& m : *metas) {
    EXPECT_EQ(m.container_id, id);
    EXPECT_EQ(m.exe_path, "/run/golens-ct/app") << "the path as the container sees it";
    EXPECT_GT(m.pid, 1) << "the host pid, not the namespace's pid 1";
  }
  auto merged = (*store)->Merge(s);
  ASSERT_TRUE(merged.ok());
  auto inclusive = testing::InclusiveByFunction(merged->profile);
  EXPECT_GT(inclusive["main.heavy"], 0) << "symbols of a binary visible only inside the container";
}

}  // namespace
}  // namespace golens
