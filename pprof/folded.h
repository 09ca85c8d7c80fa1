// The folded-stack grammar, shared by ParseFolded (text -> model) and the
// renderer's fast path (text -> flame tree without building a model).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"

namespace golens::pprof {

// Calls `fn(stack, count)` for every line "frames COUNT" with COUNT > 0.
// Blank lines and '#' comments are skipped; malformed lines are counted and
// reported once as a warning. Error when the text has no valid line at all.
Result<void> ScanFolded(std::string_view text,
                        const std::function<void(std::string_view stack, int64_t count)>& fn);

struct FoldedFrame {
  std::string_view name;  // annotation suffix removed
  bool kernel = false;    // "_[k]"
  bool inlined = false;   // "_[i]", and not the first frame
};
// Splits "a;b_[i];c_[k]" root first; empty frames are skipped.
void SplitFoldedStack(std::string_view stack, std::vector<FoldedFrame>* frames);

}  // namespace golens::pprof
