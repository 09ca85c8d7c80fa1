// Frame geometry: x and width in px, depth from the root; frames narrower
// than the minimum width are pruned together with their subtrees (counted).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "web/flame_tree.h"

namespace golens::web {

inline constexpr double kXPad = 10;  // px left and right, as flamegraph.pl

struct FrameBox {
  uint32_t node = 0;
  int depth = 0;
  double x = 0;      // px from the left edge of the image
  double width = 0;  // px
};

struct FlameLayout {
  std::vector<FrameBox> boxes;  // pre-order: a frame before its children
  size_t pruned = 0;            // frames dropped for being narrower than min_width
  int max_depth = 0;            // deepest drawn frame
  double total = 0;             // width value of the root
};

// `widths[node]` is the value each node is drawn with (a node's children must
// not exceed it). The root spans image_width - 2*kXPad.
FlameLayout LayoutFlame(const FlameTree& tree, std::span<const double> widths, int image_width,
                        double min_width_px);

// widths for an ordinary graph: total of column 0.
std::vector<double> TotalWidths(const FlameTree& tree);

// widths for a diff drawn on NEW (column 0) keeping vanished stacks: each
// stack counts with its NEW value, or its scaled BASE value when NEW has none.
std::vector<double> DiffWidths(const FlameTree& tree, double base_scale);

}  // namespace golens::web
