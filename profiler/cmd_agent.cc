// golens agent: continuous profiling into a local store (and Pyroscope).
// Flags, signals and messages here; the work is profiler::Agent.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "profiler/agent.h"
#include "profiler/agent_metrics.h"
#include "profiler/metrics_server.h"
#include "profiler/base/log.h"
#include "profiler/capabilities.h"
#include "profiler/cli_errors.h"
#include "profiler/cmd_maps_options.h"
#include "profiler/cmd_signals.h"
#include "profiler/commands.h"
#include "profiler/base/duration.h"

namespace golens::cli {
namespace {

struct AgentFlags {
  std::string store;
  std::vector<int> pids;
  std::vector<std::string> exe_names;
  bool all_go = false;
  std::string interval = "10s";
  int hz = 19;
  std::string retention = "168h";
  bool spans = false;
  MapsFlags maps;
  std::string service;
  std::string push;
  std::vector<std::string> push_headers;
  std::string otlp_endpoint;
  std::vector<std::string> otlp_headers;
  bool no_kernel = false;
  std::string metrics_listen;
  std::string max_overhead;
  size_t metrics_map_sites = 100;
};

Error Usage(const std::string& message) { return MakeError(message, ErrorKind::kInvalidArgument); }

// 'Name: value' header flags (--push-header, --otlp-header).
Result<std::vector<std::pair<std::string, std::string>>> ParseHeaders(const std::vector<std::string>& flags,
                                                                      const std::string& flag) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const std::string& header : flags) {
    size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) return Usage(flag + " \"" + header + "\": want 'Name: value'");
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    headers.emplace_back(header.substr(0, colon), value);
  }
  return headers;
}

Result<profiler::AgentOptions> MakeOptions(const AgentFlags& flags) {
  profiler::AgentOptions options;
  options.store_dir = flags.store;
  for (int pid : flags.pids) {
    if (pid <= 0) return Usage("--pid " + std::to_string(pid) + ": not a process id");
    options.rules.pids.insert(pid);
  }
  options.rules.exe_names.insert(flags.exe_names.begin(), flags.exe_names.end());
  // With no selection at all, every Go program on the host (as a host agent).
  options.rules.all_go = flags.all_go || (flags.pids.empty() && flags.exe_names.empty());
  auto interval = profiler::ParseDuration(flags.interval);
  if (!interval.ok()) return interval.error().Context("--interval");
  options.interval = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
  if (options.interval < std::chrono::seconds(1)) return Usage("--interval: at least 1s");
  auto retention = profiler::ParseDuration(flags.retention);
  if (!retention.ok()) return retention.error().Context("--retention");
  options.retention = std::chrono::duration_cast<std::chrono::seconds>(*retention);
  if (flags.hz < 1 || flags.hz > 10000) return Usage("--hz: between 1 and 10000");
  options.hz = flags.hz;
  options.spans = flags.spans;
  options.kernel_stacks = !flags.no_kernel;
  options.service = flags.service;
  options.metrics_map_sites = flags.metrics_map_sites;
  if (!flags.max_overhead.empty()) {
    std::string text = flags.max_overhead;
    bool percent = !text.empty() && text.back() == '%';
    if (percent) text.pop_back();
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || !end || *end != '\0' || !(value > 0) || value > (percent ? 100 : 1)) {
      return Usage("--max-overhead " + flags.max_overhead + ": a share of the host's CPU, e.g. 1% or 0.01");
    }
    options.max_overhead = percent ? value / 100 : value;
  }
  GOLENS_TRY_VOID(ApplyMapsFlags(flags.maps, &options.maps));
  if (!flags.push.empty()) {
    profiler::PushOptions push;
    push.url = flags.push;
    GOLENS_TRY(push.headers, ParseHeaders(flags.push_headers, "--push-header"));
    options.push = push;
  } else if (!flags.push_headers.empty()) {
    return Usage("--push-header needs --push URL");
  }
  if (!flags.otlp_endpoint.empty()) {
    // The spans are what is exported: without --spans there would be none.
    if (!flags.spans) return Usage("--otlp-endpoint needs --spans (the HTTP spans are what it exports)");
    profiler::OtlpOptions otlp;
    otlp.endpoint = flags.otlp_endpoint;
    GOLENS_TRY(otlp.headers, ParseHeaders(flags.otlp_headers, "--otlp-header"));
    options.otlp = otlp;
  } else if (!flags.otlp_headers.empty()) {
    return Usage("--otlp-header needs --otlp-endpoint URL");
  }
  return options;
}

Result<void> RunAgent(const AgentFlags& flags) {
  GOLENS_TRY(profiler::AgentOptions options, MakeOptions(flags));
  GOLENS_TRY_VOID(profiler::CheckSamplingCapabilities());
  GOLENS_TRY(std::unique_ptr<profiler::Agent> agent, profiler::Agent::Create(options));
  std::unique_ptr<profiler::MetricsServer> metrics;
  if (!flags.metrics_listen.empty()) {
    size_t colon = flags.metrics_listen.rfind(':');
    std::string port = colon == std::string::npos ? "" : flags.metrics_listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
      return Usage("--metrics-listen " + flags.metrics_listen + ": want HOST:PORT");
    }
    std::string host = flags.metrics_listen.substr(0, colon);
    if (host.empty()) host = "127.0.0.1";
    profiler::Agent* a = agent.get();
    GOLENS_TRY(metrics, profiler::MetricsServer::Start(host, std::stoi(port), [a] {
                 return profiler::PrometheusText(a->stats(), profiler::ReadProcessSelfStats(),
                                                 profiler::DirectoryBytes(a->store_dir()), a->map_sites());
               }));
    GOLENS_LOG(kInfo) << "agent: Prometheus metrics at http://" << host << ":" << metrics->port() << "/metrics";
  }
  StopSignals signals;
  GOLENS_LOG(kInfo) << "agent: profiling "
                    << (options.rules.all_go ? "every Go program" : "the selected processes") << " at "
                    << options.hz << " Hz into " << options.store_dir << " every " << flags.interval
                    << (options.push ? ", pushing to " + options.push->url : "")
                    << (options.otlp ? ", spans to " + options.otlp->endpoint + "/v1/traces" : "")
                    << "; stop with Ctrl-C";
  GOLENS_TRY_VOID(agent->Run(signals.stop_flag()));
  profiler::AgentStats s = agent->stats();
  std::string summary = "agent: stopped after " + std::to_string(s.intervals) + " intervals; " +
                        std::to_string(s.profiles_stored) + " profiles stored";
  if (s.profiles_dropped) summary += ", " + std::to_string(s.profiles_dropped) + " dropped (store not writable)";
  if (s.push) {
    summary += "; pushed " + std::to_string(s.push->sent);
    uint64_t lost = s.push->dropped_full + s.push->rejected + s.push->dropped_at_stop;
    if (lost) summary += ", " + std::to_string(lost) + " not pushed";
  }
  if (s.otlp) {
    summary += "; " + std::to_string(s.otlp->exported) + " of " + std::to_string(s.spans_finished) +
               " spans exported (OTLP)";
    uint64_t lost = s.otlp->rejected_spans + s.otlp->invalid_spans + s.otlp->dropped_full + s.otlp->dropped_at_stop;
    if (lost) {
      summary += ", " + std::to_string(lost) + " not (" + std::to_string(s.otlp->rejected_spans) + " refused, " +
                 std::to_string(s.otlp->dropped_full) + " queue full, " + std::to_string(s.otlp->dropped_at_stop) +
                 " at stop)";
    }
    if (uint64_t failed = s.otlp->failed_unreachable + s.otlp->failed_retryable) {
      summary += ", " + std::to_string(failed) + " failed attempts retried";
    }
  }
  if (uint64_t lost = s.session.lost()) {
    summary += "; " + std::to_string(lost) + " samples lost (" +
               std::to_string(s.session.bpf[GOLENS_METRIC_RINGBUF_FULL]) + " ring buffer full)";
  }
  GOLENS_LOG(kInfo) << summary;
  return Ok();
}

}  // namespace

void RegisterAgentCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<AgentFlags>();
  CLI::App* cmd = app.add_subcommand(
      "agent", "Profile continuously into a local store (and push to Pyroscope) until stopped");
  cmd->add_option("--store", flags->store, "Store directory (created when missing)")->required();
  cmd->add_option("--pid", flags->pids, "Profile this process (repeatable)");
  cmd->add_option("--exe-name", flags->exe_names, "Profile processes running an executable of this file name (repeatable)");
  cmd->add_flag("--all-go", flags->all_go, "Profile every Go program on the host (the default without --pid/--exe-name)");
  cmd->add_option("--interval", flags->interval, "One stored profile per process per interval")->capture_default_str();
  cmd->add_option("--hz", flags->hz, "Samples per second per CPU")->capture_default_str();
  cmd->add_option("--retention", flags->retention, "Delete stored profiles older than this")->capture_default_str();
  cmd->add_flag("--spans", flags->spans, "Zero-code HTTP spans (trace_id/span_id labels), as in record");
  AddMapsFlags(cmd, &flags->maps, /*probe_file=*/false);
  cmd->add_option("--service", flags->service,
                  "Service name for every target (default: GOLENS_SERVICE or OTEL_SERVICE_NAME in the "
                  "target's environment, else its executable's name)");
  cmd->add_option("--push", flags->push, "Also push each profile to this Grafana Pyroscope URL (http://host:4040)");
  cmd->add_option("--push-header", flags->push_headers, "Header for push requests, 'Name: value' (repeatable)");
  cmd->add_option("--otlp-endpoint", flags->otlp_endpoint,
                  "With --spans: also export the HTTP spans as OpenTelemetry traces to this OTLP/HTTP receiver "
                  "(http://host:4318; requests go to its /v1/traces)");
  cmd->add_option("--otlp-header", flags->otlp_headers, "Header for OTLP requests, 'Name: value' (repeatable)");
  cmd->add_flag("--no-kernel", flags->no_kernel, "Leave out kernel stacks");
  cmd->add_option("--metrics-listen", flags->metrics_listen,
                  "Serve Prometheus metrics (agent health, Go map sites) at http://HOST:PORT/metrics");
  cmd->add_option("--max-overhead", flags->max_overhead,
                  "Keep the agent's cost (its CPU and its BPF programs') under this share of the host's CPU, "
                  "e.g. 1%: lowers the sampling rate, then turns map lookup probes and span probes off; raises them "
                  "when load allows");
  cmd->add_option("--metrics-map-sites", flags->metrics_map_sites, "Map access sites exported as metrics (top by CPU)")
      ->capture_default_str();
  cmd->callback([flags, exit_code] {
    auto outcome = RunAgent(*flags);
    if (!outcome.ok()) {
      GOLENS_LOG(kError) << outcome.error().message;
      *exit_code = ExitCodeFor(outcome.error());
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace golens::cli
