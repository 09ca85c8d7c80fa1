// Symbolizer benchmarks (Google Benchmark).
//
//   symbolizer_bench [benchmark flags]           run the suite
//   symbolizer_bench --write-addresses FILE N    write N sample addresses (hex,
//                                                one per line) for run.sh's
//                                                end-to-end comparison
//
// The binary under test is the `go` command (GOLENS_BENCH_GO_BINARY, or the
// path in $GOLENS_BENCH_BINARY): thousands of functions from ~300 packages.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

std::string BinaryPath() {
  const char* env = std::getenv("GOLENS_BENCH_BINARY");
  return env ? env : GOLENS_BENCH_GO_BINARY;
}

// N addresses inside functions: a random function, then a random offset in it.
std::vector<uint64_t> SampleAddresses(const Binary& b, size_t n) {
  auto funcs = b.FindSymbolsWithPrefix("");
  std::vector<uint64_t> out;
  if (funcs.empty()) return out;
  std::mt19937_64 rng(1234);
  out.reserve(n);
  while (out.size() < n) {
    const Symbol& s = funcs[rng() % funcs.size()];
    if (s.size == 0) continue;
    out.push_back(s.vaddr + rng() % s.size);
  }
  return out;
}

struct Shared {
  std::shared_ptr<const Binary> binary;
  std::vector<uint64_t> addresses;
  std::string error;
};

const Shared& Load() {
  static Shared shared = [] {
    Shared s;
    auto b = Binary::Open(BinaryPath());
    if (!b.ok()) {
      s.error = b.error().message + " (build it with: ninja symbolizer_bench_go)";
      return s;
    }
    s.binary = *b;
    s.addresses = SampleAddresses(*s.binary, 100000);
    return s;
  }();
  return shared;
}

size_t CountOk(const std::vector<SymbolizedAddress>& r) {
  size_t ok = 0;
  for (const auto& a : r) ok += a.ok();
  return ok;
}

// Parse cost: open + locate pclntab + ELF symbols (page cache warm).
void BM_LoadLargeBinary(benchmark::State& state) {
  const Shared& s = Load();
  if (!s.binary) return state.SkipWithError(s.error.c_str());
  for (auto _ : state) {
    auto b = Binary::Open(BinaryPath());
    if (!b.ok() || !(*b)->is_go() || !(*b)->FindSymbol("main.main")) return state.SkipWithError("load failed");
    benchmark::DoNotOptimize(b);
  }
  state.counters["funcs"] = static_cast<double>(s.binary->FindSymbolsWithPrefix("").size());
}

// Warm: binary parsed once, 100k addresses per batch.
void BM_SymbolizeBatchWarm(benchmark::State& state) {
  const Shared& s = Load();
  if (!s.binary) return state.SkipWithError(s.error.c_str());
  const size_t n = static_cast<size_t>(state.range(0));
  std::span<const uint64_t> batch(s.addresses.data(), n);
  for (auto _ : state) {
    auto r = s.binary->Symbolize(batch);
    if (CountOk(r) != n) return state.SkipWithError("unresolved address in batch");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

// Warm, zero-copy visitor API (what `golens symbolize --exe` uses).
void BM_SymbolizeVisitWarm(benchmark::State& state) {
  const Shared& s = Load();
  if (!s.binary) return state.SkipWithError(s.error.c_str());
  for (auto _ : state) {
    size_t ok = 0, frames = 0;
    s.binary->SymbolizeVisit(s.addresses, [&](size_t, std::span<const FrameView> f, std::string_view) {
      ok += !f.empty();
      frames += f.size();
    });
    if (ok != s.addresses.size()) return state.SkipWithError("unresolved address");
    benchmark::DoNotOptimize(frames);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.addresses.size()));
}

// Cold: open and parse the binary, then symbolize 100k addresses.
void BM_SymbolizeBatchCold(benchmark::State& state) {
  const Shared& s = Load();
  if (!s.binary) return state.SkipWithError(s.error.c_str());
  for (auto _ : state) {
    auto b = Binary::Open(BinaryPath());
    if (!b.ok()) return state.SkipWithError("open failed");
    auto r = (*b)->Symbolize(s.addresses);
    if (CountOk(r) != r.size()) return state.SkipWithError("unresolved address");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.addresses.size()));
}

// One address per call (no batching), for comparison with the batch path.
void BM_SymbolizeOneByOne(benchmark::State& state) {
  const Shared& s = Load();
  if (!s.binary) return state.SkipWithError(s.error.c_str());
  size_t i = 0, ok = 0;
  for (auto _ : state) {
    auto r = s.binary->Symbolize(std::span<const uint64_t>(&s.addresses[i], 1));
    ok += r[0].ok();
    i = (i + 1) % s.addresses.size();
  }
  if (ok != static_cast<size_t>(state.iterations())) state.SkipWithError("unresolved address");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_LoadLargeBinary)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SymbolizeBatchWarm)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SymbolizeVisitWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SymbolizeBatchCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SymbolizeOneByOne);

}  // namespace
}  // namespace golens::symbolizer

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--write-addresses") == 0) {
    auto b = golens::symbolizer::Binary::Open(golens::symbolizer::BinaryPath());
    if (!b.ok()) {
      std::fprintf(stderr, "%s\n", b.error().message.c_str());
      return 1;
    }
    FILE* f = std::fopen(argv[2], "w");
    if (!f) return 1;
    for (uint64_t a : golens::symbolizer::SampleAddresses(**b, std::strtoull(argv[3], nullptr, 10)))
      std::fprintf(f, "0x%llx\n", static_cast<unsigned long long>(a));
    return std::fclose(f) == 0 ? 0 : 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
