#include "profiler/session.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "profiler/base/log.h"
#include "profiler/perf_events.h"

namespace golens::profiler {
namespace {

// The kernel's stack depth limit for BPF (kernel.perf_event_max_stack),
// capped at GOLENS_MAX_FRAMES.
int KernelMaxStackFrames() {
  std::ifstream in("/proc/sys/kernel/perf_event_max_stack");
  int value = 0;
  if (in >> value && value > 0 && value < GOLENS_MAX_FRAMES) return value;
  return GOLENS_MAX_FRAMES;
}

// Probing is worth it only when BPF can read the requests: a net/http server
// of a Go release whose offsets golens knows (else no request offsets are in
// the map entry, and the probes would cost the program for nothing).
bool SpansReadable(const golens_proc_info& info, const std::shared_ptr<BinaryRecord>& binary) {
  return info.request_url != 0 || !binary->go_info().http.found;
}

}  // namespace

Session::Session(const SessionOptions& options) : options_(options), frames_(options.frame_cache_entries) {}

Result<std::unique_ptr<Session>> Session::Create(const SessionOptions& options) {
  std::unique_ptr<Session> session(new Session(options));
  RecorderOptions recorder;
  recorder.attributes = options.attributes;
  recorder.attributes.maps = options.maps.mode != MapsMode::kOff;
  recorder.keep_map_probes = options.maps.mode == MapsMode::kDeep && options.maps.keep_probes;
  recorder.max_frames = KernelMaxStackFrames();
  RecorderListener* listener = session.get();
  session->recorder_ = std::make_unique<Recorder>(recorder, &session->source_, &session->binaries_, listener);

  SamplerOptions sampler;
  sampler.hz = options.hz;
  sampler.kernel_stacks = options.kernel_stacks;
  sampler.goroutine_ids = true;
  sampler.labels = options.attributes.labels;
  sampler.spans = options.spans;
  sampler.maps = options.maps.mode != MapsMode::kOff;
  sampler.ringbuf_bytes = options.ringbuf_bytes;
  sampler.native_stack_bytes = options.native.enabled ? options.native.stack_bytes : 0;
  sampler.pid_namespace_inode = options.translate_pid_namespace ? OwnPidNamespaceInode() : 0;
  sampler.report_all_execs = options.report_all_execs;
  Recorder* rec = session->recorder_.get();
  GOLENS_TRY(session->sampler_, BpfSampler::Create(sampler, [rec](std::span<const uint8_t> record) {
               rec->OnRecord(record);
             }));
  if (options.maps.mode == MapsMode::kDeep) {
    session->map_cycler_ = std::make_unique<MapProbeCycler>(session->sampler_.get(), options.maps.deep);
  }
  if (sampler.maps) {
    session->map_tables_ = std::make_unique<MapTables>(session->sampler_.get(), session->map_cycler_.get());
  }

  if (options.kernel_stacks) {
    auto loaded = symbolizer::Kallsyms::Load();
    if (loaded.ok()) {
      session->kallsyms_ = std::make_unique<symbolizer::Kallsyms>(std::move(loaded).value());
    } else {
      GOLENS_LOG(kWarn) << "kernel frames stay unsymbolized: " << loaded.error().message;
    }
  }
  return session;
}

Session::~Session() { Stop(); }

void Session::SetProgramCallback(std::function<void(const ProcessState&)> callback) {
  on_program_ = std::move(callback);
}

Result<std::shared_ptr<const ProcessState>> Session::AddTarget(pid_t pid, const TargetOptions& options) {
  // The recorder calls OnProgram, which fills the BPF map entry.
  return recorder_->Attach(pid, options.follow_children);
}

Result<void> Session::AddLaunchedTarget(pid_t pid, const std::string& executable, const TargetOptions& options) {
  golens_proc_info info{};
  auto binary = source_.OpenPath(executable);
  if (binary.ok()) {
    auto record = binaries_.Get(*binary);
    // Probes before the exec: the program may serve its first request at once.
    info = TargetInfo(record, options.follow_children, executable, executable);
    if (map_tables_) map_tables_->Fill(record, nullptr, executable, executable, &info);
    launched_programs_.push_back(std::move(record));
  } else if (options.follow_children) {
    info.flags |= GOLENS_PROC_FOLLOW_CHILDREN;
  }
  info.flags |= GOLENS_PROC_PENDING_EXEC;
  GOLENS_TRY_VOID(recorder_->ExpectExec(pid, options.follow_children));
  return sampler_->SetTarget(pid, info);
}

void Session::RemoveTarget(pid_t pid) {
  sampler_->RemoveTarget(pid);
  recorder_->Detach(pid);
}

bool Session::EnsureHttpProbes(const std::shared_ptr<BinaryRecord>& binary, const std::string& path,
                               const std::string& exe) {
  std::lock_guard<std::mutex> lock(probes_mu_);
  std::erase_if(http_probes_, [](const auto& entry) { return entry.second.binary.expired(); });
  auto it = http_probes_.find(binary->cache_key());
  if (it != http_probes_.end()) return it->second.probes != nullptr;
  const GoBinaryInfo& go = binary->go_info();
  HttpProbeSet set;
  set.binary = binary;
  if (!go.http.found) {
    GOLENS_LOG(kWarn) << "spans: no net/http server in " << exe << "; its samples carry no spans";
  } else {
    auto probes = sampler_->AttachHttpProbes(path, go.http.entry_offset, go.http.return_offsets);
    if (probes.ok()) {
      set.probes = std::move(probes).value();
      GOLENS_LOG(kDebug) << "spans: probes on " << exe << " (entry and " << go.http.return_offsets.size()
                         << " RET sites)";
    } else {
      GOLENS_LOG(kWarn) << "spans: " << probes.error().message << "; samples of " << exe << " carry no spans";
    }
  }
  bool attached = set.probes != nullptr;
  http_probes_.emplace(binary->cache_key(), std::move(set));
  return attached;
}

golens_proc_info Session::TargetInfo(const std::shared_ptr<BinaryRecord>& binary, bool follow_children,
                                    const std::string& probe_path, const std::string& exe) {
  golens_proc_info info{};
  if (binary) info = MakeProcInfo(binary->go_info());
  if (follow_children) info.flags |= GOLENS_PROC_FOLLOW_CHILDREN;
  if (options_.native.enabled && options_.native.stack_bytes > 0) info.flags |= GOLENS_PROC_NATIVE;
  if (options_.spans && spans_active_.load() && binary && (info.flags & GOLENS_PROC_GO) && SpansReadable(info, binary) &&
      EnsureHttpProbes(binary, probe_path, exe)) {
    info.flags |= GOLENS_PROC_SPANS;
  }
  return info;
}

void Session::OnProgram(const ProcessState& process) {
  // The process's own view of its file (/proc/PID/exe): also right for a
  // binary since replaced or deleted on disk, or in another mount namespace.
  golens_proc_info info =
      TargetInfo(process.main_binary(), process.follow_children(), "/proc/" + std::to_string(process.pid()) + "/exe",
                 process.exe_path() + " (pid " + std::to_string(process.pid()) + ")");
  if (map_tables_) {
    map_tables_->Fill(process.main_binary(), &process, process.exe_path(),
                      "/proc/" + std::to_string(process.pid()) + "/exe", &info);
  }
  if (info.flags & GOLENS_PROC_NATIVE) {
    // Before the target entry: BPF snapshots a sample only when both are there.
    if (auto result = sampler_->SetNativeProc(process.pid(), MakeNativeProc(process)); !result.ok()) {
      GOLENS_LOG(kWarn) << result.error().message;
    }
  }
  if (auto result = sampler_->SetTarget(process.pid(), info); !result.ok()) {
    GOLENS_LOG(kWarn) << result.error().message;
  }
  if (on_program_) on_program_(process);
}

void Session::OnGone(const ProcessState& process) {
  // BPF dropped an exited target from its map already (at the exit
  // tracepoint, before any reuse of the pid); nothing to undo here.
  if (on_gone_) on_gone_(process);
}

void Session::SetGoneCallback(std::function<void(const ProcessState&)> callback) { on_gone_ = std::move(callback); }

void Session::SetUntrackedExecCallback(ExecCallback callback) { on_untracked_exec_ = std::move(callback); }

void Session::OnUntrackedExec(pid_t pid, uint64_t start_ticks, const std::string& filename) {
  if (on_untracked_exec_) on_untracked_exec_(pid, start_ticks, filename);
}

Result<void> Session::Start() {
  if (started_) return Ok();
  GOLENS_TRY_VOID(sampler_->Start());
  // The first interval starts now, not when the session was made.
  (void)recorder_->TakeInterval(WallClockNanos());
  started_ = true;
  stopped_wall_ns_ = 0;
  stopping_ = false;
  drain_thread_ = std::thread([this] { DrainLoop(); });
  if (map_cycler_) map_cycler_->Start();
  return Ok();
}

void Session::DrainLoop() {
  auto last_liveness = std::chrono::steady_clock::now();
  while (!stopping_.load()) {
    auto polled = sampler_->Poll(static_cast<int>(options_.poll_interval.count()));
    if (!polled.ok()) {
      GOLENS_LOG(kWarn) << polled.error().message;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_liveness >= options_.liveness_interval) {
      recorder_->CheckLiveness();
      last_liveness = now;
    }
  }
}

void Session::Stop() {
  if (!started_) return;
  started_ = false;
  if (map_cycler_) map_cycler_->Stop();
  sampler_->Stop();
  stopped_wall_ns_ = WallClockNanos();
  stopping_ = true;
  if (drain_thread_.joinable()) drain_thread_.join();
  (void)sampler_->Drain();  // what BPF wrote before the detach
}

Result<void> Session::SetHz(int hz) {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  GOLENS_TRY_VOID(sampler_->SetFrequency(hz));
  options_.hz = hz;
  return Ok();
}

int Session::hz() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return options_.hz;
}

void Session::SetSpansActive(bool active) {
  if (!options_.spans || spans_active_.exchange(active) == active) return;
  if (!active) {
    // Detach every span probe (RAII); the map entries keep their SPANS flag
    // until the next exec or attach, harmlessly: no probe fires any more.
    std::lock_guard<std::mutex> lock(probes_mu_);
    http_probes_.clear();
    return;
  }
  // Attach again to what the live targets run.
  for (const auto& process : recorder_->LiveProcesses()) {
    golens_proc_info info =
        TargetInfo(process->main_binary(), process->follow_children(), "/proc/" + std::to_string(process->pid()) + "/exe",
                   process->exe_path() + " (pid " + std::to_string(process->pid()) + ")");
    if (auto result = sampler_->SetTarget(process->pid(), info); !result.ok()) {
      GOLENS_LOG(kDebug) << result.error().message;
    }
  }
}

void Session::SetMapProbesActive(bool active) {
  if (map_cycler_) map_cycler_->SetActive(active);
}

bool Session::map_probes_active() const { return map_cycler_ && map_cycler_->active(); }

CpuProfileOptions Session::ProfileOptions() {
  CpuProfileOptions profile;
  profile.hz = options_.hz;
  profile.kallsyms = kallsyms_.get();
  profile.frames = &frames_;
  profile.comment_prefix = options_.comment_prefix;
  return profile;
}

Snapshot Session::TakeSnapshot() {
  std::unique_ptr<Interval> interval = recorder_->TakeInterval(stopped_wall_ns_ ? stopped_wall_ns_ : WallClockNanos());
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  Snapshot snapshot;
  snapshot.profile = BuildCpuProfile(*interval, ProfileOptions());
  // Processes seen only through probed map lookups had no CPU here.
  std::copy_if(interval->processes().begin(), interval->processes().end(), std::back_inserter(snapshot.processes),
               [](const IntervalProcess& p) { return p.samples > 0; });
  snapshot.samples = interval->total();
  return snapshot;
}

std::vector<ProcessSnapshot> Session::TakeProcessSnapshots() {
  std::unique_ptr<Interval> interval = recorder_->TakeInterval(stopped_wall_ns_ ? stopped_wall_ns_ : WallClockNanos());
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  CpuProfileOptions options = ProfileOptions();
  std::vector<ProcessSnapshot> snapshots;
  snapshots.reserve(interval->processes().size());
  for (const IntervalProcess& process : interval->processes()) {
    options.only_process = process.key;
    ProcessSnapshot snapshot{process, BuildCpuProfile(*interval, options), {}};
    if (map_cycler_) snapshot.map_sites = MapSiteProbesOf(*interval, process.key, &frames_);
    snapshots.push_back(std::move(snapshot));
  }
  return snapshots;
}

SessionStats Session::stats() const {
  SessionStats s;
  s.recorder = recorder_->stats();
  s.bpf = sampler_->ReadMetrics();
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    s.frames = frames_.stats();
  }
  s.binaries_live = binaries_.live();
  s.tracks_munmap = sampler_->tracks_munmap();
  return s;
}

}  // namespace golens::profiler
