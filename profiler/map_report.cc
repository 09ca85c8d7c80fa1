#include "profiler/map_report.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "profiler/attributes.h"
#include "profiler/map_probe_stats.h"

namespace golens::profiler {
namespace {


struct Values {
  std::vector<std::pair<int64_t, int64_t>> points;  // (value, weight)
  void Add(int64_t value, int64_t weight) {
    if (weight > 0) points.emplace_back(value, weight);
  }
  MapLabelStats Stats() {
    MapLabelStats s;
    if (points.empty()) return s;
    std::sort(points.begin(), points.end());
    for (const auto& [v, w] : points) s.weight += w;
    auto quantile = [&](double q) {
      const double at = q * static_cast<double>(s.weight);
      int64_t seen = 0;
      for (const auto& [v, w] : points) {
        seen += w;
        if (static_cast<double>(seen) >= at) return v;
      }
      return points.back().first;
    };
    s.p50 = quantile(0.5);
    s.p99 = quantile(0.99);
    s.max = points.back().first;
    int64_t over = 0;
    for (const auto& [v, w] : points) over += v > 5 ? w : 0;
    s.over5_share = static_cast<double>(over) / static_cast<double>(s.weight);
    return s;
  }
};

struct Accumulator {
  MapSiteRow row;
  Values len, buckets, load;
};

const pprof::Label* Find(const pprof::Sample& s, const char* key) {
  for (const auto& l : s.labels)
    if (l.key == key) return &l;
  return nullptr;
}

std::string Seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string Distribution(const MapLabelStats& s) {
  if (s.empty()) return "-";
  char buf[64];
  if (s.over5_share < 0) {
    std::snprintf(buf, sizeof buf, "%lld/%lld/%lld", static_cast<long long>(s.p50), static_cast<long long>(s.p99),
                  static_cast<long long>(s.max));
  } else {
    std::snprintf(buf, sizeof buf, "%lld/%lld/%lld %.0f%%", static_cast<long long>(s.p50),
                  static_cast<long long>(s.p99), static_cast<long long>(s.max), 100 * s.over5_share);
  }
  return buf;
}

std::string Median(const MapLabelStats& s) { return s.empty() ? "-" : std::to_string(s.p50); }

}  // namespace

std::vector<MapSiteRow> BuildMapReport(const pprof::Profile& profile) {
  const int samples_index = pprof::SampleTypeIndex(profile, "samples");
  const int cpu_index = pprof::SampleTypeIndex(profile, "cpu");
  std::map<std::string, Accumulator> sites;
  for (const pprof::Sample& s : profile.samples) {
    const pprof::Label* site = Find(s, kMapSiteKey);
    const pprof::Label* len = Find(s, kMapLenKey);
    if (!site && !len) continue;
    auto value = [&](int index) -> int64_t {
      return index >= 0 && static_cast<size_t>(index) < s.values.size() ? s.values[static_cast<size_t>(index)] : 0;
    };
    const int64_t n = samples_index >= 0 ? value(samples_index) : (s.values.empty() ? 0 : s.values[0]);
    Accumulator& a = sites[site && !site->str.empty() ? site->str : "(unknown site)"];
    a.row.samples += n;
    a.row.cpu_ns += cpu_index >= 0 ? value(cpu_index) : n * profile.period;
    if (len) {
      a.row.labelled += n;
      a.len.Add(len->num, n);
      if (const pprof::Label* b = Find(s, kMapBucketsKey)) a.buckets.Add(b->num, n);
      if (const pprof::Label* l = Find(s, kMapLoadKey)) a.load.Add(l->num, n);
    }
    // Deep mode: the site's distributions, the same on each of its samples.
    if (const pprof::Label* probed = Find(s, kMapProbedKey); probed && probed->num > a.row.probes.weight) {
      auto num = [&](const char* key) {
        const pprof::Label* l = Find(s, key);
        return l ? l->num : 0;
      };
      a.row.probes = MapLabelStats{probed->num, num(kMapProbesP50Key), num(kMapProbesP99Key), num(kMapProbesMaxKey),
                                   static_cast<double>(num(kMapProbesOver5Key)) / 100};
      a.row.depth = MapLabelStats{probed->num, num(kMapDepthP50Key), num(kMapDepthP99Key), num(kMapDepthMaxKey), -1};
    }
  }
  std::vector<MapSiteRow> rows;
  for (auto& [name, a] : sites) {
    a.row.site = name;
    a.row.len = a.len.Stats();
    a.row.buckets = a.buckets.Stats();
    a.row.load_pct = a.load.Stats();
    rows.push_back(std::move(a.row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const MapSiteRow& a, const MapSiteRow& b) {
    return a.cpu_ns != b.cpu_ns ? a.cpu_ns > b.cpu_ns : a.site < b.site;
  });
  return rows;
}

std::map<std::string, MapFrameHint> MapFrameHints(const pprof::Profile& profile) {
  const int samples_index = pprof::SampleTypeIndex(profile, "samples");
  pprof::ProfileIndex index(profile);
  struct Acc {
    Values len, load, probes_p99;
  };
  std::map<std::string, Acc> by_name;
  for (const pprof::Sample& s : profile.samples) {
    const pprof::Label* len = Find(s, kMapLenKey);
    const pprof::Label* p99 = Find(s, kMapProbesP99Key);
    if (!len && !p99) continue;
    const int64_t n = samples_index >= 0 && static_cast<size_t>(samples_index) < s.values.size()
                          ? s.values[static_cast<size_t>(samples_index)]
                          : (s.values.empty() ? 0 : s.values[0]);
    std::vector<std::string> names;
    for (uint64_t id : s.location_ids) {
      const pprof::Location* loc = index.location(id);
      if (!loc) continue;
      for (const auto& line : loc->lines) {
        const pprof::Function* fn = index.function(line.function_id);
        if (fn && (fn->name.starts_with("runtime.map") || fn->name.starts_with("internal/runtime/maps."))) {
          names.push_back(fn->name);
        }
      }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string& name : names) {
      Acc& a = by_name[name];
      if (len) a.len.Add(len->num, n);
      if (const pprof::Label* l = Find(s, kMapLoadKey)) a.load.Add(l->num, n);
      if (p99) a.probes_p99.Add(p99->num, n);
    }
  }
  std::map<std::string, MapFrameHint> hints;
  for (auto& [name, a] : by_name) {
    MapLabelStats len = a.len.Stats(), load = a.load.Stats(), probes = a.probes_p99.Stats();
    MapFrameHint h;
    std::string text = "map";
    if (!len.empty()) text += " len p50 " + std::to_string(len.p50);
    if (!load.empty()) text += ", load p50 " + std::to_string(load.p50) + "%";
    if (!probes.empty()) text += ", probes p99 (site median) " + std::to_string(probes.p50);
    h.tooltip = text;
    // Deep mode: one probe per lookup is cool, 8 or more (a full bucket or
    // a long probe sequence) hot. Sampled mode: the load.
    if (!probes.empty()) {
      h.intensity = std::clamp((static_cast<double>(probes.p50) - 1) / 7, 0.0, 1.0);
    } else if (!load.empty()) {
      h.intensity = std::clamp(static_cast<double>(load.p50) / 100, 0.0, 1.0);
    }
    hints.emplace(name, std::move(h));
  }
  return hints;
}

std::string FormatMapReport(const std::vector<MapSiteRow>& rows, size_t top) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%9s %8s %9s %9s %9s %6s %8s  %-22s %-18s %s\n", "CPU", "SAMPLES", "LABELLED", "LEN",
                "BUCKETS", "LOAD%", "PROBED", "PROBES p50/p99/max >5", "DEPTH p50/p99/max", "SITE");
  out += line;
  size_t shown = 0;
  for (const MapSiteRow& r : rows) {
    if (top != 0 && shown++ >= top) break;
    std::snprintf(line, sizeof line, "%9s %8lld %9lld %9s %9s %6s %8s  %-22s %-18s %s\n", Seconds(r.cpu_ns).c_str(),
                  static_cast<long long>(r.samples), static_cast<long long>(r.labelled), Median(r.len).c_str(),
                  Median(r.buckets).c_str(), Median(r.load_pct).c_str(),
                  r.probes.empty() ? "-" : std::to_string(r.probes.weight).c_str(), Distribution(r.probes).c_str(),
                  Distribution(r.depth).c_str(), r.site.c_str());
    out += line;
  }
  return out;
}

}  // namespace golens::profiler
