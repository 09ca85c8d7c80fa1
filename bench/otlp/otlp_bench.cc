// Spans per second through golens's OTLP export: encoding an
// ExportTraceServiceRequest (beside the --spans-out JSON line of the same
// spans, the other way golens writes spans), the agent thread's cost of
// handing spans to the exporter (Enqueue), and, when
// GOLENS_BENCH_OTLP_ENDPOINT names a receiver (e.g. Jaeger's
// http://127.0.0.1:4318), spans delivered end to end: encode, POST, answer.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "profiler/otlp_encode.h"
#include "profiler/otlp_exporter.h"

namespace golens::profiler {
namespace {

// Spans as the httpserver fixture makes them: 8 processes, a path of a
// typical REST length, half with a traceparent parent.
std::vector<ExportSpan> MakeSpans(size_t n) {
  std::vector<ExportSpan> spans;
  spans.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    FinishedSpan f;
    char trace[33], span[17], parent[17];
    snprintf(trace, sizeof trace, "4bf92f3577b34da6%016zx", i * 7919);
    snprintf(span, sizeof span, "%016zx", i + 1);
    snprintf(parent, sizeof parent, "00f067aa%08zx", i);
    f.ids = SpanIds{trace, span, i % 2 ? parent : ""};
    f.method = "GET";
    f.path = "/api/v1/orders/" + std::to_string(100000 + i) + "/items";
    f.tgid = 1000 + static_cast<uint32_t>(i % 8);
    f.goid = 100 + i;
    f.start_ktime_ns = 1'000'000'000 + i * 1000;
    f.end_ktime_ns = f.start_ktime_ns + 60'000'000;
    f.cpu_samples = i % 40;
    spans.push_back(MakeExportSpan(f, 1'764'000'000'000'000'000, "service-" + std::to_string(i % 8), "host-a"));
  }
  return spans;
}

void BM_EncodeOtlp(benchmark::State& state) {
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    EncodedTraces e = EncodeOtlpTraces(spans);
    bytes = e.body.size();
    benchmark::DoNotOptimize(e.body.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_span"] = static_cast<double>(bytes) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_EncodeOtlp)->Arg(64)->Arg(512)->Arg(2048);

// The peer in this run: the same spans as --spans-out JSON lines.
void BM_SpanJsonLines(benchmark::State& state) {
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::string out;
    for (const ExportSpan& s : spans) out += SpanJson(s.span, 1'764'000'000'000'000'000) + "\n";
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SpanJsonLines)->Arg(2048);

// What the agent thread pays per interval for the hand-over (building the
// ExportSpans, times to Unix and service per process, is MakeSpans). The
// receiver is a closed port, so the sender sits in backoff and the queue is
// full at its default size: each span pushed drops the oldest, the steady
// state of a receiver that is down.
void BM_EnqueueOtlp(benchmark::State& state) {
  OtlpOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.initial_backoff = std::chrono::milliseconds(60000);
  auto exporter = OtlpExporter::Create(options);
  if (!exporter.ok()) {
    state.SkipWithError(exporter.error().message.c_str());
    return;
  }
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = spans;
    state.ResumeTiming();
    (*exporter)->Enqueue(std::move(copy));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  (*exporter)->Stop(std::chrono::milliseconds(0));
}
BENCHMARK(BM_EnqueueOtlp)->Arg(2048)->Iterations(100);

// End to end: N spans enqueued, timed until the receiver accepted them all.
void BM_ExportToReceiver(benchmark::State& state) {
  const char* endpoint = std::getenv("GOLENS_BENCH_OTLP_ENDPOINT");
  if (!endpoint || !*endpoint) {
    state.SkipWithError("set GOLENS_BENCH_OTLP_ENDPOINT=http://HOST:4318 (e.g. Jaeger all-in-one)");
    return;
  }
  OtlpOptions options;
  options.endpoint = endpoint;
  options.max_queue = 1u << 20;
  auto exporter = OtlpExporter::Create(options);
  if (!exporter.ok()) {
    state.SkipWithError(exporter.error().message.c_str());
    return;
  }
  const size_t n = static_cast<size_t>(state.range(0));
  auto spans = MakeSpans(n);
  uint64_t done = 0;
  for (auto _ : state) {
    (*exporter)->Enqueue(spans);
    done += n;
    while ((*exporter)->stats().exported + (*exporter)->stats().rejected_spans < done) {
      if (!(*exporter)->stats().receiver_up) {
        state.SkipWithError("receiver unreachable");
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["rejected"] = static_cast<double>((*exporter)->stats().rejected_spans);
  (*exporter)->Stop(std::chrono::seconds(1));
}
BENCHMARK(BM_ExportToReceiver)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace golens::profiler

BENCHMARK_MAIN();
