// The folded-stack grammar, shared by ParseFolded (text -> model) and the
// renderer's fast path (text -> flame tree without building a model).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"

namespace golens::pprof {

// Calls `fn(stack, count)` for every line "frames COUNT" with COUNT > 0.
// Blank lines and '#' comments are skipped. Nothing else vanishes silently:
// malformed lines, lines without any frame (";;; 5") and fractional counts
// (rounded half up; "a;b 0.4" becomes 0 and is dropped) are counted and
// reported once each as a warning, as are totals past 2^63-1. Error when the
// text has no valid line at all.
Result<void> ScanFolded(std::string_view text,
                        const std::function<void(std::string_view stack, int64_t count)>& fn);

struct FoldedFrame {
  std::string_view name;  // annotation suffix removed
  bool kernel = false;    // "_[k]"
  bool inlined = false;   // "_[i]", and not the first frame
};
// Splits "a;b_[i];c_[k]" root first; empty frames are skipped.
void SplitFoldedStack(std::string_view stack, std::vector<FoldedFrame>* frames);

// The frame flame graphs and folded output give a sample without any location.
inline constexpr char kNoStackFrame[] = "[no stack]";

// Negative sample values outside a diff profile: dropped by flame and fold
// alike, with one warning that counts them.
struct NegativeValues {
  size_t samples = 0;
  int64_t total = 0;
  void Add(int64_t value);
  void Warn() const;
};

// "stack count" lines sorted by stack (byte order), as ToFolded prints them.
std::string FormatFolded(std::vector<std::pair<std::string_view, int64_t>>* lines);

// Folded text -> the folded text ToFolded(ParseFolded(text)) gives, without
// building the model: `golens fold` on folded input (fast on 1M lines). The
// output goes to `sink` in pieces; a sink error stops and is returned.
Result<void> RefoldFolded(std::string_view text, const std::function<Result<void>(std::string_view)>& sink);

}  // namespace golens::pprof
