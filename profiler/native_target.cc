#include "profiler/native_target.h"

#include <algorithm>

namespace golens::profiler {
namespace {

// runtime.g: `stack` (lo, hi) is its first field and `sched` (a gobuf, sp
// first) is at 56 in every release from Go 1.17 to 1.27
// (shared/docs/go-runtime.md 3.4, from DWARF).
constexpr uint32_t kGStack = 0;
constexpr uint32_t kGSchedSp = 56;

}  // namespace

golens_native_proc MakeNativeProc(const ProcessState& process) {
  golens_native_proc proc{};
  const auto& main = process.main_binary();
  if (!main) return proc;
  auto range = main->binary().GoTextRange();
  if (!range) return proc;
  uint64_t start = UINT64_MAX, end = 0;
  for (const auto& m : process.mappings()) {
    if (m->binary != main) continue;
    auto base = m->Vaddr(m->start);
    if (!base) continue;
    // This mapping's part of the Go text, in run-time addresses.
    uint64_t lo = std::max(range->first, *base), hi = std::min(range->second, *base + (m->end - m->start));
    if (lo >= hi) continue;
    start = std::min(start, lo - *base + m->start);
    end = std::max(end, hi - *base + m->start);
  }
  if (start >= end) return proc;
  proc.go_text_start = start;
  proc.go_text_end = end;
  proc.g_stack = kGStack;
  proc.g_sched_sp = kGSchedSp;
  return proc;
}

}  // namespace golens::profiler
