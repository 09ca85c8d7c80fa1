// Zero-code HTTP spans (golens record --spans): uprobes on
// net/http.serverHandler.ServeHTTP label every CPU sample taken inside a
// handler with trace_id, span_id, http.method and http.path, and
// --spans-out writes one JSON line per finished request. Checked on a
// net/http server built with Go 1.23 (bucket maps) and the local Go (Swiss
// maps), driven by the httpclient fixture with known W3C traceparent
// headers; plus a minute of attach/detach under load and a target without
// net/http. Needs root (real BPF); without it every test fails with
// golens's message.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pprof/profile.h"
#include "pprof/profile_io.h"
#include "tests/profiler/e2e_util.h"
#include "tests/profiler/subprocess.h"

namespace golens {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::RunCommand;
using testing::Subprocess;

const std::string kGolens = testing::GolensUnderTest(GOLENS_BINARY);
const std::string kFixtures = GOLENS_FIXTURES;
const std::string kClient = kFixtures + "/httpclient";

// What the httpclient fixture sends in list mode for request i (-traced N).
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

std::string TempDir() { return testing::ScratchDir(); }

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsLowerHex(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return s != std::string(n, '0');
}

std::string Label(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels)
    if (l.key == key) return l.str;
  return "";
}

bool HasLabel(const pprof::Sample& s, const std::string& key) {
  for (const auto& l : s.labels)
    if (l.key == key) return true;
  return false;
}

// Labels golens --spans adds; none of them may appear outside a handler.
const char* const kSpanLabels[] = {"trace_id", "span_id", "http.method", "http.path"};

bool HasSpanLabel(const pprof::Sample& s) {
  for (const char* key : kSpanLabels)
    if (HasLabel(s, key)) return true;
  return false;
}

// Whether any frame (inlined ones included) of the sample is `function`.
bool StackHas(const pprof::ProfileIndex& index, const pprof::Sample& s, const std::string& function) {
  for (uint64_t id : s.location_ids) {
    const pprof::Location* loc = index.location(id);
    if (!loc) continue;
    for (const auto& line : loc->lines) {
      const pprof::Function* fn = index.function(line.function_id);
      if (fn && fn->name == function) return true;
    }
  }
  return false;
}

std::string LabelsText(const pprof::Sample& s) {
  std::string out;
  for (const auto& l : s.labels) out += l.key + "=" + (l.str.empty() ? std::to_string(l.num) : l.str) + " ";
  return out;
}

struct Span {
  std::string trace_id, span_id, parent_span_id, method, path;
  int64_t start_unix_nanos = 0, duration_nanos = 0, cpu_samples = 0;
};

// The --spans-out file: one JSON object per line. Lines that are not such an
// object (a torn write, missing fields) land in `bad`.
std::vector<Span> ReadSpans(const std::string& path, std::vector<std::string>* bad) {
  std::vector<Span> spans;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      Span s;
      s.trace_id = j.at("trace_id").get<std::string>();
      s.span_id = j.at("span_id").get<std::string>();
      s.parent_span_id = j.at("parent_span_id").get<std::string>();
      s.method = j.at("method").get<std::string>();
      s.path = j.at("path").get<std::string>();
      s.start_unix_nanos = j.at("start_unix_nanos").get<int64_t>();
      s.duration_nanos = j.at("duration_nanos").get<int64_t>();
      s.cpu_samples = j.at("cpu_samples").get<int64_t>();
      spans.push_back(std::move(s));
    } catch (const std::exception& e) {
      bad->push_back(line + "  (" + e.what() + ")");
    }
  }
  return spans;
}

// The httpserver fixture of one Go release on a free loopback port. It exits
// by itself after `seconds` in case a crashed test leaks it; the Subprocess
// kills it at the end of the test in any case.
struct Server {
  std::unique_ptr<Subprocess> process;
  std::string url;  // http://127.0.0.1:PORT
  std::string error;
};

Server StartServer(const std::string& version, int seconds) {
  Server s;
  std::string fixture = kFixtures + "/httpserver-" + version;
  s.process = std::make_unique<Subprocess>(std::vector<std::string>{fixture, "-seconds", std::to_string(seconds)});
  if (!s.process->WaitForOutput("\n", 20s)) {
    s.error = fixture + " did not start: " + s.process->err();
    return s;
  }
  std::istringstream out(s.process->out());
  std::string word;
  int port = 0;
  out >> word >> port;
  if (word != "listening" || port <= 0) {
    s.error = fixture + " printed no port: " + s.process->out();
    return s;
  }
  s.url = "http://127.0.0.1:" + std::to_string(port);
  return s;
}

std::string ReleaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (c == '.') c = '_';
  return "go" + name;
}

class SpansByRelease : public ::testing::TestWithParam<std::string> {};

// 30 requests with known traceparent headers and 10 without (/work?ms=60,
// two keep-alive connections, so one connection goroutine serves many
// requests one after the other), then 5 /spawn requests whose CPU is burnt by
// a goroutine the handler starts. golens records from before the first
// request until after the last answer (ended with SIGINT, so no request
// straddles the window: exactly one span line per request).
TEST_P(SpansByRelease, LabelHandlerSamplesAndWriteOneSpanPerRequest) {
  const int kTraced = 30, kUntraced = 10, kSpawns = 5;
  Server server = StartServer(GetParam(), 90);
  ASSERT_EQ(server.error, "");
  const std::string profile_path = TempDir() + "/spans-" + GetParam() + ".pb.gz";
  const std::string spans_path = TempDir() + "/spans-" + GetParam() + ".jsonl";
  const int64_t t0 = UnixNanos();
  Subprocess golens({kGolens, "record", "--pid", std::to_string(server.process->pid()), "--spans", "--spans-out",
                     spans_path, "--hz", "499", "--duration", "60s", "-o", profile_path});
  ASSERT_TRUE(golens.WaitForOutput("recording 1 process", 30s, true)) << golens.err();

  CommandResult work = RunCommand({kClient, "-url", server.url + "/work?ms=60", "-traced", std::to_string(kTraced),
                                   "-untraced", std::to_string(kUntraced), "-c", "2"},
                                  60s);
  EXPECT_EQ(work.exit_code, 0) << work.out << work.err;
  EXPECT_NE(work.out.find("done requests=40 errors=0"), std::string::npos) << work.out << work.err;
  CommandResult spawn =
      RunCommand({kClient, "-url", server.url + "/spawn?ms=40", "-untraced", std::to_string(kSpawns)}, 60s);
  EXPECT_EQ(spawn.exit_code, 0) << spawn.out << spawn.err;

  std::this_thread::sleep_for(500ms);  // the last RET events through the ring buffer
  golens.Kill(SIGINT);
  std::optional<int> code = golens.Wait(60s);
  const int64_t t1 = UnixNanos();
  ASSERT_EQ(code, std::optional<int>(0)) << golens.err();
  EXPECT_EQ(server.process->Wait(0ms), std::nullopt) << "the server died: " << server.process->err();

  // --spans-out: one line per request.
  std::vector<std::string> bad;
  std::vector<Span> spans = ReadSpans(spans_path, &bad);
  EXPECT_TRUE(bad.empty()) << "malformed lines, first: " << (bad.empty() ? "" : bad[0]);
  std::set<std::string> sent;
  std::map<std::string, std::string> parent_of;  // sent trace id -> sent parent id
  for (int i = 0; i < kTraced; ++i) {
    sent.insert(SentTraceId(i));
    parent_of[SentTraceId(i)] = SentParentId(i);
  }
  std::map<std::string, int> traced_seen;
  std::set<std::string> span_ids, fresh_trace_ids;
  std::map<std::string, const Span*> by_span_id;
  int work_lines = 0, spawn_lines = 0;
  for (const auto& s : spans) {
    SCOPED_TRACE("span " + s.span_id + " trace " + s.trace_id + " " + s.path);
    EXPECT_TRUE(IsLowerHex(s.span_id, 16));
    EXPECT_TRUE(IsLowerHex(s.trace_id, 32));
    EXPECT_TRUE(span_ids.insert(s.span_id).second) << "span_id reused";
    by_span_id[s.span_id] = &s;
    EXPECT_EQ(s.method, "GET");
    EXPECT_GE(s.start_unix_nanos, t0);
    EXPECT_LE(s.start_unix_nanos + s.duration_nanos, t1);
    EXPECT_GT(s.duration_nanos, 0);
    if (sent.count(s.trace_id)) {
      ++traced_seen[s.trace_id];
      EXPECT_EQ(s.parent_span_id, parent_of[s.trace_id]);
    } else {
      EXPECT_EQ(s.parent_span_id, "") << "no traceparent was sent";
      EXPECT_TRUE(fresh_trace_ids.insert(s.trace_id).second) << "a fresh trace id is random per request";
    }
    if (s.path == "/work") {
      ++work_lines;
      // The handler busy-waits 60 ms of wall-clock time.
      EXPECT_GE(s.duration_nanos, 55'000'000);
      EXPECT_LT(s.duration_nanos, 30'000'000'000);
      EXPECT_GE(s.cpu_samples, 3) << "60 ms at 499 Hz is ~30 samples on a free CPU";
    } else if (s.path == "/spawn") {
      ++spawn_lines;
      EXPECT_EQ(sent.count(s.trace_id), 0u);
    } else {
      ADD_FAILURE() << "unexpected path " << s.path;
    }
  }
  EXPECT_EQ(work_lines, kTraced + kUntraced);
  EXPECT_EQ(spawn_lines, kSpawns);
  EXPECT_EQ(traced_seen.size(), static_cast<size_t>(kTraced)) << "every sent trace id once";
  for (const auto& [id, n] : traced_seen) EXPECT_EQ(n, 1) << id;

  // The profile: handler samples carry the span, nothing else does.
  auto read = pprof::ReadProfileFile(profile_path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const pprof::Profile profile = std::move(read).value();
  const pprof::ProfileIndex index(profile);
  int64_t handler = 0, handler_ok = 0, background = 0, background_role = 0, spawned = 0;
  std::map<std::string, int64_t> samples_by_span;
  std::set<std::string> traced_in_profile;
  std::string first_bad_handler;
  for (const auto& s : profile.samples) {
    const int64_t n = s.values.at(0);
    const std::string span_id = Label(s, "span_id");
    if (!span_id.empty()) samples_by_span[span_id] += n;
    // A span label set is whole and agrees with the span's line.
    if (HasSpanLabel(s)) {
      EXPECT_TRUE(IsLowerHex(span_id, 16)) << LabelsText(s);
      auto it = by_span_id.find(span_id);
      if (it != by_span_id.end()) {
        EXPECT_EQ(Label(s, "trace_id"), it->second->trace_id) << LabelsText(s);
        EXPECT_EQ(Label(s, "http.path"), it->second->path) << LabelsText(s);
      }
      EXPECT_EQ(Label(s, "http.method"), "GET") << LabelsText(s);
    }
    if (StackHas(index, s, "main.handlerWork")) {
      handler += n;
      const std::string trace_id = Label(s, "trace_id");
      bool ok = IsLowerHex(trace_id, 32) && IsLowerHex(span_id, 16) && Label(s, "http.method") == "GET" &&
                Label(s, "http.path") == "/work";
      if (ok && sent.count(trace_id)) {
        traced_in_profile.insert(trace_id);
      } else if (ok) {
        ok = fresh_trace_ids.count(trace_id) > 0;  // a request without traceparent
      }
      if (ok) {
        handler_ok += n;
      } else if (first_bad_handler.empty()) {
        first_bad_handler = LabelsText(s);
      }
    }
    if (StackHas(index, s, "main.backgroundWork")) {
      background += n;
      EXPECT_FALSE(HasSpanLabel(s)) << "outside any handler: " << LabelsText(s);
      if (Label(s, "role") == "background") background_role += n;
    }
    if (StackHas(index, s, "main.spawnedWork")) {
      spawned += n;
      EXPECT_FALSE(HasSpanLabel(s)) << "a goroutine started by a handler does not inherit its span: "
                                    << LabelsText(s);
    }
  }
  EXPECT_GT(handler, 200) << "40 x 60 ms at 499 Hz is ~1200 samples";
  EXPECT_GE(handler_ok * 100, handler * 95) << handler_ok << " of " << handler
                                            << " handler samples carry a sent or fresh span; first other: "
                                            << first_bad_handler;
  EXPECT_GE(traced_in_profile.size(), static_cast<size_t>(kTraced - 2));
  EXPECT_GT(background, 20);
  EXPECT_GE(background_role * 100, background * 95) << "the program's own pprof labels stay";
  EXPECT_GT(spawned, 10);

  // cpu_samples of a span ~ the profile's samples labelled with its span_id.
  int64_t line_total = 0, profile_total = 0;
  for (const auto& s : spans) {
    const int64_t in_profile = samples_by_span[s.span_id];
    line_total += s.cpu_samples;
    profile_total += in_profile;
    EXPECT_LE(std::abs(s.cpu_samples - in_profile), std::max<int64_t>(3, s.cpu_samples / 5))
        << "span " << s.span_id << " " << s.path << ": cpu_samples " << s.cpu_samples << ", profile "
        << in_profile;
  }
  EXPECT_LE(std::abs(line_total - profile_total) * 100, std::max<int64_t>(line_total, 1) * 5)
      << "cpu_samples total " << line_total << ", profile samples with a span_id of a line " << profile_total;
  // No labelled samples of spans that have no line.
  for (const auto& [id, n] : samples_by_span) EXPECT_TRUE(by_span_id.count(id)) << "span_id " << id << ": " << n;
}

// "Run it for a minute with golens attaching and detaching repeatedly": 60 s
// of load on 4 keep-alive connections (idle requests, 1 ms of work, 3 MB of
// goroutine stack growth inside the handler, a spawned goroutine; a
// traceparent on every other request) while golens record --spans runs back
// to back for 0.5, 1 and 2 s. Every request answers 200 "ok", the server is
// alive at the end, every golens run exits 0 and writes whole JSON lines.
TEST_P(SpansByRelease, SurviveAttachDetachUnderLoadForAMinute) {
  Server server = StartServer(GetParam(), 150);
  ASSERT_EQ(server.error, "");
  Subprocess client({kClient, "-url", server.url, "-duration", "60s", "-c", "4", "-paths",
                     "/idle,/work?ms=1,/grow?depth=3000,/spawn?ms=1,/idle"});
  const auto start = std::chrono::steady_clock::now();
  const std::string profile_path = TempDir() + "/attach-" + GetParam() + ".pb.gz";
  const char* const durations[] = {"1s", "500ms", "2s"};
  int runs = 0, failed = 0, bad_lines = 0;
  size_t spans = 0;
  std::string first_failure, first_bad_line;
  while (std::chrono::steady_clock::now() - start < 58s && !client.Wait(0ms)) {
    const std::string spans_path = TempDir() + "/attach-" + GetParam() + "-" + std::to_string(runs) + ".jsonl";
    CommandResult r = RunCommand({kGolens, "-q", "record", "--pid", std::to_string(server.process->pid()),
                                  "--spans", "--spans-out", spans_path, "--duration", durations[runs % 3], "-o",
                                  profile_path},
                                 60s);
    ++runs;
    if (r.exit_code != 0) {
      if (!failed++) first_failure = "exit " + std::to_string(r.exit_code) + ": " + r.err;
      if (r.err.find("unknown option") != std::string::npos || r.err.find("--spans") != std::string::npos) break;
      continue;
    }
    std::vector<std::string> bad;
    spans += ReadSpans(spans_path, &bad).size();
    bad_lines += static_cast<int>(bad.size());
    if (!bad.empty() && first_bad_line.empty()) first_bad_line = bad[0];
    std::error_code ignored;
    std::filesystem::remove(spans_path, ignored);
  }
  std::optional<int> client_code = client.Wait(90s);
  EXPECT_EQ(failed, 0) << failed << " of " << runs << " golens runs failed, first: " << first_failure;
  EXPECT_GE(runs, 10);
  EXPECT_EQ(bad_lines, 0) << first_bad_line;
  EXPECT_GT(spans, 100u) << "span lines over all runs";
  ASSERT_EQ(client_code, std::optional<int>(0)) << client.out() << client.err();
  EXPECT_NE(client.out().find(" errors=0 "), std::string::npos) << client.out() << client.err();
  // The server still answers, and never printed a Go crash.
  EXPECT_EQ(server.process->Wait(0ms), std::nullopt) << "the server died: " << server.process->err();
  CommandResult last = RunCommand({kClient, "-url", server.url + "/grow?depth=3000", "-untraced", "3"}, 30s);
  EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
  EXPECT_EQ(server.process->err().find("fatal error"), std::string::npos) << server.process->err();
  EXPECT_EQ(server.process->err().find("panic"), std::string::npos) << server.process->err();
  std::cerr << "attach/detach: " << runs << " golens runs, " << spans << " spans, client: " << client.out();
}

INSTANTIATE_TEST_SUITE_P(GoReleases, SpansByRelease, ::testing::Values("1.23.12", "local"), ReleaseName);

// -- CMD: the probes are in place before the server answers its first
// request (golens starts it; its stdout is golens's). The server exits by
// itself (0) after 6 s, which ends the recording; golens exits with its code.
// A first request missing from the spans (its trace id ...4702: the client's
// first) means the probes were attached after the program started serving.
TEST(Spans, CommandModeLabelsRequests) {
  const std::string profile_path = TempDir() + "/cmd.pb.gz";
  const std::string spans_path = TempDir() + "/cmd.jsonl";
  Subprocess golens({kGolens, "record", "--spans", "--spans-out", spans_path, "--hz", "499", "--duration", "60s",
                     "-o", profile_path, "--", kFixtures + "/httpserver-local", "-seconds", "6"});
  ASSERT_TRUE(golens.WaitForOutput("listening ", 30s)) << golens.err();
  std::istringstream out(golens.out().substr(golens.out().find("listening ")));
  std::string word;
  int port = 0;
  out >> word >> port;
  ASSERT_GT(port, 0) << golens.out();
  CommandResult work = RunCommand(
      {kClient, "-url", "http://127.0.0.1:" + std::to_string(port) + "/work?ms=40", "-traced", "5"}, 60s);
  EXPECT_EQ(work.exit_code, 0) << work.out << work.err;
  ASSERT_EQ(golens.Wait(60s), std::optional<int>(0)) << golens.err();

  std::vector<std::string> bad;
  std::vector<Span> spans = ReadSpans(spans_path, &bad);
  EXPECT_TRUE(bad.empty());
  std::set<std::string> trace_ids;
  for (const auto& s : spans) {
    EXPECT_EQ(s.path, "/work");
    trace_ids.insert(s.trace_id);
  }
  std::set<std::string> want;
  for (int i = 0; i < 5; ++i) want.insert(SentTraceId(i));
  EXPECT_EQ(trace_ids, want);
  EXPECT_EQ(spans.size(), 5u);

  auto read = pprof::ReadProfileFile(profile_path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const pprof::ProfileIndex index(*read);
  int64_t handler = 0, labelled = 0;
  for (const auto& s : read->samples) {
    if (!StackHas(index, s, "main.handlerWork")) continue;
    handler += s.values.at(0);
    if (want.count(Label(s, "trace_id"))) labelled += s.values.at(0);
  }
  EXPECT_GT(handler, 20);
  EXPECT_GE(labelled * 100, handler * 95) << labelled << " of " << handler;
}

// A Go program without net/http: a warning, and the CPU profile as usual.
TEST(Spans, TargetWithoutHttpServerWarnsAndStillRecords) {
  Subprocess target({kFixtures + "/cpu31", "-workers", "1", "-exit-after", "60"});
  ASSERT_TRUE(target.WaitForOutput("ready", 20s)) << target.err();
  const std::string profile_path = TempDir() + "/nohttp.pb.gz";
  CommandResult r = RunCommand({kGolens, "record", "--pid", std::to_string(target.pid()), "--spans", "--spans-out",
                                TempDir() + "/nohttp.jsonl", "--duration", "2s", "-o", profile_path},
                               60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no net/http server"), std::string::npos) << r.err;
  auto read = pprof::ReadProfileFile(profile_path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  int64_t samples = 0;
  for (const auto& s : read->samples) {
    samples += s.values.at(0);
    EXPECT_FALSE(HasSpanLabel(s)) << LabelsText(s);
  }
  EXPECT_GT(samples, 50) << "2 s of one busy goroutine at 99 Hz is ~200";
}

}  // namespace
}  // namespace golens
