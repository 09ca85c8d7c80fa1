// Flame graph rendering: any Profile -> a self-contained interactive SVG
// (inline CSS and JS, no network), and differential flame graphs.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::web {

struct FlameOptions {
  std::string title = "CPU flame graph";
  int width = 1200;                 // px
  double min_width = 0.1;           // px; narrower frames are pruned (and counted)
  std::string sample_type;          // "" = default sample type (last, or default_sample_type)
  bool inverted = false;            // icicle: roots at the top
  std::vector<std::string> tags;    // "key=value": keep only samples carrying that label
  std::string palette = "go";       // go | hot | mono
  // Hook for map statistics: map lookup frame name -> intensity in [0, 1]
  // (darker green = hotter map). Frames not listed are shaded by name hash.
  std::unordered_map<std::string, double> map_intensity;
  // Map lookup frame name -> statistics appended to its tooltip.
  std::unordered_map<std::string, std::string> map_tooltip;
  std::string subtitle;             // extra line under the title ("" = statistics only)
};

// Unknown sample type -> Error listing the available ones. No samples -> an
// SVG that says "no samples".
Result<std::string> RenderFlameGraph(const pprof::Profile& profile, const FlameOptions& options);

// Folded text straight to SVG, without building a profile model: the fast
// path `golens flame` takes for folded files. Same SVG as
// RenderFlameGraph(ParseFolded(folded)) (a test checks it).
Result<std::string> RenderFoldedFlameGraph(std::string_view folded, const FlameOptions& options);

struct DiffOptions {
  FlameOptions flame;
  bool normalize = true;  // scale BASE to NEW's total before comparing
};

// Differential flame graph drawn on NEW's stacks (red grew, blue shrank);
// frames only in BASE stay visible. Widths: every folded stack counts with its
// NEW value, or with its (normalized) BASE value when it vanished from NEW, so
// vanished frames keep their size and are drawn blue with a dashed outline.
// Colors: the frame's inclusive change NEW - BASE (normalized), saturation
// linear in |change| / largest |change|. Tooltips: NEW value and percent, BASE
// value, delta and delta as a percent of NEW's total (flamegraph.pl's).
Result<std::string> RenderDiffFlameGraph(const pprof::Profile& base, const pprof::Profile& current,
                                         const DiffOptions& options);

// A profile written by pprof::DiffProfiles (or `go tool pprof -proto
// -diff_base`): samples labelled pprof::base=true are the negated BASE.
// RenderFlameGraph draws such a profile as a differential flame graph.
bool IsDiffProfile(const pprof::Profile& profile);

}  // namespace golens::web
