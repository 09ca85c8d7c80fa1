#include "web/flame_tree.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "pprof/diff.h"
#include "pprof/folded.h"
#include "profiler/base/log.h"
#include "pprof/sample_filter.h"
#include "pprof/stack_frames.h"

namespace golens::web {

namespace {

// Profiles are user input: absurd values must not overflow (UB) the sums;
// they saturate, and Finish() says so.
thread_local bool g_saturated = false;  // set by SaturatingAdd during one Finish()
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    g_saturated = true;
    return b > 0 ? INT64_MAX : INT64_MIN;
  }
  return out;
}

}  // namespace

struct FlameTree::Tables {
  std::unordered_map<std::string, uint32_t> frame_ids;  // name + kind + inlined
};

FlameTree::FlameTree() : tables_(std::make_unique<Tables>()) {
  frames_.push_back(FlameFrame{"all", FrameKind::kRoot, false});
  nodes_.push_back(FlameNode{});
}
FlameTree::FlameTree(FlameTree&&) noexcept = default;
FlameTree& FlameTree::operator=(FlameTree&&) noexcept = default;
FlameTree::~FlameTree() = default;

uint32_t FlameTree::InternFrame(const std::string& name, FrameKind kind, bool inlined) {
  std::string key = name;
  key += '\0';
  key += static_cast<char>('0' + static_cast<int>(kind));
  key += inlined ? 'i' : '-';
  auto [it, inserted] = tables_->frame_ids.try_emplace(std::move(key), 0);
  if (inserted) {
    it->second = static_cast<uint32_t>(frames_.size());
    frames_.push_back(FlameFrame{name, kind, inlined});
  }
  return it->second;
}

void FlameTree::AddStack(std::span<const uint32_t> frames, int64_t value, int column) {
  if (value == 0) return;
  pending_.push_back(PendingStack{pending_frames_.size(), static_cast<uint32_t>(frames.size()), column, value});
  pending_frames_.insert(pending_frames_.end(), frames.begin(), frames.end());
}

void FlameTree::Reserve(size_t expected_frames) { pending_frames_.reserve(expected_frames); }

void FlameTree::Finish() {
  // Rank frames by name (byte order), inlined after not, then kind; stacks
  // rewritten as rank sequences sort into flamegraph.pl's order.
  std::vector<uint32_t> order(frames_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const FlameFrame& fa = frames_[a];
    const FlameFrame& fb = frames_[b];
    if (fa.name != fb.name) return fa.name < fb.name;
    if (fa.inlined != fb.inlined) return fb.inlined;
    return fa.kind < fb.kind;
  });
  std::vector<uint32_t> rank(frames_.size());
  for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  std::vector<uint32_t> ranked(pending_frames_.size());
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i] = rank[pending_frames_[i]];

  auto seq = [&](const PendingStack& s) {
    return std::span<const uint32_t>(ranked.data() + s.offset, s.length);
  };
  std::sort(pending_.begin(), pending_.end(), [&](const PendingStack& a, const PendingStack& b) {
    auto sa = seq(a), sb = seq(b);
    return std::lexicographical_compare(sa.begin(), sa.end(), sb.begin(), sb.end());
  });

  g_saturated = false;
  // flow(): keep the path of the previous stack; only frames past the common
  // prefix become new nodes (equal frames past it cannot exist: sorted).
  nodes_.resize(1);
  nodes_[0] = FlameNode{};
  nodes_.reserve(pending_frames_.size() * 2 / 3 + 16);
  std::vector<uint32_t> path;  // node ids at depth 1..
  std::span<const uint32_t> previous;
  for (const PendingStack& stack : pending_) {
    std::span<const uint32_t> current = seq(stack);
    size_t common = 0;
    size_t limit = std::min({previous.size(), current.size(), path.size()});
    while (common < limit && previous[common] == current[common]) ++common;
    path.resize(common);
    for (size_t d = common; d < current.size(); ++d) {
      FlameNode node;
      node.frame = pending_frames_[stack.offset + d];
      node.parent = path.empty() ? 0 : path.back();
      node.depth = static_cast<int32_t>(d + 1);
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(node);
    }
    max_depth_ = std::max(max_depth_, static_cast<int>(current.size()));
    uint32_t leaf = path.empty() ? 0 : path.back();
    nodes_[leaf].self[stack.column] = SaturatingAdd(nodes_[leaf].self[stack.column], stack.value);
    previous = current;
  }
  pending_.clear();
  pending_.shrink_to_fit();
  pending_frames_.clear();
  pending_frames_.shrink_to_fit();

  for (FlameNode& node : nodes_) {
    node.total[0] = node.self[0];
    node.total[1] = node.self[1];
  }
  for (size_t n = nodes_.size(); n-- > 1;) {
    FlameNode& parent = nodes_[nodes_[n].parent];
    parent.total[0] = SaturatingAdd(parent.total[0], nodes_[n].total[0]);
    parent.total[1] = SaturatingAdd(parent.total[1], nodes_[n].total[1]);
  }
  if (g_saturated) {
    GOLENS_LOG(kWarn) << "profile: values add up to more than 2^63-1; totals are capped at 2^63-1";
  }
  // Children lists by counting sort on the parent; ids are created in rank
  // order, so each list is already sorted.
  child_begin_.assign(nodes_.size() + 1, 0);
  for (uint32_t n = 1; n < nodes_.size(); ++n) ++child_begin_[nodes_[n].parent + 1];
  for (size_t i = 1; i < child_begin_.size(); ++i) child_begin_[i] += child_begin_[i - 1];
  child_list_.assign(nodes_.size() - 1, 0);
  std::vector<uint32_t> fill(child_begin_.begin(), child_begin_.end() - 1);
  for (uint32_t n = 1; n < nodes_.size(); ++n) child_list_[fill[nodes_[n].parent]++] = n;
}

Result<size_t> AddProfileToTree(const pprof::Profile& profile, const TreeOptions& options,
                                FlameTree* tree) {
  int sample_index = options.sample_index;
  if (sample_index < 0) {
    GOLENS_TRY(sample_index, pprof::ResolveSampleIndex(profile, ""));
  }
  GOLENS_TRY(std::vector<pprof::TagFilter> filters, pprof::ParseTagFilters(options.tags));
  const std::vector<pprof::TagFilter> base_filter{{pprof::kDiffBaseLabel, "true"}};
  pprof::ProfileIndex index(profile);
  const std::vector<uint64_t> go_mappings = pprof::GoMappingIds(profile, index);
  // Frames of each location, computed once; keyed by position in
  // profile.locations (found through the index).
  std::vector<std::vector<uint32_t>> location_frames(profile.locations.size());
  std::vector<bool> resolved(profile.locations.size(), false);
  const pprof::Location* first_location = profile.locations.data();
  std::vector<uint32_t> stack;
  size_t kept = 0;
  pprof::NegativeValues negative;
  size_t frames_estimate = 0;
  for (const pprof::Sample& sample : profile.samples) frames_estimate += sample.location_ids.size();
  tree->Reserve(frames_estimate + frames_estimate / 8);
  for (const pprof::Sample& sample : profile.samples) {
    if (static_cast<size_t>(sample_index) >= sample.values.size()) continue;
    int64_t value = sample.values[sample_index];
    if (value == 0) continue;
    if (!filters.empty() && !pprof::SampleMatches(sample, filters)) continue;
    if (options.part != TreeOptions::DiffPart::kAll) {
      bool is_base = pprof::SampleMatches(sample, base_filter);
      if (is_base != (options.part == TreeOptions::DiffPart::kBaseOnly)) continue;
      if (is_base) value = value == INT64_MIN ? INT64_MAX : -value;
    }
    // Negative values only make sense in diffs (handled above); elsewhere
    // (`pprof -base` output) they are dropped with a warning, as fold does.
    if (value < 0) {
      negative.Add(value);
      continue;
    }
    stack.clear();
    for (size_t i = sample.location_ids.size(); i-- > 0;) {
      const pprof::Location* location = index.location(sample.location_ids[i]);
      if (location == nullptr) continue;
      size_t pos = static_cast<size_t>(location - first_location);
      if (!resolved[pos]) {
        const bool go_binary = std::binary_search(go_mappings.begin(), go_mappings.end(), location->mapping_id);
        for (pprof::StackFrame& frame : pprof::LocationFrames(*location, index)) {
          frame.go_binary = go_binary;
          FrameKind kind = ClassifyFrame(frame);
          location_frames[pos].push_back(tree->InternFrame(DisplayName(frame.name, kind), kind, frame.inlined));
        }
        resolved[pos] = true;
      }
      stack.insert(stack.end(), location_frames[pos].begin(), location_frames[pos].end());
    }
    // A sample without any (known) location: a frame of its own, as fold
    // prints it, not an unexplained gap under the root.
    if (stack.empty()) stack.push_back(tree->InternFrame(pprof::kNoStackFrame, FrameKind::kNative, false));
    tree->AddStack(stack, value, options.column);
    ++kept;
  }
  negative.Warn();
  return kept;
}

}  // namespace golens::web
