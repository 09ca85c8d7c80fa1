#include "profiler/record_session.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>

#include "pprof/profile_io.h"
#include "profiler/base/log.h"
#include "profiler/bpf_sampler.h"
#include "profiler/capabilities.h"
#include "profiler/cpu_profile.h"
#include "profiler/go_binary_info.h"
#include "profiler/leaf_fixup.h"
#include "profiler/process_launcher.h"
#include "profiler/sample_aggregator.h"
#include "profiler/target_process.h"
#include "symbolizer/symbolizer.h"
#include "web/flamegraph.h"

namespace golens::profiler {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kMapsRefreshInterval = std::chrono::milliseconds(250);
constexpr auto kTerminateGrace = std::chrono::seconds(5);

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int sig) { g_stop_signal.store(sig); }

// Installs SIGINT/SIGTERM handlers for the recording and restores the old
// ones afterwards. No SA_RESTART: a signal interrupts the ring buffer poll.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  int received() const { return g_stop_signal.load(); }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

int64_t WallNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::string Describe(const TargetProcess& t) {
  std::ostringstream s;
  s << "pid " << t.pid() << " (" << t.exe_path();
  if (t.go_info().is_go) s << ", " << t.go_info().go_version;
  s << ")";
  return s.str();
}

void ReportTarget(const TargetProcess& t) {
  const GoBinaryInfo& go = t.go_info();
  if (!go.is_go) {
    GOLENS_LOG(kInfo) << Describe(t) << ": not a Go binary; Go features are off (native symbols only)";
    return;
  }
  if (!go.go_features_on()) {
    GOLENS_LOG(kWarn) << Describe(t) << ": " << go.go_features_off_reason
                      << "; Go features (goroutine ids) are off";
    return;
  }
  if (!go.offsets_exact) {
    GOLENS_LOG(kWarn) << Describe(t) << ": newer than the runtime offsets table; using the newest row";
  }
  GOLENS_LOG(kDebug) << Describe(t) << ": TLS offset " << go.tls_offset
                     << (go.tls_detected ? " (from runtime.stackcheck)" : " (default)");
}

Result<void> ValidateOptions(const RecordOptions& o) {
  if (o.pids.empty() == o.command.empty()) {
    return MakeError("give either --pid PID (repeatable) or -- CMD [ARGS...]", 2);
  }
  if (o.hz < 1 || o.hz > 10000) return MakeError("--hz must be between 1 and 10000", 2);
  if (o.duration <= std::chrono::nanoseconds::zero()) return MakeError("--duration must be positive", 2);
  if (o.output.empty()) return MakeError("-o must name a file", 2);
  for (pid_t pid : o.pids) {
    if (pid <= 0) return MakeError("--pid " + std::to_string(pid) + ": not a process id", 2);
    if (pid == getpid()) return MakeError("--pid " + std::to_string(pid) + ": that is golens itself", 2);
    if (kill(pid, 0) != 0 && errno == ESRCH) {
      return MakeError("--pid " + std::to_string(pid) + ": no such process", 2);
    }
  }
  return Ok();
}

}  // namespace

Result<RecordSummary> RunRecord(const RecordOptions& options) {
  GOLENS_TRY_VOID(ValidateOptions(options));
  // Output paths first: an unwritable path fails before anything starts.
  GOLENS_TRY_VOID(pprof::CheckWritable(options.output));
  if (!options.svg.empty()) GOLENS_TRY_VOID(pprof::CheckWritable(options.svg));
  GOLENS_TRY_VOID(CheckSamplingCapabilities());

  std::unique_ptr<symbolizer::Kallsyms> kallsyms;
  if (options.kernel_stacks) {
    auto loaded = symbolizer::Kallsyms::Load();
    if (loaded.ok()) {
      kallsyms = std::make_unique<symbolizer::Kallsyms>(std::move(loaded).value());
    } else {
      GOLENS_LOG(kWarn) << "kernel frames stay unsymbolized: " << loaded.error().message;
    }
  }

  symbolizer::BinaryCache binaries;
  GoBinaryInfoCache go_infos;
  std::vector<std::unique_ptr<TargetProcess>> targets;
  std::set<pid_t> seen;
  for (pid_t pid : options.pids) {
    if (!seen.insert(pid).second) continue;
    auto target = TargetProcess::Attach(pid, &binaries, &go_infos);
    if (!target.ok()) return target.error();
    ReportTarget(**target);
    targets.push_back(std::move(target).value());
  }

  const bool per_goroutine = options.per_goroutine;
  SampleAggregator aggregator(per_goroutine, KernelMaxStackFrames());
  LeafFixup leaf_fixup;
  std::map<pid_t, TargetProcess*> by_pid;
  uint64_t unknown_tgid = 0;

  SamplerOptions sampler_options;
  sampler_options.hz = options.hz;
  sampler_options.kernel_stacks = options.kernel_stacks;
  sampler_options.goroutine_ids = true;
  // Debugging knob (and how the tests provoke drops): ring buffer size in
  // bytes, a power of two multiple of the page size.
  if (const char* bytes = std::getenv("GOLENS_RINGBUF_BYTES")) {
    unsigned long long n = std::strtoull(bytes, nullptr, 10);
    if (n >= 4096 && (n & (n - 1)) == 0) {
      sampler_options.ringbuf_bytes = static_cast<size_t>(n);
    } else {
      GOLENS_LOG(kWarn) << "GOLENS_RINGBUF_BYTES=" << bytes << " ignored: not a power of two >= 4096";
    }
  }
  auto sampler_or = BpfSampler::Create(sampler_options, [&](const golens_sample& s) {
    auto it = by_pid.find(static_cast<pid_t>(s.tgid));
    if (it == by_pid.end()) {
      ++unknown_tgid;  // a target removed a moment ago; its last samples are dropped
      return;
    }
    ++it->second->samples;
    aggregator.Add(s, leaf_fixup.UserStack(s, *it->second));
  });
  if (!sampler_or.ok()) return sampler_or.error();
  std::unique_ptr<BpfSampler> sampler = std::move(sampler_or).value();

  for (auto& target : targets) {
    GOLENS_TRY_VOID(sampler->SetTarget(target->pid(), MakeProcInfo(target->go_info())));
    by_pid[target->pid()] = target.get();
  }

  // `-- CMD`: fork, make the waiting child a target, attach, then let it exec.
  std::unique_ptr<LaunchedProcess> child;
  if (!options.command.empty()) {
    GOLENS_TRY(child, LaunchedProcess::Fork(options.command));
    golens_proc_info info{};
    auto binary = binaries.GetForPath(child->executable());
    if (binary.ok()) info = MakeProcInfo(*go_infos.Get(**binary));
    info.flags |= GOLENS_PROC_PENDING_EXEC;
    GOLENS_TRY_VOID(sampler->SetTarget(child->pid(), info));
  }

  StopSignals signals;
  GOLENS_TRY_VOID(sampler->Start());
  const int64_t start_wall = WallNanos();
  const Clock::time_point start = Clock::now();

  if (child) {
    GOLENS_TRY_VOID(child->Release());
    auto target = TargetProcess::Attach(child->pid(), &binaries, &go_infos);
    if (target.ok()) {
      ReportTarget(**target);
      // What actually runs now (a script's interpreter, say), without PENDING_EXEC.
      GOLENS_TRY_VOID(sampler->SetTarget(child->pid(), MakeProcInfo((*target)->go_info())));
      by_pid[child->pid()] = target->get();
      targets.push_back(std::move(target).value());
    } else {
      // Exited before we could read its maps: nothing of it can be symbolized.
      GOLENS_LOG(kWarn) << "command " << child->executable() << ": " << target.error().message;
    }
  }

  GOLENS_LOG(kInfo) << "recording " << (child ? 1 : targets.size()) << " process"
                    << ((child ? 1 : targets.size()) == 1 ? "" : "es") << " at " << options.hz
                    << " Hz for up to "
                    << std::chrono::duration<double>(options.duration).count()
                    << "s (Ctrl-C to stop)";

  const Clock::time_point deadline = start + options.duration;
  Clock::time_point last_refresh = start;
  std::string stop_reason = "duration reached";
  while (true) {
    Result<void> polled = sampler->Poll(static_cast<int>(kPollInterval.count()));
    if (!polled.ok()) {
      GOLENS_LOG(kWarn) << polled.error().message;
    }
    if (int sig = signals.received()) {
      stop_reason = sig == SIGINT ? "interrupted" : "terminated";
      break;
    }
    Clock::time_point now = Clock::now();
    if (now >= deadline) break;

    size_t running = 0;
    for (auto& target : targets) {
      if (target->ended()) continue;
      bool exited = (child && target->pid() == child->pid()) ? child->TryReap() : target->HasExited();
      if (exited) {
        target->MarkEnded();
        sampler->RemoveTarget(target->pid());
        GOLENS_LOG(kInfo) << Describe(*target) << " exited";
      } else {
        ++running;
      }
    }
    if (child && !child->exited() && by_pid.find(child->pid()) == by_pid.end()) {
      ++running;  // launched but not attached: keep going until it exits
      child->TryReap();
    }
    if (running == 0) {
      stop_reason = "all targets exited";
      break;
    }
    if (now - last_refresh >= kMapsRefreshInterval) {
      for (auto& target : targets) target->RefreshMappings();
      last_refresh = now;
    }
  }

  sampler->Stop();
  const Clock::time_point stop = Clock::now();
  GOLENS_LOG(kInfo) << "recording stopped (" << stop_reason << "), writing the profile";
  (void)sampler->Drain();
  Metrics metrics = sampler->ReadMetrics();
  for (int i = 0; i < GOLENS_METRIC_COUNT; ++i) {
    if (metrics[i]) {
      GOLENS_LOG(kDebug) << "bpf metric " << MetricName(i) << ": " << metrics[i];
    }
  }
  if (unknown_tgid) {
    GOLENS_LOG(kDebug) << unknown_tgid << " samples of unknown processes dropped";
  }
  for (const auto& target : targets) {
    GOLENS_LOG(kDebug) << Describe(*target) << ": " << target->samples << " samples";
  }
  if (leaf_fixup.trimmed()) {
    GOLENS_LOG(kDebug) << leaf_fixup.trimmed()
                       << " samples: user stack cut at a frame outside executable memory";
  }
  if (leaf_fixup.restored()) {
    GOLENS_LOG(kDebug) << leaf_fixup.restored() << " samples: caller of a frameless leaf restored";
  }

  RecordSummary summary;
  if (child) {
    if (!child->TryReap()) child->Terminate(kTerminateGrace);
    summary.command_exit = child->DescribeExit();
    summary.command_exit_code = child->exit_code();
  }

  CpuProfileInput input;
  input.samples = &aggregator;
  for (auto& target : targets) input.targets.push_back(target.get());
  input.kallsyms = kallsyms.get();
  input.hz = options.hz;
  input.time_nanos = start_wall;
  input.duration_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
  input.per_goroutine = per_goroutine;
  for (auto& target : targets) {
    std::string line = "golens record: " + Describe(*target);
    input.comments.push_back(line);
  }
  GOLENS_TRY(pprof::Profile profile, BuildCpuProfile(input));
  GOLENS_TRY_VOID(pprof::WritePprofFile(profile, options.output));
  if (!options.svg.empty()) {
    web::FlameOptions flame;
    flame.title = "CPU flame graph: golens record";
    GOLENS_TRY(std::string svg, web::RenderFlameGraph(profile, flame));
    GOLENS_TRY_VOID(pprof::WriteFileAtomically(options.svg, svg));
  }

  summary.samples = aggregator.total();
  summary.lost = metrics[GOLENS_METRIC_RINGBUF_FULL] + unknown_tgid;
  summary.processes = targets.size();
  summary.seconds = std::chrono::duration<double>(stop - start).count();
  return summary;
}

}  // namespace golens::profiler
