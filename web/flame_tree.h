// The merged call tree a flame graph draws: one node per distinct path from
// the root, children ordered by frame name (byte order), which is what
// flamegraph.pl's line sort yields, minus its pitfall of splitting a frame
// whose name sorts around ';' (we sort frame vectors, not lines).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/base/result.h"
#include "web/frame_kind.h"

namespace golens::web {

struct FlameFrame {
  std::string name;
  FrameKind kind = FrameKind::kNative;
  bool inlined = false;
};

struct FlameNode {
  uint32_t frame = 0;   // index into frames()
  uint32_t parent = 0;  // root's parent is itself
  int32_t depth = 0;    // root = 0
  // Column 0 = the profile drawn; column 1 = the diff base (0 otherwise).
  int64_t total[2] = {0, 0};
  int64_t self[2] = {0, 0};
};

// Stacks are collected first and merged in Finish(): sorted by frame name
// sequence, each stack shares its prefix with the one before it, so the
// tree is built in one pass without any hash lookups (flamegraph.pl's
// flow(), but sorting frame vectors instead of text lines). Node ids are in
// pre-order: a parent's id is below its children's.
class FlameTree {
 public:
  FlameTree();
  FlameTree(FlameTree&&) noexcept;
  FlameTree& operator=(FlameTree&&) noexcept;
  ~FlameTree();

  uint32_t InternFrame(const std::string& name, FrameKind kind, bool inlined);
  // Adds `value` to column `column` along `frames` (root-most first).
  void AddStack(std::span<const uint32_t> frames, int64_t value, int column = 0);
  // Sizes the stack buffer for about this many frames (an optimization only).
  void Reserve(size_t expected_frames);
  // Builds the nodes: merges stacks, sums totals, orders children by frame
  // name. Call once after the last AddStack; nodes() is only the root before.
  void Finish();

  const std::vector<FlameFrame>& frames() const { return frames_; }
  const std::vector<FlameNode>& nodes() const { return nodes_; }
  // Children of `node` in draw order (valid after Finish()).
  std::span<const uint32_t> children(uint32_t node) const {
    return {child_list_.data() + child_begin_[node], child_list_.data() + child_begin_[node + 1]};
  }
  int max_depth() const { return max_depth_; }

 private:
  struct PendingStack {
    size_t offset;   // into pending_frames_
    uint32_t length;
    int32_t column;
    int64_t value;
  };
  struct Tables;
  std::vector<FlameFrame> frames_;
  std::vector<FlameNode> nodes_;
  std::vector<uint32_t> child_begin_;
  std::vector<uint32_t> child_list_;
  std::vector<uint32_t> pending_frames_;
  std::vector<PendingStack> pending_;
  std::unique_ptr<Tables> tables_;
  int max_depth_ = 0;
};

struct TreeOptions {
  int sample_index = -1;          // -1 = default sample type
  std::vector<std::string> tags;  // key=value label filters
  int column = 0;                 // which value column the samples go to
  // For diff profiles (pprof::DiffProfiles output): which samples to take.
  enum class DiffPart { kAll, kNewOnly, kBaseOnly } part = DiffPart::kAll;
};

// Adds the samples of `profile` to `tree` (locations expanded into frames
// with pprof::LocationFrames, classified with ClassifyFrame). Returns the
// number of samples kept after tag filtering. kBaseOnly takes the samples
// labelled pprof::base=true and negates them back to positive BASE values.
Result<size_t> AddProfileToTree(const pprof::Profile& profile, const TreeOptions& options,
                                FlameTree* tree);

}  // namespace golens::web
