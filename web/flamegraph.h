// Flame graph rendering: any Profile -> a self-contained interactive SVG
// (inline CSS and JS, no network), and differential flame graphs.
#pragma once

#include <string>
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
};

// Unknown sample type -> Error listing the available ones. No samples -> an
// SVG that says "no samples".
Result<std::string> RenderFlameGraph(const pprof::Profile& profile, const FlameOptions& options);

struct DiffOptions {
  FlameOptions flame;
  bool normalize = true;  // scale BASE to NEW's total before comparing
};

// Differential flame graph drawn on NEW's stacks (red grew, blue shrank);
// frames only in BASE stay visible.
Result<std::string> RenderDiffFlameGraph(const pprof::Profile& base, const pprof::Profile& current,
                                         const DiffOptions& options);

}  // namespace golens::web
