// User-space cost of unwinding one native snapshot (profiler/native_unwind.*),
// the work the drain thread adds per sample outside Go code: libunwind over
// CFI of real files (.eh_frame_hdr lookups, CIE/FDE parsing, register
// rules) through golens's accessors. The snapshots are this process's own
// stack at a chain of N functions built without frame pointers, taken as
// BPF takes them (registers + 16 KiB from sp). The peer is the
// frame-pointer path in bench/overhead/sample_pipeline_bench (the whole
// drain of a Go sample: decode, normalize, aggregate).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "profiler/binary_record.h"
#include "profiler/native_unwind.h"
#include "profiler/process_source.h"

namespace golens::profiler {
namespace {

class SelfCode final : public CodeLookup {
 public:
  SelfCode() {
    auto maps = source_.Mappings(getpid());
    if (!maps.ok()) return;
    for (const auto& m : *maps) {
      if (!m.executable()) continue;
      std::shared_ptr<BinaryRecord> binary;
      if (!m.path.empty() && m.path[0] == '/') {
        if (auto opened = source_.OpenBinary(getpid(), m); opened.ok()) binary = registry_.Get(*opened);
      }
      mappings_.push_back(MakeMappingRecord(m, std::move(binary)));
    }
  }
  uint64_t CacheKey() const override { return cache_ ? 1 : 0; }
  bool cache_ = true;
  const MappingRecord* Find(uint64_t address) override {
    if (last_ && last_->Contains(address)) return last_;
    for (const auto& m : mappings_)
      if (m->Contains(address)) return last_ = m.get();
    return nullptr;
  }

 private:
  ProcfsSource source_;
  BinaryRegistry registry_;
  std::vector<std::shared_ptr<const MappingRecord>> mappings_;
  const MappingRecord* last_ = nullptr;
};

struct Capture {
  golens_native_stack head{};
  std::vector<uint8_t> bytes;
};

uint64_t StackEnd(uint64_t sp) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    uint64_t hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    if (sp >= lo && sp < hi) return hi;
  }
  return sp;
}

__attribute__((noinline)) void Take(Capture* c) {
  uint64_t regs[3];
  asm volatile(
      "lea 0(%%rip), %%rax\n\t"
      "mov %%rax, 0(%0)\n\t"
      "mov %%rsp, 8(%0)\n\t"
      "mov %%rbp, 16(%0)\n\t"
      :
      : "r"(regs)
      : "rax", "memory");
  c->head.ip = regs[0];
  c->head.sp = regs[1];
  c->head.bp = regs[2];
  c->head.flags = GOLENS_NATIVE_FROM_PC;
  size_t n = std::min<uint64_t>(16384, StackEnd(c->head.sp) - c->head.sp);
  c->bytes.assign(reinterpret_cast<const uint8_t*>(c->head.sp), reinterpret_cast<const uint8_t*>(c->head.sp) + n);
  c->head.stack_bytes = static_cast<uint32_t>(n);
}

__attribute__((noinline)) int Chain(Capture* c, int depth) {
  if (depth <= 1) {
    Take(c);
    return 1;
  }
  int r = Chain(c, depth - 1);
  asm volatile("" ::: "memory");
  return r + 1;
}

// range(1): 1 = libunwind's cache kept between samples of one process (the
// common case), 0 = flushed every time (every sample from another process).
void BM_UnwindNative(benchmark::State& state) {
  SelfCode code;
  code.cache_ = state.range(1) != 0;
  Capture c;
  Chain(&c, static_cast<int>(state.range(0)));
  NativeSnapshot snap;
  snap.head = c.head;
  snap.stack = c.bytes;
  NativeUnwinder unwinder;
  size_t frames = unwinder.Unwind(snap, {}, code).frames.size();
  if (frames < static_cast<size_t>(state.range(0))) state.SkipWithError("unwind did not see the chain");
  for (auto _ : state) {
    NativeStack s = unwinder.Unwind(snap, {}, code);
    benchmark::DoNotOptimize(s.frames.data());
  }
  state.counters["frames"] = static_cast<double>(frames);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnwindNative)->ArgsProduct({{4, 16, 64}, {0, 1}})->ArgNames({"depth", "cached"});

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
