#include "profiler/agent.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "pprof/profile_io.h"
#include "profiler/agent_metrics.h"
#include "profiler/base/log.h"

namespace golens::profiler {
namespace {

int64_t SampleCount(const pprof::Profile& profile) {
  int64_t total = 0;
  for (const pprof::Sample& s : profile.samples) {
    if (!s.values.empty()) total += s.values[0];
  }
  return total;
}

// The next multiple of `interval` after `now` (intervals line up across
// restarts and hosts, as Pyroscope's agents do).
std::chrono::system_clock::time_point NextBoundary(std::chrono::system_clock::time_point now,
                                                   std::chrono::milliseconds interval) {
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  auto next = (since_epoch / interval + 1) * interval;
  return std::chrono::system_clock::time_point(next);
}

}  // namespace

Agent::Agent(const AgentOptions& options)
    : options_(options),
      host_(options.host.empty() ? HostName() : options.host),
      discovery_(options.rules),
      map_sites_(options.metrics_map_sites) {}

Agent::~Agent() {
  if (pusher_) pusher_->Stop(std::chrono::milliseconds(0));
  if (otlp_) otlp_->Stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Agent>> Agent::Create(const AgentOptions& options) {
  if (options.interval < std::chrono::milliseconds(100)) {
    return MakeError("interval must be at least 100ms", ErrorKind::kInvalidArgument);
  }
  if (options.otlp && !options.spans) {
    return MakeError("OTLP export needs spans (--spans)", ErrorKind::kInvalidArgument);
  }
  std::unique_ptr<Agent> agent(new Agent(options));
  agent->options_.rules.own_pid = ::getpid();
  // Before loading BPF: a bad endpoint is a usage error, found at once.
  if (options.otlp) {
    GOLENS_TRY(agent->otlp_, OtlpExporter::Create(*options.otlp));
  }
  GOLENS_TRY(agent->store_, store::Store::Open(options.store_dir));

  SessionOptions session;
  session.hz = options.hz;
  session.kernel_stacks = options.kernel_stacks;
  session.spans = options.spans;
  session.attributes.spans = options.spans;
  session.report_all_execs = true;
  session.maps = options.maps;
  session.maps.keep_probes = false;  // the agent takes per-site histograms, not each lookup
  session.comment_prefix = "golens agent";
  GOLENS_TRY(agent->session_, Session::Create(session));
  Agent* self = agent.get();
  agent->session_->SetProgramCallback([self](const ProcessState& p) { self->OnProgram(p); });
  agent->session_->SetGoneCallback([self](const ProcessState& p) { self->OnGone(p); });
  agent->session_->SetUntrackedExecCallback([self](pid_t pid, uint64_t, const std::string&) {
    std::lock_guard<std::mutex> lock(self->mu_);
    // Bounded: a fork bomb of execs must not grow the agent; the /proc
    // rescan catches what is dropped here.
    if (self->pending_execs_.size() < 4096) self->pending_execs_.push_back(pid);
    self->wake_.notify_one();
  });
  if (options.max_overhead > 0) {
    if (auto stats = agent->session_->EnableBpfRunTime(); !stats.ok()) {
      return stats.error().Context("--max-overhead needs the kernel's BPF run-time statistics");
    }
    agent->budget_.emplace(options.max_overhead,
                           BudgetState{options.hz, options.spans, options.maps.mode == MapsMode::kDeep});
  }
  if (options.push) {
    PushOptions push = *options.push;
    push.hz = options.hz;
    GOLENS_TRY(agent->pusher_, PyroscopePusher::Create(push));
  }
  return agent;
}

void Agent::OnProgram(const ProcessState& process) {
  Identity identity;
  identity.info = ReadProcessIdentity(process.pid(), process.exe_path());
  if (!options_.service.empty()) identity.info.service = options_.service;
  if (process.main_binary()) identity.build_id = process.main_binary()->binary().build_id();
  std::lock_guard<std::mutex> lock(mu_);
  identities_[IdentityKey{process.pid(), process.id().start_ticks, process.exe_path()}] = std::move(identity);
}

void Agent::OnGone(const ProcessState& process) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.erase(process.pid());
  for (auto it = identities_.lower_bound(IdentityKey{process.pid(), process.id().start_ticks, ""});
       it != identities_.end() && std::get<0>(it->first) == process.pid() &&
       std::get<1>(it->first) == process.id().start_ticks;
       ++it) {
    it->second.gone = true;
    it->second.gone_at_interval = stats_.intervals;
  }
}

void Agent::AddIfMatching(pid_t pid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (targets_.count(pid)) return;
  }
  if (!discovery_.Matches(pid)) return;
  auto added = session_->AddTarget(pid, TargetOptions{});
  std::lock_guard<std::mutex> lock(mu_);
  if (!added.ok()) {
    ++stats_.targets_failed;
    GOLENS_LOG(kDebug) << "agent: pid " << pid << " not profiled: " << added.error().message;
    return;
  }
  targets_.insert(pid);
  ++stats_.targets_added;
  GOLENS_LOG(kDebug) << "agent: profiling pid " << pid << " (" << (*added)->exe_path() << ")";
}

void Agent::DiscoverPending() {
  std::deque<pid_t> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(pending_execs_);
  }
  for (pid_t pid : pending) AddIfMatching(pid);
}

void Agent::Rescan() {
  for (pid_t pid : discovery_.Scan()) AddIfMatching(pid);
}

std::string Agent::ServiceOf(const IntervalProcess& process) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = identities_.find(IdentityKey{process.id.pid, process.id.start_ticks, process.exe_path});
    if (it != identities_.end() && !it->second.info.service.empty()) return it->second.info.service;
  }
  // Seen only through a snapshot (attached and gone between callbacks).
  if (!options_.service.empty()) return options_.service;
  return ReadProcessIdentity(process.id.pid, process.exe_path).service;
}

void Agent::StoreProfile(const ProcessSnapshot& snapshot) {
  const IntervalProcess& process = snapshot.process;
  store::ProfileMeta meta;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = identities_.find(IdentityKey{process.id.pid, process.id.start_ticks, process.exe_path});
    if (it != identities_.end()) {
      meta.service = it->second.info.service;
      meta.container_id = it->second.info.container_id;
      meta.build_id = it->second.build_id;
    }
  }
  if (meta.service.empty()) meta.service = ServiceOf(process);
  if (meta.build_id.empty() && !snapshot.profile.mappings.empty()) {
    meta.build_id = snapshot.profile.mappings[0].build_id;
  }
  meta.go_version = process.go_version;
  meta.exe_path = process.exe_path;
  meta.host = host_;
  meta.pid = process.id.pid;
  meta.start_ns = snapshot.profile.time_nanos;
  meta.end_ns = snapshot.profile.time_nanos + snapshot.profile.duration_nanos;
  meta.samples = SampleCount(snapshot.profile);

  map_sites_.Add(meta.service, snapshot.profile);
  auto stored = store_->Put(meta, snapshot.profile);
  std::lock_guard<std::mutex> lock(mu_);
  if (stored.ok()) {
    ++stats_.profiles_stored;
    if (store_full_) {
      GOLENS_LOG(kWarn) << "agent: the store is writable again; " << dropped_since_full_
                        << " profiles were dropped while it was not";
      store_full_ = false;
      dropped_since_full_ = 0;
    }
  } else {
    ++stats_.profiles_dropped;
    ++dropped_since_full_;
    if (!store_full_) {
      GOLENS_LOG(kError) << "agent: cannot store profiles in " << options_.store_dir << ": "
                         << stored.error().message << "; dropping intervals (counted) until it can";
      store_full_ = true;
    }
  }

  if (pusher_) {
    auto body = pprof::SerializePprof(snapshot.profile, /*gzip=*/true);
    if (body.ok()) {
      PushItem item;
      item.service = meta.service;
      item.labels = {{"service_version", meta.build_id}, {"host", meta.host}, {"container_id", meta.container_id}};
      item.from_s = meta.start_ns / 1000000000;
      item.until_s = std::max(item.from_s + 1, (meta.end_ns + 999999999) / 1000000000);
      item.pprof_gzip = std::move(body).value();
      pusher_->Enqueue(std::move(item));
    }
  }
}

// The service of the process that served a span: spans carry only the tgid,
// so the identity of the live process with that pid (a gone one, still kept
// for this interval, when the pid is not reused yet).
std::string Agent::ServiceOfLocked(pid_t tgid) const {
  const Identity* found = nullptr;
  for (auto it = identities_.lower_bound(IdentityKey{tgid, 0, ""});
       it != identities_.end() && std::get<0>(it->first) == tgid; ++it) {
    if (!found || found->gone) found = &it->second;
  }
  if (found) return found->info.service;
  // Seen only through its spans (attached and gone between callbacks).
  return options_.service.empty() ? "unknown_service" : options_.service;
}

void Agent::ExportSpans(const std::vector<FinishedSpan>& finished) {
  if (finished.empty()) return;
  const int64_t offset = MonotonicToUnixNs();
  std::vector<ExportSpan> spans;
  spans.reserve(finished.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<uint32_t, std::string> service;  // one identity lookup per process
    for (const FinishedSpan& f : finished) {
      auto [it, fresh] = service.try_emplace(f.tgid);
      if (fresh) it->second = ServiceOfLocked(static_cast<pid_t>(f.tgid));
      spans.push_back(MakeExportSpan(f, offset, it->second, host_));
    }
  }
  otlp_->Enqueue(std::move(spans));
}

void Agent::FlushInterval() {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<ProcessSnapshot> snapshots = session_->TakeProcessSnapshots();
  double snapshot_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Finished requests: their ids are labels on the samples already; the
  // span records themselves are not stored, only exported (--otlp-endpoint),
  // so they must not pile up.
  std::vector<FinishedSpan> finished = session_->TakeSpans();
  const size_t spans = finished.size();
  if (otlp_) ExportSpans(finished);
  for (const ProcessSnapshot& snapshot : snapshots) {
    if (!snapshot.map_sites.empty()) {
      const std::string service = ServiceOf(snapshot.process);
      for (const MapSiteProbes& site : snapshot.map_sites) map_sites_.AddProbes(service, site.site, site.lookups);
    }
    if (snapshot.process.samples == 0) continue;  // only probed lookups: nothing to store
    StoreProfile(snapshot);
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.intervals;
  stats_.spans_finished += spans;
  stats_.snapshot_seconds += snapshot_seconds;
  // Identities of processes gone before this interval was taken are not
  // needed any more: their last samples were in it.
  std::erase_if(identities_, [&](const auto& entry) {
    return entry.second.gone && entry.second.gone_at_interval + 1 < stats_.intervals;
  });
}

void Agent::ApplyBudget() {
  CostSample now{session_->BpfRunTimeNanos(), ReadProcessSelfStats().cpu_seconds, std::chrono::steady_clock::now()};
  double wall = std::chrono::duration<double>(now.at - last_cost_.at).count();
  double cpus = static_cast<double>(std::max<size_t>(1, session_->cpu_count()));
  double spent = static_cast<double>(now.bpf_ns - last_cost_.bpf_ns) / 1e9 + (now.self_cpu_s - last_cost_.self_cpu_s);
  last_cost_ = now;
  if (wall <= 0) return;
  double cost = spent / (wall * cpus);
  std::string reason;
  BudgetState before = budget_->current();
  BudgetState next = budget_->Update(cost, &reason);
  if (next.hz != before.hz) {
    if (auto r = session_->SetHz(next.hz); !r.ok()) {
      GOLENS_LOG(kWarn) << "agent: " << r.error().message;
    }
  }
  if (next.spans != before.spans) session_->SetSpansActive(next.spans);
  if (next.map_probes != before.map_probes) session_->SetMapProbesActive(next.map_probes);
  if (!reason.empty()) {
    GOLENS_LOG(kInfo) << "agent: " << reason;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.overhead = cost;
  stats_.overhead_budget = budget_->max_fraction();
  stats_.hz = next.hz;
  stats_.spans_active = next.spans;
  stats_.map_probes_active = next.map_probes;
  bool lowered = next.hz < before.hz || (before.spans && !next.spans) || (before.map_probes && !next.map_probes);
  bool raised = next.hz > before.hz || (!before.spans && next.spans) || (!before.map_probes && next.map_probes);
  stats_.budget_lowered += lowered;
  stats_.budget_raised += raised;
}

void Agent::ApplyRetention() {
  auto cutoff = std::chrono::system_clock::now() - options_.retention;
  int64_t cutoff_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cutoff.time_since_epoch()).count();
  auto deleted = store_->DeleteEndedBefore(cutoff_ns);
  if (!deleted.ok()) {
    GOLENS_LOG(kWarn) << "agent: retention: " << deleted.error().message;
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.retention_deleted += static_cast<uint64_t>(*deleted);
}

Result<void> Agent::Run(const std::atomic<bool>& stop) {
  GOLENS_TRY_VOID(session_->Start());
  ApplyRetention();
  Rescan();
  using Clock = std::chrono::system_clock;
  auto next_flush = NextBoundary(Clock::now(), options_.interval);
  auto next_rescan = std::chrono::steady_clock::now() + options_.rescan_interval;
  auto next_retention = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  last_cost_ = CostSample{session_->BpfRunTimeNanos(), ReadProcessSelfStats().cpu_seconds,
                          std::chrono::steady_clock::now()};
  while (!stop.load()) {
    {
      // Asleep until an exec needs classifying, the interval ends, or the
      // stop flag's next check (signals set it; nothing can notify here).
      auto to_flush = std::chrono::ceil<std::chrono::milliseconds>(next_flush - Clock::now());
      auto nap = std::clamp(to_flush, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, nap, [this] { return !pending_execs_.empty(); });
    }
    DiscoverPending();
    auto steady = std::chrono::steady_clock::now();
    if (steady >= next_rescan) {
      Rescan();
      next_rescan = steady + options_.rescan_interval;
    }
    if (Clock::now() >= next_flush) {
      FlushInterval();
      if (budget_) ApplyBudget();
      next_flush = NextBoundary(Clock::now(), options_.interval);
    }
    if (steady >= next_retention) {
      ApplyRetention();
      next_retention = steady + std::chrono::minutes(10);
    }
  }
  session_->Stop();
  FlushInterval();
  if (pusher_) pusher_->Stop(std::chrono::seconds(2));
  if (otlp_) otlp_->Stop(std::chrono::seconds(2));
  return Ok();
}

AgentStats Agent::stats() const {
  AgentStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = stats_;
  }
  s.live_targets = session_->live_targets();
  s.session = session_->stats();
  if (pusher_) s.push = pusher_->stats();
  if (otlp_) s.otlp = otlp_->stats();
  return s;
}

}  // namespace golens::profiler
