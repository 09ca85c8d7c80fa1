#include "profiler/agent_metrics.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace golens::profiler {
namespace {

// Label values of golens_bpf_events_total: stable identifiers of the BPF
// counters (bpf/abi.h golens_metric); a counter this table does not know
// yet is exported as metric_<N>.
std::string BpfCounterId(int metric) {
  switch (metric) {
    case GOLENS_METRIC_SAMPLES: return "samples";
    case GOLENS_METRIC_RINGBUF_FULL: return "ringbuf_full";
    case GOLENS_METRIC_PENDING_EXEC: return "pending_exec";
    case GOLENS_METRIC_USER_STACK_ERROR: return "user_stack_error";
    case GOLENS_METRIC_KERNEL_STACK_ERROR: return "kernel_stack_error";
    case GOLENS_METRIC_TLS_READ_ERROR: return "tls_read_error";
    case GOLENS_METRIC_G_FROM_R14: return "g_from_r14";
    case GOLENS_METRIC_GOID_READ_ERROR: return "goid_read_error";
    case GOLENS_METRIC_SYSTEM_STACK: return "system_stack";
    case GOLENS_METRIC_NO_CURG: return "no_curg";
    case GOLENS_METRIC_USER_SP_READ_ERROR: return "user_sp_read_error";
    case GOLENS_METRIC_EXEC_SEEN: return "exec_seen";
    case GOLENS_METRIC_FORK_FOLLOWED: return "fork_followed";
    case GOLENS_METRIC_EXIT_SEEN: return "exit_seen";
    case GOLENS_METRIC_EVENT_LOST: return "event_lost";
    case GOLENS_METRIC_TARGETS_FULL: return "targets_full";
    case GOLENS_METRIC_SCRATCH_ERROR: return "scratch_error";
    case GOLENS_METRIC_LABELS_READ: return "labels_read";
    case GOLENS_METRIC_LABELS_READ_ERROR: return "labels_read_error";
    case GOLENS_METRIC_LABELS_CUT: return "labels_cut";
    case GOLENS_METRIC_SPAN_STARTED: return "span_started";
    case GOLENS_METRIC_SPAN_ENDED: return "span_ended";
    case GOLENS_METRIC_SPAN_ERROR: return "span_error";
    case GOLENS_METRIC_SPAN_LOST: return "span_lost";
    case GOLENS_METRIC_MAP_PC: return "map_pc";
    case GOLENS_METRIC_MAP_NO_POINTER: return "map_no_pointer";
    case GOLENS_METRIC_MAP_READ_ERROR: return "map_read_error";
    case GOLENS_METRIC_MAP_IMPLAUSIBLE: return "map_implausible";
    case GOLENS_METRIC_MAP_STATS: return "map_stats";
    case GOLENS_METRIC_MAP_PROBE: return "map_probe";
    case GOLENS_METRIC_MAP_PROBE_ERROR: return "map_probe_error";
    case GOLENS_METRIC_MAP_PROBE_LOST: return "map_probe_lost";
    case GOLENS_METRIC_NATIVE_SNAPSHOT: return "native_snapshot";
    case GOLENS_METRIC_NATIVE_FROM_FP_WALK: return "native_from_fp_walk";
    case GOLENS_METRIC_NATIVE_STACK_SHORT: return "native_stack_short";
    case GOLENS_METRIC_NATIVE_NO_ROOM: return "native_no_room";
    case GOLENS_METRIC_STAGE_MISSED: return "stage_missed";
    case GOLENS_METRIC_STAGE_ERROR: return "stage_error";
    default: return "metric_" + std::to_string(metric);
  }
}

class Writer {
 public:
  void Family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Value(std::string_view name, double value, std::string_view labels = "", std::string_view extra_label = "") {
    out_ += name;
    if (!labels.empty() || !extra_label.empty()) {
      out_ += '{';
      out_ += labels;
      if (!labels.empty() && !extra_label.empty()) out_ += ',';
      out_ += extra_label;
      out_ += '}';
    }
    out_ += ' ';
    // Counts are most of a histogram's text: integers without printf.
    char buf[64];
    if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
      out_.append(buf, end);
    } else {
      int n = std::snprintf(buf, sizeof buf, "%.17g", value);
      out_.append(buf, static_cast<size_t>(n));
    }
    out_ += '\n';
  }
  void One(const std::string& name, const char* type, const std::string& help, double value) {
    Family(name, type, help);
    Value(name, value);
  }
  // A Prometheus histogram from exact counts per value: cumulative buckets
  // at `bounds`, +Inf, _sum and _count.
  void Histogram(const std::string& name, const std::map<uint32_t, uint64_t>& counts,
                 const std::vector<uint32_t>& bounds, const std::string& labels) {
    uint64_t total = 0;
    double sum = 0;
    for (const auto& [value, n] : counts) {
      total += n;
      sum += static_cast<double>(value) * static_cast<double>(n);
    }
    const std::string bucket = name + "_bucket";
    auto it = counts.begin();
    uint64_t below = 0;
    char le[32];
    for (uint32_t bound : bounds) {
      for (; it != counts.end() && it->first <= bound; ++it) below += it->second;
      int n = std::snprintf(le, sizeof le, "le=\"%u\"", bound);
      Value(bucket, static_cast<double>(below), labels, std::string_view(le, static_cast<size_t>(n)));
    }
    Value(bucket, static_cast<double>(total), labels, "le=\"+Inf\"");
    Value(name + "_sum", sum, labels);
    Value(name + "_count", static_cast<double>(total), labels);
  }
  std::string str() const { return out_; }

 private:
  std::string out_;
};

std::string SiteLabels(const std::pair<std::string, std::string>& service_site);

}  // namespace

std::string EscapePrometheusLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

std::string SiteLabels(const std::pair<std::string, std::string>& service_site) {
  return "service=\"" + EscapePrometheusLabel(service_site.first) + "\",site=\"" +
         EscapePrometheusLabel(service_site.second) + "\"";
}

}  // namespace

ProcessSelfStats ReadProcessSelfStats() {
  ProcessSelfStats s;
  std::ifstream stat("/proc/self/stat");
  std::string text;
  std::getline(stat, text);
  size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14 || i == 15) s.cpu_seconds += std::strtod(field.c_str(), nullptr) / ticks;
    }
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_bytes = std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return s;
}

int64_t DirectoryBytes(const std::string& dir) {
  int64_t total = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) {
    struct stat st;
    std::string path = dir + "/" + e->d_name;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += st.st_size;
  }
  ::closedir(d);
  return total;
}

std::string PrometheusText(const AgentStats& s, const ProcessSelfStats& self, int64_t store_bytes,
                           const MapSiteGauges& maps) {
  Writer w;
  w.One("golens_agent_targets", "gauge", "Processes being profiled now.", static_cast<double>(s.live_targets));
  w.One("golens_agent_targets_added_total", "counter", "Processes that became targets.", static_cast<double>(s.targets_added));
  w.One("golens_agent_target_attach_failures_total", "counter",
        "Matching processes that could not be profiled (exited at once, no permission).",
        static_cast<double>(s.targets_failed));
  w.One("golens_agent_intervals_total", "counter", "Intervals taken.", static_cast<double>(s.intervals));
  w.One("golens_agent_samples_total", "counter", "CPU samples aggregated into profiles.",
        static_cast<double>(s.session.recorder.samples));
  w.Family("golens_agent_samples_lost_total", "counter", "CPU samples lost, by cause.");
  w.Value("golens_agent_samples_lost_total", static_cast<double>(s.session.bpf[GOLENS_METRIC_RINGBUF_FULL]),
          "cause=\"ringbuf_full\"");
  w.Value("golens_agent_samples_lost_total", static_cast<double>(s.session.recorder.unknown_process),
          "cause=\"unknown_process\"");
  w.Value("golens_agent_samples_lost_total", static_cast<double>(s.session.recorder.malformed), "cause=\"malformed\"");
  w.Value("golens_agent_samples_lost_total", static_cast<double>(s.session.bpf[GOLENS_METRIC_STAGE_ERROR]),
          "cause=\"sampler_stage\"");
  w.Family("golens_bpf_events_total", "counter", "The BPF programs' own counters (bpf/abi.h golens_metric).");
  for (int i = 0; i < GOLENS_METRIC_COUNT; ++i) {
    w.Value("golens_bpf_events_total", static_cast<double>(s.session.bpf[i]), "counter=\"" + BpfCounterId(i) + "\"");
  }
  w.One("golens_agent_profiles_stored_total", "counter", "Profiles written to the store.",
        static_cast<double>(s.profiles_stored));
  w.One("golens_agent_profiles_dropped_total", "counter", "Profiles that could not be stored (disk full, I/O errors).",
        static_cast<double>(s.profiles_dropped));
  w.One("golens_agent_retention_deleted_total", "counter", "Stored profiles deleted by retention.",
        static_cast<double>(s.retention_deleted));
  w.One("golens_agent_store_bytes", "gauge", "Bytes of the store's files on disk.", static_cast<double>(store_bytes));
  w.One("golens_agent_snapshot_seconds_total", "counter",
        "Time spent building and symbolizing interval profiles.", s.snapshot_seconds);
  w.One("golens_agent_spans_finished_total", "counter", "HTTP requests seen to finish (--spans).",
        static_cast<double>(s.spans_finished));
  if (s.push) {
    w.One("golens_agent_push_queue_depth", "gauge", "Profiles waiting to be pushed.",
          static_cast<double>(s.push->queue_depth));
    w.One("golens_agent_push_sent_total", "counter", "Profiles pushed.", static_cast<double>(s.push->sent));
    w.Family("golens_agent_push_failures_total", "counter", "Push attempts that failed or profiles not pushed, by reason.");
    w.Value("golens_agent_push_failures_total", static_cast<double>(s.push->failed_attempts), "reason=\"attempt_failed\"");
    w.Value("golens_agent_push_failures_total", static_cast<double>(s.push->dropped_full), "reason=\"queue_full\"");
    w.Value("golens_agent_push_failures_total", static_cast<double>(s.push->rejected), "reason=\"rejected\"");
    w.One("golens_agent_push_up", "gauge", "1 when the last push attempt reached the server.", s.push->server_up ? 1 : 0);
  }
  if (s.overhead >= 0) {
    w.One("golens_agent_overhead_ratio", "gauge",
          "The agent's cost over the last interval (its CPU and its BPF programs' run time) as a fraction of the "
          "host's CPU.",
          s.overhead);
    w.One("golens_agent_overhead_budget_ratio", "gauge", "--max-overhead as a fraction of the host's CPU.",
          s.overhead_budget);
    w.One("golens_agent_sampling_hz", "gauge", "The sampling rate the budget lets the agent use now.", s.hz);
    w.One("golens_agent_spans_active", "gauge", "1 when the span probes are attached.", s.spans_active ? 1 : 0);
    w.One("golens_agent_map_probes_active", "gauge", "1 when deep map mode's lookup probes are cycling.",
          s.map_probes_active ? 1 : 0);
    w.Family("golens_agent_budget_changes_total", "counter", "Changes the overhead budget made, by direction.");
    w.Value("golens_agent_budget_changes_total", static_cast<double>(s.budget_lowered), "direction=\"down\"");
    w.Value("golens_agent_budget_changes_total", static_cast<double>(s.budget_raised), "direction=\"up\"");
  }
  if (s.otlp) {
    w.One("golens_agent_spans_exported_total", "counter", "HTTP spans an OTLP receiver accepted (--otlp-endpoint).",
          static_cast<double>(s.otlp->exported));
    w.Family("golens_agent_span_export_failures_total", "counter",
             "OTLP export requests that failed, by reason (unreachable and busy are retried; rejected drops "
             "the request's spans).");
    w.Value("golens_agent_span_export_failures_total", static_cast<double>(s.otlp->failed_unreachable),
            "reason=\"unreachable\"");
    w.Value("golens_agent_span_export_failures_total", static_cast<double>(s.otlp->failed_retryable),
            "reason=\"busy\"");
    w.Value("golens_agent_span_export_failures_total", static_cast<double>(s.otlp->failed_rejected),
            "reason=\"rejected\"");
    w.Family("golens_agent_spans_dropped_total", "counter", "HTTP spans not exported over OTLP, by reason.");
    w.Value("golens_agent_spans_dropped_total", static_cast<double>(s.otlp->dropped_full), "reason=\"queue_full\"");
    w.Value("golens_agent_spans_dropped_total", static_cast<double>(s.otlp->rejected_spans), "reason=\"rejected\"");
    w.Value("golens_agent_spans_dropped_total", static_cast<double>(s.otlp->invalid_spans), "reason=\"invalid\"");
    w.Value("golens_agent_spans_dropped_total", static_cast<double>(s.otlp->dropped_at_stop), "reason=\"stopped\"");
    w.One("golens_agent_span_export_queue_depth", "gauge", "HTTP spans waiting to be exported over OTLP.",
          static_cast<double>(s.otlp->queue_depth));
    w.One("golens_agent_span_export_up", "gauge", "1 when the last OTLP export attempt reached the receiver.",
          s.otlp->receiver_up ? 1 : 0);
  }
  w.One("process_cpu_seconds_total", "counter", "User and system CPU time of the golens agent.", self.cpu_seconds);
  w.One("process_resident_memory_bytes", "gauge", "Resident memory of the golens agent.",
        static_cast<double>(self.rss_bytes));

  auto top = maps.Top();
  std::vector<std::string> site_labels;  // escaped once per site, used by every family
  site_labels.reserve(top.size());
  for (const auto& entry : top) site_labels.push_back(SiteLabels(entry.first));
  w.Family("golens_map_site_cpu_seconds_total", "counter",
           "CPU in Go map operations called from a site (top sites by CPU).");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    w.Value("golens_map_site_cpu_seconds_total", static_cast<double>(site.cpu_ns) / 1e9, site_labels[i]);
  }
  w.Family("golens_map_site_entries", "gauge", "Entries of the map last sampled at a site (map_len).");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    if (site.len < 0) continue;
    w.Value("golens_map_site_entries", site.len, site_labels[i]);
  }
  w.Family("golens_map_site_load_ratio", "gauge",
           "Load of the map last sampled at a site, as a fraction of what it holds before growing.");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    if (site.load_ratio < 0) continue;
    w.Value("golens_map_site_load_ratio", site.load_ratio, site_labels[i]);
  }
  // Deep mode: probe counts run to 8 slots x 16 buckets (bucket maps) and
  // bucket depth to BPF's walk limit; the bounds resolve the healthy range
  // (1-2) finely and long chains coarsely, as a Grafana heatmap needs.
  static const std::vector<uint32_t> kProbeBounds = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 64, 128};
  static const std::vector<uint32_t> kDepthBounds = {1, 2, 3, 4, 6, 8, 12, 16};
  w.Family("golens_map_lookup_probes", "histogram",
           "Per probed map lookup at a site (deep mode): slots compared (bucket maps, Go < 1.24) or groups "
           "examined (Swiss tables).");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    if (site.lookups.lookups == 0) continue;
    w.Histogram("golens_map_lookup_probes", site.lookups.probes, kProbeBounds, site_labels[i]);
  }
  w.Family("golens_map_lookup_bucket_depth", "histogram",
           "Per probed map lookup at a site (deep mode): buckets of the overflow chain visited (1 = the key's own "
           "bucket), or groups visited (Swiss tables).");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    if (site.lookups.lookups == 0) continue;
    w.Histogram("golens_map_lookup_bucket_depth", site.lookups.depth, kDepthBounds, site_labels[i]);
  }
  w.Family("golens_map_lookup_hits_total", "counter", "Probed map lookups at a site that found their key (deep mode).");
  for (size_t i = 0; i < top.size(); ++i) {
    const MapSiteGauges::Site& site = top[i].second;
    if (site.lookups.lookups == 0) continue;
    w.Value("golens_map_lookup_hits_total", static_cast<double>(site.lookups.hits), site_labels[i]);
  }
  return w.str();
}

}  // namespace golens::profiler
