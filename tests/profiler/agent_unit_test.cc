// The agent's parts that need no BPF: process identity from /proc (real
// child processes with their own environments), container ids from cgroup
// files as Docker, containerd, CRI-O and podman write them, time arguments,
// Go program detection on real binaries, and the push queue against a real
// closed port (bounded, counted, never blocking).
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "profiler/agent_metrics.h"
#include "profiler/overhead_budget.h"
#include "profiler/process_identity.h"
#include "profiler/pyroscope_pusher.h"
#include "profiler/target_discovery.h"
#include "profiler/base/wall_time.h"
#include "tests/profiler/e2e_util.h"

namespace golens::profiler {
namespace {

using namespace std::chrono_literals;

const std::string kFixtures = GOLENS_FIXTURES;

// A child that runs `path` with `env` until killed.
class Child {
 public:
  Child(const std::string& path, std::vector<std::string> args, std::vector<std::string> env) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv{const_cast<char*>(path.c_str())};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(path.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    // Until the exec is done /proc/PID/exe is the test binary.
    for (int i = 0; i < 200; ++i) {
      char buf[4096];
      ssize_t n = ::readlink(("/proc/" + std::to_string(pid_) + "/exe").c_str(), buf, sizeof buf);
      if (n > 0 && std::string(buf, n) == std::filesystem::canonical(path).string()) break;
      std::this_thread::sleep_for(5ms);
    }
  }
  ~Child() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(ProcessIdentity, ServiceFromEnvironmentThenExecutableName) {
  Child named("/bin/sleep", {"30"}, {"GOLENS_SERVICE=payments", "OTEL_SERVICE_NAME=ignored"});
  EXPECT_EQ(ReadProcessIdentity(named.pid(), "/bin/sleep").service, "payments");
  Child otel("/bin/sleep", {"30"}, {"OTEL_SERVICE_NAME=ledger"});
  EXPECT_EQ(ReadProcessIdentity(otel.pid(), "/bin/sleep").service, "ledger");
  Child plain("/bin/sleep", {"30"}, {"PATH=/bin"});
  EXPECT_EQ(ReadProcessIdentity(plain.pid(), "/usr/local/bin/api-server (deleted)").service, "api-server");
  EXPECT_EQ(ProcessEnvironmentValue(plain.pid(), "PATH"), std::optional<std::string>("/bin"));
  EXPECT_EQ(ProcessEnvironmentValue(plain.pid(), "PAT"), std::nullopt);
  EXPECT_EQ(ReadProcessIdentity(plain.pid(), "/bin/sleep").container_id, "") << "this test does not run in a container";
}

TEST(ProcessIdentity, ContainerIdFromCgroupFiles) {
  const std::string id = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";
  EXPECT_EQ(ContainerIdFromCgroup("0::/system.slice/docker-" + id + ".scope\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("12:memory:/docker/" + id + "\n11:cpu:/docker/" + id + "\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
                                  "cri-containerd-" + id + ".scope\n"),
            id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/machine.slice/libpod-" + id + ".scope/container\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/kubepods/besteffort/pod7/crio-" + id + "\n"), id);
  EXPECT_EQ(ContainerIdFromCgroup("0::/user.slice/user-1000.slice/session-2.scope\n"), "");
  EXPECT_EQ(ContainerIdFromCgroup("0::/\n"), "");
  EXPECT_EQ(ContainerIdFromCgroup("garbage without colons\n::\n"), "");
  EXPECT_EQ(ContainerIdFromCgroup("0::/docker/" + id.substr(0, 63) + "X\n"), "") << "not hex";
}

TEST(WallTime, UnixRfc3339AndRelative) {
  const int64_t now = 1764662400LL * 1000000000;
  EXPECT_EQ(ParseWallTime("1764662400", now).value(), 1764662400LL * 1000000000);
  EXPECT_EQ(ParseWallTime("2025-12-02T08:00:00Z", now).value(), 1764662400LL * 1000000000);
  EXPECT_EQ(ParseWallTime("2025-12-02T09:00:00.5+01:00", now).value(), 1764662400LL * 1000000000 + 500000000);
  EXPECT_EQ(ParseWallTime("now", now).value(), now);
  EXPECT_EQ(ParseWallTime("now-1h", now).value(), now - 3600LL * 1000000000);
  for (const char* bad : {"", "yesterday", "2025-12-02", "2025-12-02T08:00:00", "2025-13-02T08:00:00Z",
                          "now-", "now+1h", "1e9", "12:00"}) {
    auto r = ParseWallTime(bad, now);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST(TargetDiscovery, GoProgramsByBuildInfoAndNamesByExecutable) {
  Child go(kFixtures + "/agentsvc-other", {"-seconds", "30"}, {});
  Child sleeper("/bin/sleep", {"30"}, {});
  TargetDiscovery all_go(TargetRules{.all_go = true});
  EXPECT_TRUE(all_go.IsGoProgram(go.pid()));
  EXPECT_FALSE(all_go.IsGoProgram(sleeper.pid()));
  EXPECT_TRUE(all_go.Matches(go.pid()));
  EXPECT_FALSE(all_go.Matches(sleeper.pid()));
  uint64_t checked = all_go.files_checked();
  EXPECT_TRUE(all_go.Matches(go.pid()));
  EXPECT_EQ(all_go.files_checked(), checked) << "the answer for a file is cached";
  std::vector<pid_t> scanned = all_go.Scan();
  EXPECT_NE(std::find(scanned.begin(), scanned.end(), go.pid()), scanned.end());
  EXPECT_EQ(std::find(scanned.begin(), scanned.end(), sleeper.pid()), scanned.end());

  TargetDiscovery by_name(TargetRules{.exe_names = {"sleep"}});
  EXPECT_TRUE(by_name.Matches(sleeper.pid()));
  EXPECT_FALSE(by_name.Matches(go.pid()));
  TargetDiscovery by_pid(TargetRules{.pids = {go.pid()}, .own_pid = ::getpid()});
  EXPECT_TRUE(by_pid.Matches(go.pid()));
  EXPECT_FALSE(by_pid.Matches(sleeper.pid()));
  TargetDiscovery self(TargetRules{.pids = {::getpid()}, .own_pid = ::getpid()});
  EXPECT_FALSE(self.Matches(::getpid())) << "never golens itself";
  EXPECT_FALSE(all_go.Matches(999999999)) << "no such process";
}

// A host whose agent costs fixed + per_hz x rate (+ spans): the budget must
// settle under its limit within a few intervals, not oscillate, come back up
// when the load goes, and say when the limit cannot be met.
struct CostModel {
  double fixed, per_hz, spans;
  double operator()(const BudgetState& s) const { return fixed + per_hz * s.hz + (s.spans ? spans : 0); }
};

TEST(OverheadBudget, SettlesUnderTheBudgetAndComesBack) {
  CostModel model{0.001, 0.00002, 0.0005};  // 999 Hz: 2.1 % + spans 0.05 %
  OverheadBudget budget(0.005, BudgetState{999, true});
  std::string reason;
  int steps_over = 0;
  for (int i = 0; i < 6; ++i) {
    double cost = model(budget.current());
    if (cost > 0.005) ++steps_over;
    reason.clear();
    budget.Update(cost, &reason);
  }
  EXPECT_LE(model(budget.current()), 0.005) << "still over after 6 intervals at " << budget.current().hz << " Hz";
  EXPECT_LE(steps_over, 3) << "took too many intervals to settle";
  EXPECT_GT(budget.current().hz, 100) << "lowered far more than needed: " << budget.current().hz;
  EXPECT_TRUE(budget.current().spans) << "the rate alone could fit the budget";
  // Stable: no change while the cost stays between half the budget and it.
  BudgetState settled = budget.current();
  for (int i = 0; i < 10; ++i) {
    reason.clear();
    budget.Update(model(budget.current()), &reason);
  }
  EXPECT_EQ(budget.current(), settled) << "oscillates: " << reason;
  // The load goes (targets exit): back up to what was asked for, step by step.
  CostModel idle{0.0002, 0.000001, 0.0};
  for (int i = 0; i < 30; ++i) {
    reason.clear();
    budget.Update(idle(budget.current()), &reason);
  }
  EXPECT_EQ(budget.current(), (BudgetState{999, true}));
}

TEST(OverheadBudget, SpansGoWhenTheRateCannotHelpAndTheFixedCostIsSaidOnce) {
  CostModel model{0.004, 0.00001, 0.003};  // spans alone are over a 0.5 % budget with the fixed cost
  OverheadBudget budget(0.005, BudgetState{99, true});
  std::string reason;
  std::vector<std::string> reasons;
  for (int i = 0; i < 8; ++i) {
    reason.clear();
    budget.Update(model(budget.current()), &reason);
    if (!reason.empty()) reasons.push_back(reason);
  }
  EXPECT_FALSE(budget.current().spans);
  EXPECT_LE(model(budget.current()), 0.005);
  OverheadBudget hopeless(0.001, BudgetState{19, false});
  int said = 0;
  for (int i = 0; i < 12; ++i) {
    reason.clear();
    hopeless.Update(0.004 + 0.00001 * hopeless.current().hz, &reason);
    if (reason.find("does not depend on the sampling rate") != std::string::npos) ++said;
  }
  EXPECT_EQ(said, 1) << "said once, not every interval";
  EXPECT_TRUE(hopeless.unreachable());
  EXPECT_EQ(hopeless.current().hz, 1);
}

// Deep map mode's probes cost per probed lookup, not per Hz: at 1 Hz they go
// before the span probes, and come back after them, before the rate.
TEST(OverheadBudget, MapProbesGoAfterTheRateAndBeforeSpans) {
  auto cost = [](const BudgetState& s) { return 0.001 + 0.00001 * s.hz + (s.map_probes ? 0.004 : 0) + (s.spans ? 0.002 : 0); };
  OverheadBudget budget(0.005, BudgetState{99, true, true});
  std::vector<BudgetState> states;
  std::string reason;
  for (int i = 0; i < 12 && cost(budget.current()) > 0.005; ++i) {
    reason.clear();
    states.push_back(budget.Update(cost(budget.current()), &reason));
  }
  ASSERT_LE(cost(budget.current()), 0.005);
  EXPECT_FALSE(budget.current().map_probes);
  EXPECT_TRUE(budget.current().spans) << "spans alone fit: they should stay";
  for (const BudgetState& s : states) {
    if (!s.map_probes) EXPECT_EQ(s.hz, 1) << "map probes went before the rate reached 1 Hz";
  }
  // Load gone: spans were never off; map probes come back before the rate rises.
  auto idle = [](const BudgetState&) { return 0.0001; };
  std::vector<BudgetState> up;
  for (int i = 0; i < 40 && !(budget.current() == BudgetState{99, true, true}); ++i) {
    reason.clear();
    up.push_back(budget.Update(idle(budget.current()), &reason));
  }
  EXPECT_EQ(budget.current(), (BudgetState{99, true, true}));
  for (const BudgetState& s : up) {
    if (s.hz > 1) EXPECT_TRUE(s.map_probes) << "the rate rose before map probes came back";
  }
}

// Map sites as Prometheus histograms: cumulative buckets from exact counts,
// _sum and _count, label values escaped; promtool (Debian's prometheus
// package) accepts the exposition.
TEST(AgentMetrics, ProbeHistogramsAreCumulativeAndPassPromtool) {
  MapSiteGauges sites(10);
  MapProbeHistogram lookups;
  auto probe = [](uint16_t probes, uint16_t depth, bool hit) {
    golens_map_probe p{};
    p.probes = probes;
    p.depth = depth;
    p.flags = hit ? GOLENS_MAP_PROBE_HIT : 0;
    return p;
  };
  for (int i = 0; i < 5; ++i) lookups.Add(probe(1, 1, true));
  for (int i = 0; i < 3; ++i) lookups.Add(probe(7, 2, true));
  lookups.Add(probe(40, 9, false));
  sites.AddProbes("svc", "main.get \"a\" main.go:12", lookups);
  sites.AddProbes("svc", "main.get \"a\" main.go:12", lookups);  // cumulative across intervals
  std::string text = PrometheusText(AgentStats{}, ProcessSelfStats{}, 0, sites);
  const std::string labels = "service=\"svc\",site=\"main.get \\\"a\\\" main.go:12\"";
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"1\"} 10")) << text;
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"6\"} 10"));
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"8\"} 16"));
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"32\"} 16"));
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"64\"} 18"));
  EXPECT_TRUE(has("golens_map_lookup_probes_bucket{" + labels + ",le=\"+Inf\"} 18"));
  EXPECT_TRUE(has("golens_map_lookup_probes_sum{" + labels + "} 132"));
  EXPECT_TRUE(has("golens_map_lookup_probes_count{" + labels + "} 18"));
  EXPECT_TRUE(has("golens_map_lookup_bucket_depth_bucket{" + labels + ",le=\"2\"} 16"));
  EXPECT_TRUE(has("golens_map_lookup_bucket_depth_bucket{" + labels + ",le=\"8\"} 16"));
  EXPECT_TRUE(has("golens_map_lookup_bucket_depth_bucket{" + labels + ",le=\"12\"} 18"));
  EXPECT_TRUE(has("golens_map_lookup_hits_total{" + labels + "} 16"));

  ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool")) << "Debian's prometheus package is missing (make deps)";
  std::string path = std::filesystem::temp_directory_path() / ("golens-metrics-" + std::to_string(::getpid()));
  {
    std::ofstream(path) << text;
  }
  int status = std::system(("/usr/bin/promtool check metrics < " + path + " > /dev/null").c_str());
  std::filesystem::remove(path);
  EXPECT_EQ(status, 0) << "promtool check metrics rejected:\n" << text;
}

TEST(Push, SeriesNameIsSanitizedAndSorted) {
  PushItem item;
  item.service = "check out";
  item.labels = {{"service_version", "abc{1},2"}, {"host", "h1"}, {"container_id", ""}, {"9bad-name", "x=y"}};
  EXPECT_EQ(PushSeriesName(item), "check_out.cpu{_9bad_name=x_y,host=h1,service_name=check out,service_version=abc_1__2}");
  EXPECT_EQ(SanitizePushLabelValue("a\"b'c\nd"), "a_b_c_d");
}

TEST(Push, BadUrlsAreUsageErrors) {
  for (const char* url : {"localhost:4040", "ftp://host", "http://", "unix:///tmp/s"}) {
    PushOptions options;
    options.url = url;
    auto pusher = PyroscopePusher::Create(options);
    ASSERT_FALSE(pusher.ok()) << url;
    EXPECT_EQ(pusher.error().kind, ErrorKind::kInvalidArgument) << url;
  }
}

// A real HTTP server on loopback answering like Pyroscope does: 422 twice
// (its ring not ready yet) then 200 for the first profile, 400 for the
// second: the first is retried and sent, the second dropped at once.
TEST(Push, TransientAnswersAreRetriedBadRequestsAreNot) {
  httplib::Server server;
  std::atomic<int> calls{0};
  std::atomic<int> first_attempts{0};
  server.Post("/prefix/ingest", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    if (req.get_param_value("from") == "1") {
      res.status = ++first_attempts <= 2 ? 422 : 200;
    } else {
      res.status = 400;
    }
    res.set_content(res.status == 200 ? "" : "at least 1 live replicas required", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  PushOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(port) + "/prefix/";
  options.initial_backoff = 10ms;
  options.max_backoff = 20ms;
  auto pusher = PyroscopePusher::Create(options);
  ASSERT_TRUE(pusher.ok()) << pusher.error().message;
  for (int from : {1, 2}) {
    PushItem item;
    item.service = "svc";
    item.from_s = from;
    item.until_s = from + 1;
    item.pprof_gzip = "x";
    (*pusher)->Enqueue(std::move(item));
  }
  for (int i = 0; i < 200 && ((*pusher)->stats().sent + (*pusher)->stats().rejected) < 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  PushStats s = (*pusher)->stats();
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(first_attempts.load(), 3);
  EXPECT_EQ(calls.load(), 4) << "the 400 is not retried";
  (*pusher)->Stop(0ms);
  server.stop();
  t.join();
}

// A port nobody listens on: Enqueue never blocks, the queue stays bounded
// (oldest dropped and counted), attempts are retried with backoff, and Stop
// returns within its drain time.
TEST(Push, DownServerNeverBlocksOrGrows) {
  const int closed_port = testing::FreeLoopbackPort();  // nobody listens: connections are refused
  ASSERT_NE(closed_port, 0);
  PushOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(closed_port);
  options.max_queue = 4;
  options.initial_backoff = 20ms;
  options.max_backoff = 80ms;
  auto pusher = PyroscopePusher::Create(options);
  ASSERT_TRUE(pusher.ok()) << pusher.error().message;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    PushItem item;
    item.service = "svc";
    item.from_s = i;
    item.until_s = i + 1;
    item.pprof_gzip = std::string(1000, 'x');
    (*pusher)->Enqueue(std::move(item));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "Enqueue must not wait for the network";
  std::this_thread::sleep_for(300ms);
  PushStats s = (*pusher)->stats();
  EXPECT_LE(s.queue_depth, 4u);
  EXPECT_GE(s.dropped_full, 96u);
  EXPECT_GE(s.failed_attempts, 2u) << "retried while down";
  EXPECT_FALSE(s.server_up);
  EXPECT_EQ(s.sent, 0u);
  auto t1 = std::chrono::steady_clock::now();
  (*pusher)->Stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 3s);
  EXPECT_EQ((*pusher)->stats().dropped_at_stop, s.queue_depth);
}

}  // namespace
}  // namespace golens::profiler
