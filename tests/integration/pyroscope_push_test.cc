// `golens agent --push` against a real Grafana Pyroscope server: what the
// agent pushed is queried back through Pyroscope's own API and compared with
// the agent's local store (totals, top functions, the build as
// service_version); the server is stopped mid-run and started again on the
// same data and port: the agent keeps running, its queue drains, nothing
// is lost or crashes.
//
// Runs in `make integration` (not `make test`): it needs a Pyroscope binary
// (tests/integration/start_pyroscope.sh says how to get one) and fails,
// saying so, when there is none.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "pprof/profile.h"
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
const std::string kStartScript = START_PYROSCOPE;

struct Server {
  pid_t pid = 0;
  std::string url;
};

// Starts Pyroscope on WORKDIR (and `port` when given).
Server StartPyroscope(const std::string& workdir, const std::string& port = "") {
  std::vector<std::string> argv{kStartScript, workdir};
  if (!port.empty()) argv.push_back(port);
  CommandResult r = RunCommand(argv, 90s);
  Server s;
  std::istringstream in(r.out);
  in >> s.pid >> s.url;
  EXPECT_EQ(r.exit_code, 0) << "cannot start Pyroscope: " << testing::DescribeResult(r);
  return s;
}

void StopPyroscope(const Server& s) {
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGTERM);
  for (int i = 0; i < 300 && ::kill(s.pid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  ::kill(s.pid, SIGKILL);
}

std::string Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/curl", "-sS", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, 30s);
  EXPECT_EQ(r.exit_code, 0) << testing::DescribeResult(r);
  return r.out;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Pyroscope's flame graph of a query: total nanoseconds and per-function
// self+total is more than we need; names and total ticks are compared.
struct Flame {
  int64_t total = 0;
  std::map<std::string, int64_t> inclusive;  // by function name (counted once per level path)
};

Flame Render(const std::string& url, const std::string& selector, int64_t from_s, int64_t until_s) {
  std::string query = "process_cpu:cpu:nanoseconds:cpu:nanoseconds" + selector;
  std::string body = Curl({url + "/pyroscope/render?query=" + UrlEncode(query) + "&from=" + std::to_string(from_s) +
                           "&until=" + std::to_string(until_s) + "&format=json"});
  Flame flame;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.contains("flamebearer")) {
    ADD_FAILURE() << "render answered: " << body.substr(0, 500);
    return flame;
  }
  const auto& fb = json["flamebearer"];
  flame.total = fb["numTicks"].get<int64_t>();
  std::vector<std::string> names = fb["names"].get<std::vector<std::string>>();
  // levels: per level, groups of 4 numbers (offset delta, total, self, name index).
  for (const auto& level : fb["levels"]) {
    for (size_t i = 0; i + 3 < level.size(); i += 4) {
      int64_t total = level[i + 1].get<int64_t>();
      size_t name = level[i + 3].get<size_t>();
      if (name < names.size()) flame.inclusive[names[name]] += total;
    }
  }
  return flame;
}

TEST(PyroscopePush, AgentPushesThroughAServerRestart) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (BPF)";
  const std::string work = testing::ScratchDir() + "/pyroscope";
  std::filesystem::create_directories(work);
  Server server = StartPyroscope(work);
  ASSERT_GT(server.pid, 0);
  const std::string port = server.url.substr(server.url.rfind(':') + 1);
  const std::string store_dir = testing::ScratchDir() + "/push-store";
  const int64_t from_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count() - 5;

  Subprocess agent({kGolens, "agent", "--store", store_dir, "--exe-name", "agentsvc-v1", "--interval", "1s", "--hz",
                    "99", "--push", server.url, "--push-header", "X-Scope-OrgID: anonymous"});
  ASSERT_TRUE(agent.WaitForOutput("agent: profiling", 20s, true)) << agent.err();
  Subprocess service({"/usr/bin/env", "GOLENS_SERVICE=pushsvc", kFixtures + "/agentsvc-v1", "-seconds", "9"});
  std::this_thread::sleep_for(3s);
  StopPyroscope(server);  // down for a while: the agent queues and retries
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(agent.WaitForOutput("unreachable", 10s, true)) << agent.err();
  Server again = StartPyroscope(work, port);
  ASSERT_GT(again.pid, 0);
  // Backoff is capped at 30 s; the queue drains at the next attempt.
  EXPECT_TRUE(agent.WaitForOutput("reachable again", 40s, true)) << agent.err();
  ASSERT_TRUE(service.Wait(30s).has_value());
  std::this_thread::sleep_for(2s);
  agent.Kill(SIGTERM);
  ASSERT_EQ(agent.Wait(30s), std::optional<int>(0)) << agent.err();
  const std::string log = agent.err();
  EXPECT_EQ(log.find("not pushed"), std::string::npos) << "everything queued while down must be sent: " << log;
  EXPECT_NE(log.find("pushed"), std::string::npos) << log;

  // The local store's view of the same run.
  store::StoreOptions ro;
  ro.read_only = true;
  auto store = store::Store::Open(store_dir, ro);
  ASSERT_TRUE(store.ok()) << store.error().message;
  store::Selection selection;
  selection.service = "pushsvc";
  auto merged = (*store)->Merge(selection);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ASSERT_GT(merged->profiles, 5);
  const int64_t local_cpu_ns = testing::SampleTotal(merged->profile, 1);
  ASSERT_GT(local_cpu_ns, 0);

  const int64_t until_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count() + 5;
  Flame remote = Render(again.url, "{service_name=\"pushsvc\"}", from_s, until_s);
  // Everything: the profiles pushed before the restart (flushed by the
  // server's shutdown) and those queued while it was down.
  EXPECT_EQ(remote.total, local_cpu_ns) << "Pyroscope holds a different total than the local store";
  for (const char* f : {"main.heavy", "main.light", "main.main"}) {
    EXPECT_GT(remote.inclusive[f], 0) << f << " missing in Pyroscope";
  }
  if (remote.inclusive["main.light"] > 0) {
    double ratio = static_cast<double>(remote.inclusive["main.heavy"]) / remote.inclusive["main.light"];
    EXPECT_NEAR(ratio, 3.0, 0.75) << "heavy:light as pushed";
  }
  // service_version carries the build ID.
  auto binary = symbolizer::Binary::Open(kFixtures + "/agentsvc-v1");
  ASSERT_TRUE(binary.ok());
  Flame by_build = Render(again.url, "{service_name=\"pushsvc\",service_version=\"" + (*binary)->build_id() + "\"}",
                          from_s, until_s);
  EXPECT_EQ(by_build.total, remote.total);
  Flame other_build = Render(again.url, "{service_name=\"pushsvc\",service_version=\"nope\"}", from_s, until_s);
  EXPECT_EQ(other_build.total, 0);
  StopPyroscope(again);
}

}  // namespace
}  // namespace golens
