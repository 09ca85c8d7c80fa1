#include "web/flame_layout.h"

#include <algorithm>

namespace golens::web {

std::vector<double> TotalWidths(const FlameTree& tree) {
  std::vector<double> widths(tree.nodes().size());
  for (size_t n = 0; n < widths.size(); ++n) widths[n] = static_cast<double>(tree.nodes()[n].total[0]);
  return widths;
}

std::vector<double> DiffWidths(const FlameTree& tree, double base_scale) {
  const auto& nodes = tree.nodes();
  std::vector<double> widths(nodes.size(), 0.0);
  // Children always have larger ids than their parent: sum bottom-up.
  for (size_t n = nodes.size(); n-- > 0;) {
    const FlameNode& node = nodes[n];
    widths[n] += node.self[0] > 0 ? static_cast<double>(node.self[0])
                                  : std::max(0.0, static_cast<double>(node.self[1]) * base_scale);
    if (n != 0) widths[node.parent] += widths[n];
  }
  return widths;
}

FlameLayout LayoutFlame(const FlameTree& tree, std::span<const double> widths, int image_width,
                        double min_width_px) {
  FlameLayout layout;
  const auto& nodes = tree.nodes();
  layout.total = widths.empty() ? 0 : widths[0];
  if (layout.total <= 0) return layout;
  double scale = (image_width - 2 * kXPad) / layout.total;

  // Subtree sizes, so a pruned frame counts everything under it.
  std::vector<uint32_t> subtree(nodes.size(), 1);
  for (size_t n = nodes.size(); n-- > 1;) subtree[nodes[n].parent] += subtree[n];

  struct Item {
    uint32_t node;
    double start;  // in width units
  };
  std::vector<Item> stack{{0, 0.0}};
  layout.boxes.reserve(nodes.size() / 4 + 16);
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    double w = widths[item.node] * scale;
    if (w < min_width_px || widths[item.node] <= 0) {
      layout.pruned += subtree[item.node];
      continue;
    }
    int depth = nodes[item.node].depth;
    layout.boxes.push_back(FrameBox{item.node, depth, kXPad + item.start * scale, w});
    layout.max_depth = std::max(layout.max_depth, depth);
    // Push children in reverse so they pop (and are emitted) left to right.
    auto children = tree.children(item.node);
    double child_start = item.start;
    size_t first = stack.size();
    for (uint32_t child : children) {
      stack.push_back(Item{child, child_start});
      child_start += widths[child];
    }
    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
  }
  return layout;
}

}  // namespace golens::web
