// golens record (--pid PID [--pid PID ...] [--children] | -- CMD [ARGS...] [--no-children])
//               [--duration D] [--hz 99] [-o cpu.pb.gz] [--svg flame.svg]
//               [--per-goroutine] [--no-kernel] [--no-labels] [--spans [--spans-out F]]
//               [--no-native] [--native-stack-bytes 16384]
//
// The command layer over profiler::Session: flags, signals, the launched
// command, output files, messages and the exit status. Launch mode behaves
// like `perf record -- CMD`: the command's stdout and stdin are untouched
// (golens writes only to stderr), it runs until it exits unless --duration
// is given, its children are recorded too, and golens exits with its status.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "pprof/output_file.h"
#include "pprof/profile_io.h"
#include "profiler/base/log.h"
#include "profiler/capabilities.h"
#include "profiler/cli_errors.h"
#include "profiler/cmd_signals.h"
#include "profiler/cmd_maps_options.h"
#include "profiler/commands.h"
#include "profiler/base/duration.h"
#include "profiler/process_launcher.h"
#include "profiler/process_source.h"
#include "profiler/session.h"
#include "profiler/spans.h"
#include "web/flamegraph.h"

namespace golens::cli {
namespace {

using Clock = std::chrono::steady_clock;
using profiler::ProcessState;

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kTerminateGrace = std::chrono::seconds(5);

struct RecordFlags {
  std::vector<int> pids;
  std::vector<std::string> command;
  std::string duration;  // "" = 30s with --pid, until the command exits with -- CMD
  int hz = 99;
  std::string output = "cpu.pb.gz";
  std::string svg;
  bool per_goroutine = false;
  bool no_kernel = false;
  bool no_labels = false;
  bool spans = false;
  std::string spans_out;
  MapsFlags maps;
  bool children = false;
  bool no_children = false;
  bool no_native = false;
  int64_t native_stack_bytes = profiler::kDefaultNativeStackBytes;
};

// A usage error (exit 2) with the message as it stands.
Error Usage(const std::string& message) { return MakeError(message, ErrorKind::kInvalidArgument); }

std::string FormatSeconds(double seconds) {
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  }
  return buf;
}

std::string Describe(const ProcessState& p) {
  std::ostringstream s;
  s << "pid " << p.pid() << " (" << (p.exe_path().empty() ? "?" : p.exe_path());
  if (p.main_binary() && p.main_binary()->binary().is_go()) s << ", " << p.main_binary()->binary().go_version();
  s << ")";
  return s.str();
}

// What golens can do for a target's program, said once per program: aloud
// for the processes the user named (or launched), in -v for their children.
void ReportProgram(const ProcessState& p, bool named) {
  if (!p.main_binary()) return;
  const profiler::GoBinaryInfo& go = p.main_binary()->go_info();
  if (!go.is_go) {
    if (named) {
      GOLENS_LOG(kInfo) << Describe(p) << ": not a Go binary; Go features are off (native symbols only)";
    } else {
      GOLENS_LOG(kDebug) << Describe(p) << ": not a Go binary; Go features are off (native symbols only)";
    }
  } else if (!go.go_features_on()) {
    GOLENS_LOG(kWarn) << Describe(p) << ": " << go.go_features_off_reason
                      << "; Go features (goroutine ids, map statistics) are off";
  } else if (!go.offsets_exact) {
    GOLENS_LOG(kWarn) << Describe(p) << ": newer than golens's offset tables; goroutine ids from the newest row, "
                         "pprof labels, spans and map statistics off";
  } else {
    GOLENS_LOG(kDebug) << Describe(p) << ": TLS offset " << go.tls_offset
                       << (go.tls_detected ? " (from runtime.stackcheck)" : " (default)");
  }
}

// utime + stime of a process in seconds, or -1 when it cannot be read.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return -1;
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f && v.size() < 13) v.push_back(f);
  if (v.size() < 13) return -1;
  return (std::stod(v[11]) + std::stod(v[12])) / static_cast<double>(profiler::ClockTicksPerSecond());
}

// --pid values: processes (a thread id is resolved to its process, with a
// note), each once, never golens itself.
Result<std::vector<pid_t>> ResolvePids(const std::vector<int>& pids) {
  std::vector<pid_t> out;
  std::set<pid_t> seen;
  for (int raw : pids) {
    if (raw <= 0) return Usage("--pid " + std::to_string(raw) + ": not a process id");
    pid_t pid = static_cast<pid_t>(raw);
    auto tgid = profiler::ThreadGroupOf(pid);
    if (!tgid.ok()) return Usage("--pid " + std::to_string(pid) + ": no such process");
    if (*tgid != pid) {
      GOLENS_LOG(kInfo) << "--pid " << pid << " is a thread of process " << *tgid << "; recording process " << *tgid;
      pid = *tgid;
    }
    if (pid == getpid()) return Usage("--pid " + std::to_string(pid) + ": that is golens itself");
    if (seen.insert(pid).second) out.push_back(pid);
  }
  return out;
}

Result<void> ValidateFlags(const RecordFlags& f) {
  if (f.pids.empty() == f.command.empty()) return Usage("give either --pid PID (repeatable) or -- CMD [ARGS...]");
  if (f.hz < 1 || f.hz > 10000) return Usage("--hz must be between 1 and 10000");
  if (f.output.empty()) return Usage("-o must name a file (or - for stdout)");
  if (f.children && f.no_children) return Usage("--children and --no-children contradict each other");
  if (f.children && !f.command.empty()) return Usage("--children is for --pid; -- CMD follows children unless --no-children");
  if (f.no_children && f.command.empty()) return Usage("--no-children is for -- CMD; --pid follows children only with --children");
  if (!f.spans_out.empty() && !f.spans) return Usage("--spans-out needs --spans");
  if (f.native_stack_bytes < 512 || f.native_stack_bytes > GOLENS_NATIVE_MAX_STACK_BYTES) {
    return Usage("--native-stack-bytes must be between 512 and " + std::to_string(GOLENS_NATIVE_MAX_STACK_BYTES));
  }
  if (!f.command.empty() && (f.output == "-" || f.svg == "-" || f.spans_out == "-")) {
    return Usage("-o - / --svg - would mix the profile into the command's stdout; name a file");
  }
  return Ok();
}

struct Outcome {
  int exit_code = 0;
};

Result<Outcome> Record(const RecordFlags& flags) {
  GOLENS_TRY_VOID(ValidateFlags(flags));
  const bool launch = !flags.command.empty();
  std::optional<std::chrono::nanoseconds> duration;
  if (!flags.duration.empty()) {
    auto parsed = profiler::ParseDuration(flags.duration);
    if (!parsed.ok()) return Usage("--duration: " + parsed.error().message);
    duration = *parsed;
  } else if (!launch) {
    duration = std::chrono::seconds(30);
  }

  // Outputs first: an unwritable or clashing path fails before anything starts.
  if (auto distinct = pprof::CheckOutputsDistinct({flags.output, flags.svg, flags.spans_out, flags.maps.out});
      !distinct.ok()) {
    return distinct.error().Context("-o, --svg, --spans-out and --maps-out");
  }
  GOLENS_TRY_VOID(pprof::CheckWritable(flags.output));
  if (!flags.svg.empty()) GOLENS_TRY_VOID(pprof::CheckWritable(flags.svg));
  if (!flags.spans_out.empty()) GOLENS_TRY_VOID(pprof::CheckWritable(flags.spans_out));
  GOLENS_TRY_VOID(profiler::CheckSamplingCapabilities());
  GOLENS_TRY(std::vector<pid_t> pids, ResolvePids(flags.pids));

  profiler::SessionOptions options;
  options.hz = flags.hz;
  options.kernel_stacks = !flags.no_kernel;
  options.attributes.goroutine = flags.per_goroutine;
  options.attributes.labels = !flags.no_labels;
  options.spans = flags.spans;
  options.attributes.spans = flags.spans;
  GOLENS_TRY_VOID(ApplyMapsFlags(flags.maps, &options.maps));
  options.native.enabled = !flags.no_native;
  options.native.stack_bytes = static_cast<uint32_t>(flags.native_stack_bytes);
  // Debugging knob (and how the tests provoke drops): ring buffer size in
  // bytes, a power of two multiple of the page size.
  if (const char* bytes = std::getenv("GOLENS_RINGBUF_BYTES")) {
    unsigned long long n = std::strtoull(bytes, nullptr, 10);
    if (n >= 4096 && (n & (n - 1)) == 0) {
      options.ringbuf_bytes = static_cast<size_t>(n);
    } else {
      GOLENS_LOG(kWarn) << "GOLENS_RINGBUF_BYTES=" << bytes << " ignored: not a power of two >= 4096";
    }
  }
  // Debugging knob (and how the tests provoke a recording that misses its
  // targets): GOLENS_PIDNS_TRANSLATION=off.
  if (const char* pidns = std::getenv("GOLENS_PIDNS_TRANSLATION"); pidns && std::string(pidns) == "off") {
    options.translate_pid_namespace = false;
  }
  GOLENS_TRY(auto session, profiler::Session::Create(options));
  // The processes the user named or launched; the drain thread reads it.
  auto named = std::make_shared<std::set<pid_t>>(pids.begin(), pids.end());
  session->SetProgramCallback([named](const ProcessState& p) { ReportProgram(p, named->count(p.pid()) > 0); });
  session->SetGoneCallback([named](const ProcessState& p) {
    if (named->count(p.pid())) {
      GOLENS_LOG(kInfo) << Describe(p) << " exited";
    } else {
      GOLENS_LOG(kDebug) << Describe(p) << " exited";
    }
  });

  std::vector<double> cpu_before;
  for (pid_t pid : pids) {
    auto added = session->AddTarget(pid, {.follow_children = flags.children});
    if (!added.ok()) {
      if (added.error().Is(ErrorKind::kNotFound)) return Usage("--pid " + std::to_string(pid) + ": " + added.error().message);
      return added.error();
    }
    cpu_before.push_back(ProcessCpuSeconds(pid));
  }

  // `-- CMD`: fork, make the waiting child a target, attach, then let it exec.
  std::unique_ptr<profiler::LaunchedProcess> child;
  if (launch) {
    GOLENS_TRY(child, profiler::LaunchedProcess::Fork(flags.command));
    named->insert(child->pid());  // before the session starts: no reader yet
    GOLENS_TRY_VOID(session->AddLaunchedTarget(child->pid(), child->executable(),
                                               {.follow_children = !flags.no_children}));
  }

  StopSignals signals;
  GOLENS_TRY_VOID(session->Start());
  const Clock::time_point start = Clock::now();
  if (child) GOLENS_TRY_VOID(child->Release());

  if (launch) {
    GOLENS_LOG(kInfo) << "recording " << child->executable() << (flags.no_children ? "" : " and its children")
                      << " at " << flags.hz << " Hz"
                      << (duration ? " for up to " + FormatSeconds(std::chrono::duration<double>(*duration).count())
                                   : std::string(" until it exits"));
  } else {
    GOLENS_LOG(kInfo) << "recording " << pids.size() << " process" << (pids.size() == 1 ? "" : "es") << " at "
                      << flags.hz << " Hz for up to " << FormatSeconds(std::chrono::duration<double>(*duration).count())
                      << " (Ctrl-C to stop)";
  }

  std::string stop_reason;
  while (true) {
    Clock::time_point now = Clock::now();
    auto wait = kTick;
    if (duration) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start + *duration - now);
      if (left.count() <= 0 && now >= start + *duration) {
        stop_reason = "duration reached";
        break;
      }
      wait = std::min(wait, std::max(left, std::chrono::milliseconds(1)));
    }
    if (int sig = signals.received()) {
      stop_reason = sig == SIGINT ? "interrupted" : sig == SIGTERM ? "terminated" : "hangup";
      break;
    }
    if (child && child->TryReap()) {
      stop_reason = "command " + child->DescribeExit();
      break;
    }
    if (!launch && session->live_targets() == 0) {
      stop_reason = "all targets exited";
      break;
    }
    std::this_thread::sleep_for(wait);
  }
  // The recording's length and the targets' CPU are taken now, before the
  // session drains what is left (that takes a moment, not recorded time).
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> cpu_after;
  for (pid_t pid : pids) cpu_after.push_back(ProcessCpuSeconds(pid));
  session->Stop();
  GOLENS_LOG(kInfo) << "recording stopped (" << stop_reason << "), writing the profile";

  Outcome outcome;
  double target_cpu = 0;
  if (child) {
    if (!child->TryReap()) child->Terminate(kTerminateGrace);
    outcome.exit_code = child->exit_code().value_or(0);
    target_cpu = child->cpu_seconds();
  } else {
    for (size_t i = 0; i < pids.size(); ++i) {
      if (cpu_after[i] >= 0 && cpu_before[i] >= 0) target_cpu += cpu_after[i] - cpu_before[i];
    }
  }

  profiler::Snapshot snapshot = session->TakeSnapshot();
  profiler::SessionStats stats = session->stats();
  for (int i = 0; i < GOLENS_METRIC_COUNT; ++i) {
    if (stats.bpf[i]) {
      GOLENS_LOG(kDebug) << "bpf metric " << profiler::MetricName(i) << ": " << stats.bpf[i];
    }
  }
  const auto& r = stats.recorder;
  GOLENS_LOG(kDebug) << "recorder: " << r.samples << " samples, " << r.unknown_process << " of unknown processes, "
                     << r.malformed << " malformed, " << r.events << " process events, " << r.leaf_restored
                     << " leaf callers restored, " << r.stacks_cut << " stacks cut, " << r.maps_reads
                     << " maps reads; frame cache " << stats.frames.hits << " hits / " << stats.frames.misses
                     << " misses";
  if (r.native_unwound || r.native_malformed) {
    GOLENS_LOG(kDebug) << "native stacks: " << r.native_unwound << " unwound, " << r.native_cut
                       << " cut before their root, " << r.native_malformed << " malformed snapshots";
  }
  for (const auto& p : snapshot.processes) {
    GOLENS_LOG(kDebug) << "pid " << p.id.pid << " (" << p.exe_path << "): " << p.samples << " samples";
  }
  // A target that used CPU but left no sample: say so, with the likely reason.
  const double expected = target_cpu * flags.hz;
  if (snapshot.samples == 0 && expected >= 3) {
    GOLENS_LOG(kWarn) << "no samples, although the target" << (launch || pids.size() == 1 ? "" : "s") << " used "
                      << FormatSeconds(target_cpu) << " of CPU (~" << static_cast<int>(expected)
                      << " samples expected at " << flags.hz
                      << " Hz); likely reasons: the perf events were not delivered (a virtual machine"
                         " without timers for perf?), or golens and the target are in PID namespaces"
                         " that do not see each other";
  }

  // Every output that can be written is written; a failure of one does not
  // cost the other.
  int failed = 0;
  std::vector<std::string> written;
  if (auto w = pprof::WritePprofFile(snapshot.profile, flags.output); w.ok()) {
    written.push_back(flags.output);
  } else {
    GOLENS_LOG(kError) << "profile not written: " << w.error().message;
    ++failed;
  }
  if (!flags.svg.empty()) {
    web::FlameOptions flame;
    flame.title = "CPU flame graph: golens record";
    AddMapFlameHints(snapshot.profile, &flame);
    auto svg = web::RenderFlameGraph(snapshot.profile, flame);
    Result<void> w = svg.ok() ? pprof::WriteOutputFile(flags.svg, *svg) : Result<void>(svg.error());
    if (w.ok()) {
      written.push_back(flags.svg);
    } else {
      GOLENS_LOG(kError) << "flame graph not written: " << w.error().message;
      ++failed;
    }
  }

  if (!flags.spans_out.empty()) {
    // CLOCK_MONOTONIC (bpf_ktime_get_ns) -> Unix time, for start_unix_nanos.
    const int64_t offset = profiler::MonotonicToUnixNs();
    std::string jsonl;
    std::vector<profiler::FinishedSpan> spans = session->TakeSpans();
    for (const auto& span : spans) jsonl += profiler::SpanJson(span, offset) + "\n";
    if (auto w = pprof::WriteOutputFile(flags.spans_out, jsonl); w.ok()) {
      written.push_back(flags.spans_out + " (" + std::to_string(spans.size()) + " spans)");
    } else {
      GOLENS_LOG(kError) << "spans not written: " << w.error().message;
      ++failed;
    }
  }

  if (!WriteMapProbes(flags.maps, *session, &written)) ++failed;

  std::string outputs;
  for (const auto& w : written) outputs += (outputs.empty() ? "" : ", ") + w;
  size_t processes = snapshot.processes.size();
  std::ostringstream summary;
  summary << snapshot.samples << " samples, " << stats.lost() << " lost, " << processes << " process"
          << (processes == 1 ? "" : "es") << ", " << FormatSeconds(seconds) << " -> "
          << (outputs.empty() ? "nothing written" : outputs);
  if (child) summary << "; command " << child->DescribeExit();
  GOLENS_LOG(kInfo) << summary.str();

  if (failed) outcome.exit_code = outcome.exit_code != 0 ? outcome.exit_code : 1;
  return outcome;
}

}  // namespace

void RegisterRecordCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<RecordFlags>();
  CLI::App* cmd = app.add_subcommand(
      "record", "Record a CPU profile of running processes (--pid) or of a command and its children (-- CMD)");
  cmd->add_option("--pid", flags->pids, "Process to profile (repeatable; a thread id means its process)");
  cmd->add_flag("--children", flags->children, "With --pid: also record processes they fork from now on");
  cmd->add_flag("--no-children", flags->no_children, "With -- CMD: record only the command, not its children");
  cmd->add_option("--duration", flags->duration,
                  "How long to record, Go syntax (30s, 1m30s, 500ms); default 30s with --pid, "
                  "until the command exits with -- CMD");
  cmd->add_option("--hz", flags->hz, "Samples per second per CPU")->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "pprof output file (gzip); - for stdout")->capture_default_str();
  cmd->add_option("--svg", flags->svg, "Also write a flame graph SVG here");
  cmd->add_flag("--per-goroutine", flags->per_goroutine,
                "Keep samples apart per goroutine (numeric label 'goroutine')");
  cmd->add_flag("--no-kernel", flags->no_kernel, "Leave out kernel stacks");
  cmd->add_flag("--spans", flags->spans,
                "Zero-code HTTP spans: samples inside net/http handlers carry trace_id, span_id, "
                "http.method and http.path (uprobes on the handler dispatch)");
  cmd->add_option("--spans-out", flags->spans_out, "With --spans: one JSON line per finished request");
  AddMapsFlags(cmd, &flags->maps);
  cmd->add_flag("--no-labels", flags->no_labels,
                "Leave out the goroutines' pprof labels (copied into every sample by default)");
  cmd->add_flag("--no-native", flags->no_native,
                "Frame pointers only: no snapshots of native (C, cgo, libc) stacks for CFI unwinding");
  cmd->add_option("--native-stack-bytes", flags->native_stack_bytes,
                  "User stack bytes copied per sample outside Go code, for native unwinding")
      ->capture_default_str();
  cmd->add_option("command", flags->command, "Command to start and profile, after --");
  cmd->positionals_at_end(false);
  cmd->callback([flags, exit_code] {
    auto outcome = Record(*flags);
    if (!outcome.ok()) {
      GOLENS_LOG(kError) << outcome.error().message;
      *exit_code = ExitCodeFor(outcome.error());
      return;
    }
    *exit_code = outcome->exit_code;
  });
}

}  // namespace golens::cli
