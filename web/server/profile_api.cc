#include "web/server/profile_api.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "pprof/diff.h"
#include "pprof/profile_io.h"
#include "pprof/sample_filter.h"
#include "profiler/base/log.h"
#include "profiler/base/wall_time.h"
#include "web/flamegraph.h"
#include "web/server/function_stats.h"
#include "web/server/regression.h"

namespace golens::web {
namespace {

// A tag timeline reads every profile with the tags in place (~0.1 ms each):
// 1 h of 10 s intervals of 50 processes is 18,000.
constexpr size_t kMaxTaggedTimelineProfiles = 20000;

using nlohmann::json;

constexpr int64_t kNanos = 1000000000;

ApiResponse Json(const json& value, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.content_type = "application/json";
  // Invalid UTF-8 in a function or label name must not throw.
  r.body = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

ApiResponse JsonError(int status, const std::string& message) { return Json(json{{"error", message}}, status); }

ApiResponse FromError(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kInvalidArgument:
      return JsonError(400, e.message);
    case ErrorKind::kNotFound:
      return JsonError(404, e.message);
    case ErrorKind::kResourceExhausted:
      return JsonError(413, e.message);
    default:
      return JsonError(500, e.message);
  }
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Params {
 public:
  explicit Params(const std::multimap<std::string, std::string>& params) : params_(params) {}
  std::string Get(const std::string& name) const {
    auto it = params_.find(name);
    return it == params_.end() ? "" : it->second;
  }
  bool Has(const std::string& name) const { return params_.count(name) > 0; }
  std::vector<std::string> All(const std::string& name) const {
    std::vector<std::string> out;
    auto [b, e] = params_.equal_range(name);
    for (auto it = b; it != e; ++it) out.push_back(it->second);
    return out;
  }
  // Rejects parameters the endpoint does not know (a typo must not silently
  // widen a selection to all data).
  Result<void> OnlyKnown(std::initializer_list<const char*> known) const {
    for (const auto& entry : params_) {
      const std::string& key = entry.first;
      if (std::none_of(known.begin(), known.end(), [&](const char* n) { return key == n; })) {
        return MakeError("unknown parameter \"" + key + "\"", ErrorKind::kInvalidArgument);
      }
    }
    return Ok();
  }

 private:
  const std::multimap<std::string, std::string>& params_;
};

Result<std::optional<int64_t>> TimeParam(const Params& p, const std::string& name) {
  std::string v = p.Get(name);
  if (v.empty()) return std::optional<int64_t>();
  auto t = profiler::ParseWallTime(v, NowNs());
  if (!t.ok()) return t.error().Context(name);
  return std::optional<int64_t>(*t);
}

// service, build (under `build_param`), time range (under from/to names) and tags.
Result<store::Selection> ParseSelection(const Params& p, const std::string& build_param, const std::string& from,
                                        const std::string& to) {
  store::Selection s;
  s.service = p.Get("service");
  if (s.service.empty()) return MakeError("service is required", ErrorKind::kInvalidArgument);
  s.build_id = p.Get(build_param);
  GOLENS_TRY(s.from_ns, TimeParam(p, from));
  GOLENS_TRY(s.to_ns, TimeParam(p, to));
  if (s.from_ns && s.to_ns && *s.from_ns >= *s.to_ns) {
    return MakeError(from + " must be before " + to, ErrorKind::kInvalidArgument);
  }
  GOLENS_TRY(s.tags, pprof::ParseTagFilters(p.All("tag")));
  return s;
}

// The SVG's width in pixels (the page asks for its frame's width).
Result<int> WidthParam(const Params& p, int fallback) {
  if (!p.Has("width")) return fallback;
  const std::string s = p.Get("width");
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos || std::stoi(s) < 200 ||
      std::stoi(s) > 10000) {
    return MakeError("width: 200 to 10000 pixels", ErrorKind::kInvalidArgument);
  }
  return std::stoi(s);
}

json BuildsJson(const store::ServiceInfo& service) {
  json builds = json::array();
  for (const store::BuildInfo& b : service.builds) {
    builds.push_back({{"build_id", b.build_id},
                      {"go_version", b.go_version},
                      {"first_seen", b.first_seen_ns / kNanos},
                      {"last_seen", b.last_seen_ns / kNanos},
                      {"profiles", b.profiles},
                      {"samples", b.samples}});
  }
  return builds;
}

}  // namespace

ProfileApi::ProfileApi(store::Store* store, ApiOptions options) : store_(store), options_(options) {}

ProfileApi::CacheStats ProfileApi::cache_stats() const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return cache_stats_;
}

std::string ProfileApi::CacheKey(const ApiRequest& request, int64_t generation) const {
  std::string key = std::to_string(generation) + " " + request.path;
  for (const auto& [k, v] : request.params) key += "\n" + k + "=" + v;  // multimap: sorted by key, stable by order
  return key;
}

ApiResponse ProfileApi::Handle(const ApiRequest& request) {
  auto generation = store_->Generation();
  if (!generation.ok()) return FromError(generation.error());
  // Relative times ("now-1h") change meaning with the clock: not cached.
  bool cacheable = true;
  for (const auto& [k, v] : request.params) {
    if (v.starts_with("now")) cacheable = false;
  }
  std::string key = CacheKey(request, *generation);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++cache_stats_.hits;
      return it->second->response;
    }
    ++cache_stats_.misses;
  }
  ApiResponse response = HandleUncached(request);
  if (cacheable && response.status == 200 && response.body.size() <= options_.cache_bytes / 4) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (!index_.count(key)) {
      lru_.push_front(Cached{key, response});
      index_[key] = lru_.begin();
      cache_used_ += response.body.size();
      while (!lru_.empty() && (lru_.size() > options_.cache_entries || cache_used_ > options_.cache_bytes)) {
        cache_used_ -= lru_.back().response.body.size();
        index_.erase(lru_.back().key);
        lru_.pop_back();
      }
    }
  }
  return response;
}

ApiResponse ProfileApi::HandleUncached(const ApiRequest& request) {
  Params p(request.params);
  const std::string& path = request.path;

  auto services = store_->ListServices();
  if (!services.ok()) return FromError(services.error());
  if (path == "/api/services") {
    if (auto r = p.OnlyKnown({}); !r.ok()) return FromError(r.error());
    json out = json::array();
    for (const store::ServiceInfo& s : *services) out.push_back({{"service", s.service}, {"builds", BuildsJson(s)}});
    return Json(out);
  }

  static const std::set<std::string> kEndpoints = {"/api/profile", "/api/flame",    "/api/top",
                                                   "/api/labels",  "/api/timeline", "/api/diff"};
  if (!kEndpoints.count(path)) return JsonError(404, "no such endpoint");

  // The service must exist (404 names it; the message is JSON-escaped).
  const std::string service = p.Get("service");
  if (service.empty()) return JsonError(400, "service is required");
  const store::ServiceInfo* info = nullptr;
  for (const auto& s : *services) {
    if (s.service == service) info = &s;
  }
  if (!info) return JsonError(404, "unknown service \"" + service + "\"");

  // Selects, refuses selections too large to merge in time, merges.
  auto merge = [&](const store::Selection& selection) -> Result<store::MergeResult> {
    GOLENS_TRY(std::vector<store::ProfileMeta> metas, store_->Select(selection));
    if (static_cast<int64_t>(metas.size()) > options_.max_profiles) {
      return MakeError("the selection holds " + std::to_string(metas.size()) + " profiles; at most " +
                           std::to_string(options_.max_profiles) + " are merged per request: narrow the time range",
                       ErrorKind::kResourceExhausted);
    }
    GOLENS_TRY(store::MergeResult merged, store_->Merge(selection));
    if (merged.skipped_corrupt) {
      GOLENS_LOG(kWarn) << "serve: " << merged.skipped_corrupt << " corrupt stored profiles of " << selection.service
                        << " skipped";
    }
    return merged;
  };

  if (path == "/api/diff") {
    if (auto r = p.OnlyKnown({"service", "base_build_id", "build_id", "base_from", "base_to", "from", "to", "tag",
                              "format", "width"});
        !r.ok()) {
      return FromError(r.error());
    }
    if (!p.Has("base_build_id") && !p.Has("base_from") && !p.Has("base_to")) {
      return JsonError(400, "diff needs a base: base_build_id, or base_from/base_to");
    }
    std::string format = p.Has("format") ? p.Get("format") : "svg";
    if (format != "svg" && format != "pprof" && format != "json") return JsonError(400, "format: svg, pprof or json");
    auto base_sel = ParseSelection(p, "base_build_id", "base_from", "base_to");
    if (!base_sel.ok()) return FromError(base_sel.error());
    auto new_sel = ParseSelection(p, "build_id", "from", "to");
    if (!new_sel.ok()) return FromError(new_sel.error());
    auto base = merge(*base_sel);
    if (!base.ok()) return FromError(base.error());
    auto current = merge(*new_sel);
    if (!current.ok()) return FromError(current.error());
    if (base->profiles == 0) return JsonError(404, "no profiles in the base selection");
    if (current->profiles == 0) return JsonError(404, "no profiles in the new selection");
    if (format == "json") {
      RegressionTable table = CompareProfiles(base->profile, current->profile);
      json rows = json::array();
      for (const RegressionRow& row : table.rows) {
        rows.push_back({{"function", row.function},
                        {"base_samples", row.base_cum},
                        {"new_samples", row.new_cum},
                        {"base_percent", row.base_share},
                        {"new_percent", row.new_share},
                        {"delta_points", row.delta_points},
                        {"z", row.z},
                        {"p_value", row.p_value},
                        {"significant", row.significant}});
      }
      return Json({{"base_samples", table.base_total},
                   {"new_samples", table.new_total},
                   {"functions_compared", table.functions_compared},
                   {"alpha", table.alpha},
                   {"test", "two-proportion z-test on inclusive sample counts, Bonferroni-corrected"},
                   {"rows", rows}});
    }
    if (format == "pprof") {
      auto diff = pprof::DiffProfiles(base->profile, current->profile, /*normalize=*/false);
      if (!diff.ok()) return JsonError(422, diff.error().message);
      auto bytes = pprof::SerializePprof(*diff, true);
      if (!bytes.ok()) return FromError(bytes.error());
      return ApiResponse{200, "application/octet-stream", std::move(bytes).value(), {}};
    }
    DiffOptions options;
    options.flame.title = service + ": " + (p.Has("base_build_id") ? p.Get("base_build_id").substr(0, 12) : "base") +
                          " -> " + (p.Has("build_id") ? p.Get("build_id").substr(0, 12) : "new");
    auto width = WidthParam(p, options_.flame_width);
    if (!width.ok()) return FromError(width.error());
    options.flame.width = *width;
    auto svg = RenderDiffFlameGraph(base->profile, current->profile, options);
    if (!svg.ok()) return JsonError(422, svg.error().message);
    return ApiResponse{200, "image/svg+xml", std::move(svg).value(), {}};
  }

  std::initializer_list<const char*> selection_params = {"service", "build_id", "from", "to", "tag"};
  if (path == "/api/timeline") {
    if (auto r = p.OnlyKnown({"service", "build_id", "from", "to", "tag", "step"}); !r.ok()) return FromError(r.error());
  } else if (path == "/api/top") {
    if (auto r = p.OnlyKnown({"service", "build_id", "from", "to", "tag", "limit"}); !r.ok()) return FromError(r.error());
  } else if (path == "/api/flame") {
    if (auto r = p.OnlyKnown({"service", "build_id", "from", "to", "tag", "width"}); !r.ok()) return FromError(r.error());
  } else if (auto r = p.OnlyKnown(selection_params); !r.ok()) {
    return FromError(r.error());
  }
  auto selection = ParseSelection(p, "build_id", "from", "to");
  if (!selection.ok()) return FromError(selection.error());

  if (path == "/api/labels") {
    auto labels = store_->LabelValues(*selection);
    if (!labels.ok()) return FromError(labels.error());
    json out = json::array();
    for (const auto& [key, values] : *labels) out.push_back({{"key", key}, {"values", values}});
    return Json(out);
  }

  if (path == "/api/timeline") {
    int64_t step = 60;
    if (p.Has("step")) {
      const std::string s = p.Get("step");
      if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
        return JsonError(400, "step: whole seconds, 1 to 86400");
      }
      step = std::stoll(s);
      if (step < 1 || step > 86400) return JsonError(400, "step: whole seconds, 1 to 86400");
    }
    // The index counts a profile's samples, not its samples per label: with
    // tags, the profiles that have them are read in place and their matching
    // samples counted (bounded: a tag timeline of a long range is refused,
    // not slow).
    auto metas = store_->Select(*selection);
    if (!metas.ok()) return FromError(metas.error());
    if (!selection->tags.empty()) {
      if (metas->size() > kMaxTaggedTimelineProfiles) {
        return JsonError(413, std::to_string(metas->size()) + " profiles have these tags; a tag timeline reads at most " +
                                  std::to_string(kMaxTaggedTimelineProfiles) + ": narrow from/to");
      }
      auto counts = store_->TaggedSampleCounts(*selection);
      if (!counts.ok()) return FromError(counts.error());
      std::erase_if(*metas, [&](store::ProfileMeta& m) {
        auto it = counts->find(m.id);
        if (it == counts->end()) return true;  // corrupt: left out, as merges skip it
        m.samples = it->second;
        return false;
      });
    }
    int64_t from = selection->from_ns.value_or(INT64_MAX), to = selection->to_ns.value_or(INT64_MIN);
    if (!selection->from_ns) for (const auto& m : *metas) from = std::min(from, m.start_ns);
    if (!selection->to_ns) for (const auto& m : *metas) to = std::max(to, m.end_ns);
    json points = json::array();
    json deploys = json::array();
    if (!metas->empty() && to > from) {
      const int64_t step_ns = step * kNanos;
      const int64_t first = from / step_ns * step_ns;
      const int64_t steps = (to - first + step_ns - 1) / step_ns;
      if (steps > 20000) return JsonError(400, "step too small for this range (" + std::to_string(steps) + " steps; at most 20000)");
      // One period per build (stored profiles of one build share their rate).
      std::map<std::string, int64_t> period;
      std::set<int64_t> tried;
      std::vector<double> samples(steps, 0);
      std::vector<std::map<std::string, double>> builds(steps);
      std::vector<double> cpu(steps, 0);
      for (const auto& m : *metas) {
        if (!period[m.build_id]) {
          // The rate of the build's first readable profile (a corrupt one is skipped).
          for (const auto& other : *metas) {
            if (other.build_id != m.build_id || tried.count(other.id)) continue;
            tried.insert(other.id);
            auto loaded = store_->Load(other.id);
            if (loaded.ok() && loaded->period > 0) {
              period[m.build_id] = loaded->period;
              break;
            }
            if (tried.size() > 64) break;
          }
        }
        // A profile's samples spread over the steps its interval overlaps
        // (profiles longer than a step would otherwise draw a comb).
        const int64_t length = std::max<int64_t>(1, m.end_ns - m.start_ns);
        for (int64_t i = std::max<int64_t>(0, (m.start_ns - first) / step_ns);
             i < steps && first + i * step_ns < m.end_ns; ++i) {
          int64_t lo = std::max(m.start_ns, first + i * step_ns);
          int64_t hi = std::min(m.end_ns, first + (i + 1) * step_ns);
          if (hi <= lo && length > 1) continue;
          double share = static_cast<double>(m.samples) * static_cast<double>(std::max<int64_t>(hi - lo, 1)) / length;
          samples[i] += share;
          builds[i][m.build_id] += share;
          cpu[i] += share * static_cast<double>(period[m.build_id]) / 1e9;
        }
      }
      std::string previous;
      for (int64_t i = 0; i < steps; ++i) {
        std::string build;
        double best = -1;
        for (const auto& [b, n] : builds[i]) {
          if (n > best) best = n, build = b;
        }
        int64_t t = (first + i * step_ns) / kNanos;
        points.push_back({{"t", t}, {"samples", samples[i]}, {"cpu_seconds", cpu[i]}, {"build_id", build}});
        if (!build.empty() && build != previous) {
          deploys.push_back({{"t", t}, {"build_id", build}});
          previous = build;
        }
      }
    }
    return Json({{"service", service}, {"step", step}, {"points", points}, {"deploys", deploys}});
  }

  auto merged = merge(*selection);
  if (!merged.ok()) return FromError(merged.error());
  if (merged->profiles == 0) return JsonError(404, "no stored profiles match this selection");

  if (path == "/api/profile") {
    auto bytes = pprof::SerializePprof(merged->profile, true);
    if (!bytes.ok()) return FromError(bytes.error());
    return ApiResponse{200, "application/octet-stream", std::move(bytes).value(), {}};
  }
  if (path == "/api/flame") {
    FlameOptions options;
    options.title = service + (selection->build_id.empty() ? "" : " (" + selection->build_id.substr(0, 12) + ")");
    auto width = WidthParam(p, options_.flame_width);
    if (!width.ok()) return FromError(width.error());
    options.width = *width;
    options.subtitle = std::to_string(merged->profiles) + " profiles merged";
    auto svg = RenderFlameGraph(merged->profile, options);
    if (!svg.ok()) return JsonError(422, svg.error().message);
    return ApiResponse{200, "image/svg+xml", std::move(svg).value(), {}};
  }
  // /api/top
  size_t limit = 100;
  if (p.Has("limit")) {
    const std::string s = p.Get("limit");
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos || std::stoul(s) == 0) {
      return JsonError(400, "limit: 1 to 999999");
    }
    limit = std::stoul(s);
  }
  FunctionStats stats = ComputeFunctionStats(merged->profile);
  std::vector<std::pair<std::string, FunctionValue>> rows(stats.functions.begin(), stats.functions.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.flat != b.second.flat ? a.second.flat > b.second.flat : a.first < b.first;
  });
  if (rows.size() > limit) rows.resize(limit);
  json functions = json::array();
  for (const auto& [name, v] : rows) functions.push_back({{"function", name}, {"flat", v.flat}, {"cum", v.cum}});
  int type = pprof::DefaultSampleTypeIndex(merged->profile);
  std::string unit = type >= 0 ? merged->profile.sample_types[type].unit : "";
  return Json({{"total", stats.total}, {"unit", unit}, {"profiles", merged->profiles}, {"functions", functions}});
}

}  // namespace golens::web
