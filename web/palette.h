// Frame colors. Stable per name (a hash, not a random draw), so the same
// function has the same color in every graph and across deploys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "profiler/base/result.h"
#include "web/flame_tree.h"

namespace golens::web {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

enum class Palette { kGo, kHot, kMono };
Result<Palette> ParsePalette(const std::string& name);  // go | hot | mono

// `intensity` in [0,1] shades map lookup frames (from map statistics, e.g.
// how often the lookup misses or probes long); < 0 = unknown, use the name hash.
// Palette go, by kind: Go user code aqua, Go runtime yellow, map lookups
// green (darker = more intense), native/cgo red, kernel orange; inlined
// frames are drawn lighter.
Rgb FrameColor(const FlameFrame& frame, Palette palette, double intensity = -1);

// Differential color: red grew, blue shrank, white unchanged; saturation
// linear in |delta| / max_delta (as flamegraph.pl's difference mode).
Rgb DiffColor(double delta, double max_delta);

// Color legend entries for palette go, as (css class, label, sample color).
struct LegendEntry {
  const char* css_class;
  const char* label;
  Rgb color;
};
std::vector<LegendEntry> GoLegend();

}  // namespace golens::web
