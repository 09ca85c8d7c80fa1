// `golens agent --spans --otlp-endpoint` against a real OTLP receiver,
// Jaeger all-in-one v1.76.0 (built from its Go module by build_jaeger.sh,
// cached in the build folder): the net/http fixture serves requests from the
// httpclient fixture, some with known W3C traceparent headers; Jaeger's
// query API must then hold every request's span with the trace id and
// parent the client sent, the HTTP attributes, the service, a CPU sample
// count, and a golens serve query that really opens the span's CPU profile.
//
// Runs in `make integration` (not `make test`): it needs root (BPF) and the
// Go module proxy on the first run; it fails saying so otherwise.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/profiler/e2e_util.h"
#include "tests/profiler/subprocess.h"

namespace golens {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;
const std::string kJaeger = JAEGER_BIN;

// What the httpclient fixture sends for request i (-traced N).
std::string SentTraceId(int i) {
  char buf[64];
  snprintf(buf, sizeof(buf), "4bf92f3577b34da6a3ce929d0e0e47%02x", i);
  return buf;
}
std::string SentParentId(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "00f067aa0ba902%02x", i);
  return buf;
}

std::string Curl(const std::string& url, long* status = nullptr) {
  CommandResult r = RunCommand({"/usr/bin/curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", url}, 30s);
  EXPECT_EQ(r.exit_code, 0) << testing::DescribeResult(r);
  size_t nl = r.out.rfind('\n');
  if (status) *status = nl == std::string::npos ? 0 : std::strtol(r.out.c_str() + nl + 1, nullptr, 10);
  return nl == std::string::npos ? r.out : r.out.substr(0, nl);
}

// The text after `prefix` up to the next whitespace, in `log`.
std::string After(const std::string& log, const std::string& prefix) {
  size_t at = log.find(prefix);
  if (at == std::string::npos) return "";
  at += prefix.size();
  size_t end = log.find_first_of(" \n", at);
  return log.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

struct Jaeger {
  std::unique_ptr<Subprocess> process;
  std::string otlp_url, query_url, error;
};

// Jaeger all-in-one (v1 flags) with every listener on loopback and a free
// port, in-memory storage; up when its query API answers.
Jaeger StartJaeger(int otlp_http = 0, int query_http = 0) {
  Jaeger j;
  CommandResult built = RunCommand({BUILD_JAEGER, kJaeger}, 900s);
  if (built.exit_code != 0) {
    j.error = "cannot build Jaeger all-in-one v1.76.0 (needs the Go module proxy the first time): " +
              testing::DescribeResult(built);
    return j;
  }
  auto hp = [](int port) { return "127.0.0.1:" + std::to_string(port); };
  if (otlp_http == 0) otlp_http = testing::FreeLoopbackPort();
  if (query_http == 0) query_http = testing::FreeLoopbackPort();
  j.otlp_url = "http://" + hp(otlp_http);
  j.query_url = "http://" + hp(query_http);
  std::vector<std::string> argv = {kJaeger,
                                   "--collector.otlp.enabled=true",
                                   "--collector.otlp.http.host-port=" + hp(otlp_http),
                                   "--collector.otlp.grpc.host-port=" + hp(testing::FreeLoopbackPort()),
                                   "--collector.http-server.host-port=" + hp(testing::FreeLoopbackPort()),
                                   "--collector.grpc-server.host-port=" + hp(testing::FreeLoopbackPort()),
                                   "--query.http-server.host-port=" + hp(query_http),
                                   "--query.grpc-server.host-port=" + hp(testing::FreeLoopbackPort()),
                                   "--admin.http.host-port=" + hp(testing::FreeLoopbackPort())};
  argv.erase(std::remove(argv.begin(), argv.end(), std::string()), argv.end());
  j.process = std::make_unique<Subprocess>(argv);
  for (int i = 0; i < 300; ++i) {
    CommandResult r = RunCommand({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                                  j.query_url + "/api/services"},
                                 5s);
    if (r.out == "200") return j;
    if (j.process->Wait(0ms).has_value()) break;
    std::this_thread::sleep_for(100ms);
  }
  j.error = "Jaeger did not come up: " + j.process->err().substr(0, 3000);
  return j;
}

// A span as Jaeger's query API shows it (tags flattened to strings).
struct JaegerSpan {
  std::string trace_id, span_id, parent_id, operation, service;
  std::map<std::string, std::string> tags;
  std::vector<std::string> log_events;
  int64_t start_us = 0, duration_us = 0;
};

std::vector<JaegerSpan> SpansOf(const json& traces) {
  std::vector<JaegerSpan> out;
  if (!traces.contains("data") || !traces["data"].is_array()) return out;
  for (const json& trace : traces["data"]) {
    for (const json& span : trace["spans"]) {
      JaegerSpan s;
      s.trace_id = span.value("traceID", "");
      s.span_id = span.value("spanID", "");
      s.operation = span.value("operationName", "");
      s.start_us = span.value("startTime", int64_t{0});
      s.duration_us = span.value("duration", int64_t{0});
      for (const json& ref : span.value("references", json::array())) {
        if (ref.value("refType", "") == "CHILD_OF") s.parent_id = ref.value("spanID", "");
      }
      for (const json& tag : span.value("tags", json::array())) {
        const json& v = tag["value"];
        s.tags[tag.value("key", "")] = v.is_string() ? v.get<std::string>() : v.dump();
      }
      for (const json& log : span.value("logs", json::array())) {
        for (const json& field : log.value("fields", json::array())) {
          if (field.value("key", "") == "event") s.log_events.push_back(field["value"].get<std::string>());
        }
      }
      std::string pid = span.value("processID", "");
      if (trace.contains("processes") && trace["processes"].contains(pid)) {
        s.service = trace["processes"][pid].value("serviceName", "");
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

int PortOf(const std::string& url) { return std::atoi(url.substr(url.rfind(':') + 1).c_str()); }

// The span Jaeger holds for a trace id, if exactly one.
std::optional<JaegerSpan> SpanOfTrace(const Jaeger& jaeger, const std::string& trace_id) {
  long status = 0;
  std::string body = Curl(jaeger.query_url + "/api/traces/" + trace_id, &status);
  if (status != 200) return std::nullopt;
  auto spans = SpansOf(json::parse(body, nullptr, false));
  EXPECT_LE(spans.size(), 1u) << "one request, one span: " << body.substr(0, 2000);
  if (spans.size() != 1) return std::nullopt;
  return spans[0];
}

TEST(OtlpJaeger, AgentSpansArriveWithTheClientsTraceIds) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (BPF)";
  Jaeger jaeger = StartJaeger();
  ASSERT_EQ(jaeger.error, "");

  // The fixture server, named by its environment as a service would be.
  Subprocess server({"/usr/bin/env", "GOLENS_SERVICE=otlpsvc", kFixtures + "/httpserver-local", "-seconds", "120"});
  ASSERT_TRUE(server.WaitForOutput("\n", 20s)) << server.err();
  std::istringstream words(server.out());
  std::string word;
  int port = 0;
  words >> word >> port;
  ASSERT_EQ(word, "listening") << server.out();
  const std::string server_url = "http://127.0.0.1:" + std::to_string(port);

  const std::string store_dir = testing::ScratchDir() + "/otlp-store";
  Subprocess agent({kGolens, "-v", "agent", "--store", store_dir, "--pid", std::to_string(server.pid()), "--interval",
                    "1s", "--hz", "499", "--spans", "--otlp-endpoint", jaeger.otlp_url, "--otlp-header",
                    "X-Golens-Test: 1", "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(agent.WaitForOutput("agent: profiling pid " + std::to_string(server.pid()), 30s, true)) << agent.err();

  const int kTraced = 20, kUntraced = 6;
  CommandResult work = RunCommand({kFixtures + "/httpclient", "-url", server_url + "/work?ms=60", "-traced",
                                   std::to_string(kTraced), "-untraced", std::to_string(kUntraced), "-c", "2"},
                                  60s);
  ASSERT_EQ(work.exit_code, 0) << work.out << work.err;

  // Every traced request's span, by the trace id the client sent; the agent
  // exports at its next 1 s interval.
  std::map<std::string, JaegerSpan> by_trace;
  for (int attempt = 0; attempt < 60 && by_trace.size() < static_cast<size_t>(kTraced); ++attempt) {
    std::this_thread::sleep_for(500ms);
    for (int i = 0; i < kTraced; ++i) {
      if (by_trace.count(SentTraceId(i))) continue;
      if (auto span = SpanOfTrace(jaeger, SentTraceId(i))) by_trace[SentTraceId(i)] = *span;
    }
  }
  ASSERT_EQ(by_trace.size(), static_cast<size_t>(kTraced)) << agent.err();

  const std::string metrics_url = After(agent.err(), "Prometheus metrics at ");
  std::string serve_query;  // one span's profile link
  std::string serve_span;
  int64_t with_samples = 0;
  for (int i = 0; i < kTraced; ++i) {
    JaegerSpan s = by_trace[SentTraceId(i)];
    SCOPED_TRACE("trace " + SentTraceId(i));
    EXPECT_EQ(s.trace_id, SentTraceId(i));
    EXPECT_EQ(s.parent_id, SentParentId(i)) << "the parent from traceparent";
    EXPECT_EQ(s.span_id.size(), 16u);
    EXPECT_EQ(s.operation, "GET /work");
    EXPECT_EQ(s.service, "otlpsvc");
    EXPECT_EQ(s.tags["span.kind"], "server");
    EXPECT_EQ(s.tags["http.request.method"], "GET");
    EXPECT_EQ(s.tags["url.path"], "/work");
    ASSERT_TRUE(s.tags.count("golens.cpu_samples"));
    const int64_t samples = std::strtoll(s.tags["golens.cpu_samples"].c_str(), nullptr, 10);
    EXPECT_GE(samples, 0);
    if (samples >= 3) ++with_samples;  // 60 ms busy at 499 Hz is ~30 samples on a free CPU
    // The handler busy-waits 60 ms of wall-clock time.
    EXPECT_GE(s.duration_us, 55'000);
    EXPECT_LT(s.duration_us, 30'000'000);
    const std::string query = s.tags["golens.profile_url"];
    EXPECT_EQ(query.rfind("/api/flame?service=otlpsvc&tag=span_id%3D" + s.span_id + "&from=", 0), 0u) << query;
    EXPECT_NE(std::find(s.log_events.begin(), s.log_events.end(), "golens.cpu_profile"), s.log_events.end());
    if (samples >= 3 && serve_query.empty()) {
      serve_query = query;
      serve_span = s.span_id;
    }
  }
  EXPECT_GE(with_samples, kTraced / 2) << "most 60 ms requests have CPU samples";
  JaegerSpan example = by_trace[SentTraceId(0)];
  std::cout << "Jaeger: trace " << example.trace_id << " span " << example.span_id << " parent " << example.parent_id
            << " '" << example.operation << "' service " << example.service << " cpu_samples "
            << example.tags["golens.cpu_samples"] << " profile " << example.tags["golens.profile_url"] << "; "
            << with_samples << " of " << kTraced << " traced spans with >= 3 samples\n";

  // The untraced requests too: Jaeger's search by service holds all of them.
  std::set<std::string> all_traces;
  for (int attempt = 0; attempt < 20 && all_traces.size() < static_cast<size_t>(kTraced + kUntraced); ++attempt) {
    std::string body = Curl(jaeger.query_url + "/api/traces?service=otlpsvc&limit=1000&lookback=1h");
    all_traces.clear();
    for (const JaegerSpan& s : SpansOf(json::parse(body, nullptr, false))) {
      all_traces.insert(s.trace_id);
      if (!by_trace.count(s.trace_id)) EXPECT_EQ(s.parent_id, "") << "no traceparent was sent";
    }
    if (all_traces.size() < static_cast<size_t>(kTraced + kUntraced)) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(all_traces.size(), static_cast<size_t>(kTraced + kUntraced));

  // The agent's counters, as Prometheus would scrape them.
  ASSERT_FALSE(metrics_url.empty()) << agent.err();
  std::string metrics = Curl(metrics_url);
  EXPECT_NE(metrics.find("golens_agent_spans_exported_total " + std::to_string(kTraced + kUntraced)),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("golens_agent_span_export_failures_total{reason=\"rejected\"} 0"), std::string::npos);
  const std::string scrape = testing::ScratchDir() + "/otlp-scrape.txt";
  {
    std::ofstream(scrape) << metrics;
  }
  CommandResult check = RunCommand({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + scrape});
  EXPECT_EQ(check.exit_code, 0) << "promtool: " << testing::DescribeResult(check);

  agent.Kill(SIGTERM);
  ASSERT_EQ(agent.Wait(30s), std::optional<int>(0)) << agent.err();
  EXPECT_NE(agent.err().find(std::to_string(kTraced + kUntraced) + " of " + std::to_string(kTraced + kUntraced) +
                             " spans exported (OTLP)"),
            std::string::npos)
      << agent.err();

  // The span's link opens its CPU profile in golens serve: the handler's
  // frames, from that request's samples only.
  ASSERT_FALSE(serve_query.empty()) << "no span with samples";
  Subprocess serve({kGolens, "serve", "--store", store_dir, "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(serve.WaitForOutput("serve: http://", 20s, true)) << serve.err();
  std::string serve_url = After(serve.err(), "serve: ");
  while (!serve_url.empty() && serve_url.back() == '/') serve_url.pop_back();
  long status = 0;
  std::string svg = Curl(serve_url + serve_query, &status);
  EXPECT_EQ(status, 200) << serve_url + serve_query << ": " << svg.substr(0, 500);
  EXPECT_NE(svg.find("main.handlerWork"), std::string::npos) << "span " << serve_span << ": " << svg.substr(0, 500);
  EXPECT_EQ(svg.find("main.backgroundWork"), std::string::npos) << "only the request's samples";
  std::cout << "golens serve " << serve_query << ": HTTP " << status << ", " << svg.size() << " bytes of SVG\n";
}

// Jaeger stops while requests are served: the agent keeps running, queues
// the spans and retries with backoff; once Jaeger is back on the same port
// every queued span arrives (its in-memory storage starts empty, so what is
// there came after the restart).
TEST(OtlpJaeger, SpansQueuedWhileJaegerIsDownArriveAfterItsRestart) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (BPF)";
  Jaeger jaeger = StartJaeger();
  ASSERT_EQ(jaeger.error, "");
  Subprocess server({"/usr/bin/env", "GOLENS_SERVICE=otlpsvc", kFixtures + "/httpserver-local", "-seconds", "120"});
  ASSERT_TRUE(server.WaitForOutput("\n", 20s)) << server.err();
  std::istringstream words(server.out());
  std::string word;
  int port = 0;
  words >> word >> port;
  ASSERT_EQ(word, "listening") << server.out();
  Subprocess agent({kGolens, "-v", "agent", "--store", testing::ScratchDir() + "/otlp-restart-store", "--pid",
                    std::to_string(server.pid()), "--interval", "1s", "--spans", "--otlp-endpoint",
                    jaeger.otlp_url});
  ASSERT_TRUE(agent.WaitForOutput("agent: profiling pid " + std::to_string(server.pid()), 30s, true)) << agent.err();

  jaeger.process->Kill(SIGTERM);
  ASSERT_TRUE(jaeger.process->Wait(30s).has_value());
  const int kTraced = 10;
  CommandResult work = RunCommand({kFixtures + "/httpclient", "-url",
                                   "http://127.0.0.1:" + std::to_string(port) + "/work?ms=20", "-traced",
                                   std::to_string(kTraced)},
                                  60s);
  ASSERT_EQ(work.exit_code, 0) << work.out << work.err;
  ASSERT_TRUE(agent.WaitForOutput("unreachable", 20s, true)) << agent.err();
  std::this_thread::sleep_for(2s);  // a few failed attempts, backoff growing

  Jaeger again = StartJaeger(PortOf(jaeger.otlp_url), PortOf(jaeger.query_url));
  ASSERT_EQ(again.error, "");
  EXPECT_TRUE(agent.WaitForOutput("reachable again", 40s, true)) << agent.err();
  std::set<std::string> arrived;
  for (int attempt = 0; attempt < 40 && arrived.size() < static_cast<size_t>(kTraced); ++attempt) {
    for (int i = 0; i < kTraced; ++i) {
      if (arrived.count(SentTraceId(i))) continue;
      auto span = SpanOfTrace(again, SentTraceId(i));
      if (span && span->parent_id == SentParentId(i)) arrived.insert(SentTraceId(i));
    }
    if (arrived.size() < static_cast<size_t>(kTraced)) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(arrived.size(), static_cast<size_t>(kTraced));
  agent.Kill(SIGTERM);
  ASSERT_EQ(agent.Wait(30s), std::optional<int>(0)) << agent.err();
  EXPECT_NE(agent.err().find(std::to_string(kTraced) + " of " + std::to_string(kTraced) + " spans exported (OTLP)"),
            std::string::npos)
      << agent.err();
  EXPECT_NE(agent.err().find("failed attempts retried"), std::string::npos) << agent.err();
}

// Flag mistakes are usage errors (exit 2) with a message, before any BPF.
TEST(OtlpJaeger, FlagMistakesAreUsageErrors) {
  const std::string store_dir = testing::ScratchDir() + "/otlp-usage-store";
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--otlp-endpoint", "http://127.0.0.1:4318"}, "--otlp-endpoint needs --spans"},
      {{"--spans", "--otlp-header", "A: b"}, "--otlp-header needs --otlp-endpoint"},
      {{"--spans", "--otlp-endpoint", "http://127.0.0.1:4318", "--otlp-header", "no colon"}, "want 'Name: value'"},
      {{"--spans", "--otlp-endpoint", "grpc://127.0.0.1:4317"}, "only http and https"},
      {{"--spans", "--otlp-endpoint", "127.0.0.1:4318"}, "want http://host:port"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv{kGolens, "agent", "--store", store_dir};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    CommandResult r = RunCommand(argv, 30s);
    EXPECT_EQ(r.exit_code, 2) << testing::DescribeResult(r);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << testing::DescribeResult(r);
  }
}

}  // namespace
}  // namespace golens
