// The continuous profiler: the second client of Session. Finds target
// processes as they start (BPF exec events, plus a /proc rescan as a
// backstop), takes one snapshot per interval split by process, stores each
// process's profile with its identity (service, build, Go version, host,
// container, pid, time range) and optionally pushes it to Pyroscope.
// Nothing here exits the program or names a flag: `golens agent`
// (cmd_agent.cc) owns signals and messages.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "pprof/store/store.h"
#include "profiler/base/result.h"
#include "profiler/map_site_gauges.h"
#include "profiler/overhead_budget.h"
#include "profiler/otlp_exporter.h"
#include "profiler/process_identity.h"
#include "profiler/pyroscope_pusher.h"
#include "profiler/session.h"
#include "profiler/target_discovery.h"

namespace golens::profiler {

struct AgentOptions {
  std::string store_dir;
  TargetRules rules;
  std::chrono::milliseconds interval{10000};
  int hz = 19;
  std::chrono::seconds retention{7 * 24 * 3600};
  bool spans = false;
  // Go map statistics: sampled (no probes; gauges), deep (also duty-cycled
  // lookup probes: probe count and bucket depth histograms), off.
  SessionOptions::Maps maps;
  bool kernel_stacks = true;
  std::string service;  // overrides every target's own service name when set
  std::optional<PushOptions> push;
  std::optional<OtlpOptions> otlp;  // export --spans as OTLP traces (needs spans)
  std::chrono::milliseconds rescan_interval{30000};  // backstop for lost exec events
  std::string host;  // empty: this host's name
  size_t metrics_map_sites = 100;  // map sites exported as metrics (top by CPU)
  // Most of the host's CPU (fraction of wall time x online CPUs) the agent
  // may cost, its BPF programs included; 0 = no budget.
  double max_overhead = 0;
};

struct AgentStats {
  uint64_t intervals = 0;
  uint64_t profiles_stored = 0;
  uint64_t profiles_dropped = 0;  // could not be stored (disk full, I/O error)
  int64_t stored_bytes = 0;
  uint64_t targets_added = 0;
  uint64_t targets_failed = 0;  // matched but could not be attached (exited at once, permission)
  uint64_t retention_deleted = 0;
  uint64_t spans_finished = 0;     // HTTP requests seen to finish (with --spans)
  double snapshot_seconds = 0;     // building and symbolizing interval profiles, in total
  // With --max-overhead: the last interval's measured cost, the budget, and
  // what the budget has the agent run at now.
  double overhead = -1;            // fraction of the host's CPU; -1 = not measured
  double overhead_budget = 0;
  int hz = 0;
  bool spans_active = false;
  bool map_probes_active = false;
  uint64_t budget_lowered = 0;
  uint64_t budget_raised = 0;
  size_t live_targets = 0;
  std::optional<PushStats> push;
  std::optional<OtlpStats> otlp;
  SessionStats session;
};

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> Create(const AgentOptions& options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Profiles until `stop` is set (checked at least every 100 ms), then stores the
  // interval in flight and returns. Errors only when sampling cannot start.
  Result<void> Run(const std::atomic<bool>& stop);
  AgentStats stats() const;
  const MapSiteGauges& map_sites() const { return map_sites_; }
  const std::string& store_dir() const { return options_.store_dir; }

 private:
  struct Identity {
    ProcessIdentityInfo info;
    std::string build_id;
    bool gone = false;
    uint64_t gone_at_interval = 0;
  };
  using IdentityKey = std::tuple<pid_t, uint64_t, std::string>;  // pid, start ticks, exe path

  explicit Agent(const AgentOptions& options);
  void OnProgram(const ProcessState& process);
  void OnGone(const ProcessState& process);
  void AddIfMatching(pid_t pid);
  void DiscoverPending();
  void Rescan();
  void FlushInterval();
  void StoreProfile(const ProcessSnapshot& snapshot);
  // The service a snapshot's process is stored under.
  std::string ServiceOf(const IntervalProcess& process);
  void ExportSpans(const std::vector<FinishedSpan>& spans);
  std::string ServiceOfLocked(pid_t tgid) const;
  void ApplyRetention();
  // Measures the interval's cost and applies the budget's decision.
  void ApplyBudget();

  AgentOptions options_;
  std::string host_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<PyroscopePusher> pusher_;
  std::unique_ptr<OtlpExporter> otlp_;
  TargetDiscovery discovery_;
  MapSiteGauges map_sites_;
  std::optional<OverheadBudget> budget_;
  struct CostSample {
    uint64_t bpf_ns = 0;
    double self_cpu_s = 0;
    std::chrono::steady_clock::time_point at;
  } last_cost_;

  mutable std::mutex mu_;  // everything below
  std::map<IdentityKey, Identity> identities_;
  std::set<pid_t> targets_;              // pids attached and not gone
  std::deque<pid_t> pending_execs_;      // execs of non-targets, to classify on the agent thread
  std::condition_variable wake_;         // an exec queued: the agent thread classifies it at once
  AgentStats stats_;
  bool store_full_ = false;  // logged once until a write succeeds again
  uint64_t dropped_since_full_ = 0;
};

}  // namespace golens::profiler
