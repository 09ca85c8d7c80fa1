// OTLP span export without BPF: the ExportTraceServiceRequest golens builds,
// parsed back with code protoc generated from the OTLP field numbers (ids as
// bytes, SERVER kind, Unix times, attributes, one resource per process, the
// golens serve query), bad input (malformed ids, paths that are not UTF-8),
// and the exporter against a real HTTP server on loopback: what it posts,
// headers, partial success, 4xx refusals, 503 retries, and a closed port
// (bounded queue, counted drops, never blocking).
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "profiler/otlp_encode.h"
#include "profiler/otlp_exporter.h"
#include "profiler/otlp_trace.pb.h"
#include "tests/profiler/e2e_util.h"

namespace golens::profiler {
namespace {

using namespace std::chrono_literals;

FinishedSpan Finished(const std::string& trace, const std::string& span, const std::string& parent,
                      const std::string& method, const std::string& path, uint32_t tgid, uint64_t samples) {
  FinishedSpan f;
  f.ids = SpanIds{trace, span, parent};
  f.method = method;
  f.path = path;
  f.tgid = tgid;
  f.goid = 42;
  f.start_ktime_ns = 1'000'000'000;
  f.end_ktime_ns = 1'060'000'000;
  f.cpu_samples = samples;
  return f;
}

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s += static_cast<char>(b);
  return s;
}

std::map<std::string, otlp::AnyValue> Attrs(const google::protobuf::RepeatedPtrField<otlp::KeyValue>& kvs) {
  std::map<std::string, otlp::AnyValue> out;
  for (const auto& kv : kvs) EXPECT_TRUE(out.emplace(kv.key(), kv.value()).second) << "duplicate key " << kv.key();
  return out;
}

constexpr int64_t kOffset = 1'764'000'000'000'000'000;  // monotonic -> Unix, late 2025

TEST(OtlpEncode, RequestParsesBackWithIdsTimesAndAttributes) {
  std::vector<ExportSpan> spans = {
      MakeExportSpan(Finished("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "0102030405060708", "GET",
                              "/work", 100, 7),
                     kOffset, "checkout", "host-a"),
      MakeExportSpan(Finished("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "", "POST", "/pay", 200, 0),
                     kOffset, "payments", "host-a"),
      MakeExportSpan(Finished("0af7651916cd43dd8448eb211c80319d", "b7ad6b7169203332", "", "GET", "/idle", 100, 3),
                     kOffset, "checkout", "host-a"),
  };
  EncodedTraces encoded = EncodeOtlpTraces(spans);
  EXPECT_EQ(encoded.spans, 3u);
  EXPECT_EQ(encoded.invalid, 0u);
  otlp::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(encoded.body));
  ASSERT_EQ(request.resource_spans_size(), 2) << "one resource per process";

  const otlp::ResourceSpans& first = request.resource_spans(0);
  auto resource = Attrs(first.resource().attributes());
  EXPECT_EQ(resource["service.name"].string_value(), "checkout");
  EXPECT_EQ(resource["host.name"].string_value(), "host-a");
  EXPECT_EQ(resource["process.pid"].int_value(), 100);
  ASSERT_EQ(first.scope_spans_size(), 1);
  EXPECT_EQ(first.scope_spans(0).scope().name(), "golens");
  ASSERT_EQ(first.scope_spans(0).spans_size(), 2) << "both spans of pid 100";

  const otlp::Span& s = first.scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id(), Bytes({0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                                 0x47, 0x36}));
  EXPECT_EQ(s.span_id(), Bytes({0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}));
  EXPECT_EQ(s.parent_span_id(), Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(s.name(), "GET /work");
  EXPECT_EQ(s.kind(), otlp::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), static_cast<uint64_t>(kOffset + 1'000'000'000));
  EXPECT_EQ(s.end_time_unix_nano(), static_cast<uint64_t>(kOffset + 1'060'000'000));
  auto attrs = Attrs(s.attributes());
  EXPECT_EQ(attrs["http.request.method"].string_value(), "GET");
  EXPECT_EQ(attrs["url.path"].string_value(), "/work");
  EXPECT_EQ(attrs["golens.cpu_samples"].value_case(), otlp::AnyValue::kIntValue);
  EXPECT_EQ(attrs["golens.cpu_samples"].int_value(), 7);
  EXPECT_EQ(attrs["golens.goroutine_id"].int_value(), 42);
  const std::string from = std::to_string((kOffset + 1'000'000'000) / 1'000'000'000);
  const std::string to = std::to_string((kOffset + 1'060'000'000) / 1'000'000'000 + 1);
  const std::string query = "/api/flame?service=checkout&tag=span_id%3D00f067aa0ba902b7&from=" + from + "&to=" + to;
  EXPECT_EQ(attrs["golens.profile_url"].string_value(), query);
  ASSERT_EQ(s.events_size(), 1);
  EXPECT_EQ(s.events(0).name(), "golens.cpu_profile");
  EXPECT_EQ(s.events(0).time_unix_nano(), s.end_time_unix_nano());
  EXPECT_EQ(Attrs(s.events(0).attributes())["golens.profile_url"].string_value(), query);

  EXPECT_EQ(first.scope_spans(0).spans(1).name(), "GET /idle");
  EXPECT_TRUE(first.scope_spans(0).spans(1).parent_span_id().empty()) << "a root span has no parent";
  const otlp::ResourceSpans& second = request.resource_spans(1);
  EXPECT_EQ(Attrs(second.resource().attributes())["service.name"].string_value(), "payments");
  EXPECT_EQ(Attrs(second.scope_spans(0).spans(0).attributes())["golens.cpu_samples"].int_value(), 0);
}

TEST(OtlpEncode, MalformedIdsAreLeftOutAndPathsMadeUtf8) {
  std::vector<ExportSpan> spans = {
      MakeExportSpan(Finished("4bf92f", "00f067aa0ba902b7", "", "GET", "/a", 1, 1), 0, "s", "h"),  // short trace id
      MakeExportSpan(Finished("4bf92f3577b34da6a3ce929d0e0e4736", "zzf067aa0ba902b7", "", "GET", "/b", 1, 1), 0, "s",
                     "h"),
      MakeExportSpan(Finished("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "0102", "GET", "/c", 1, 1), 0,
                     "s", "h"),
      MakeExportSpan(Finished("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "", "GET",
                              std::string("/\xff\xc0\x80x\xe2\x82\xac"), 1, 1),
                     0, "s", "h"),
      MakeExportSpan(Finished("4BF92F3577B34DA6A3CE929D0E0E4736", "00F067AA0BA902B8", "", "", "", 1, 1), 0, "s", "h"),
  };
  EncodedTraces encoded = EncodeOtlpTraces(spans);
  EXPECT_EQ(encoded.invalid, 3u);
  ASSERT_EQ(encoded.spans, 2u);
  otlp::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(encoded.body)) << "strings must be valid UTF-8 for proto3 parsers";
  const auto& out = request.resource_spans(0).scope_spans(0).spans();
  EXPECT_EQ(Attrs(out[0].attributes())["url.path"].string_value(), "/\uFFFD\uFFFD\uFFFDx\u20AC");
  EXPECT_EQ(out[1].name(), "HTTP") << "no method known";
  EXPECT_EQ(out[1].span_id(), Bytes({0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb8}));
  EXPECT_EQ(Attrs(out[1].attributes()).count("http.request.method"), 0u);

  EXPECT_TRUE(EncodeOtlpTraces({}).body.empty());
}

TEST(OtlpEncode, ProfileQueryEscapesAndCoversTheRequest) {
  EXPECT_EQ(SpanProfileQuery("check out/v2", "00f067aa0ba902b7", 5'000'000'000, 5'000'000'000),
            "/api/flame?service=check%20out%2Fv2&tag=span_id%3D00f067aa0ba902b7&from=5&to=6");
  EXPECT_EQ(SpanProfileQuery("s", "ab", 5'900'000'000, 7'000'000'001), "/api/flame?service=s&tag=span_id%3Dab&from=5&to=8");
}

TEST(OtlpExporter, BadEndpointsAreUsageErrors) {
  for (const char* url : {"localhost:4318", "grpc://host:4317", "http://", "unix:///tmp/s"}) {
    OtlpOptions options;
    options.endpoint = url;
    auto exporter = OtlpExporter::Create(options);
    ASSERT_FALSE(exporter.ok()) << url;
    EXPECT_EQ(exporter.error().kind, ErrorKind::kInvalidArgument) << url;
  }
}

// A real HTTP server on loopback that answers /v1/traces as told.
class Receiver {
 public:
  Receiver() {
    server_.Post("/prefix/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      otlp::ExportTraceServiceRequest request;
      EXPECT_TRUE(request.ParseFromString(req.body));
      EXPECT_EQ(req.get_header_value("Content-Type"), "application/x-protobuf");
      auth_ = req.get_header_value("Authorization");
      for (const auto& rs : request.resource_spans())
        for (const auto& ss : rs.scope_spans())
          for (const auto& s : ss.spans()) names_.push_back(s.name());
      int status = 200;
      if (!statuses_.empty()) {
        status = statuses_.front();
        statuses_.erase(statuses_.begin());
      }
      res.status = status;
      if (status == 200 && partial_rejected_) {
        otlp::ExportTraceServiceResponse response;
        response.mutable_partial_success()->set_rejected_spans(partial_rejected_);
        response.mutable_partial_success()->set_error_message("too old");
        res.set_content(response.SerializeAsString(), "application/x-protobuf");
        partial_rejected_ = 0;
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/prefix/"; }
  void Answer(std::vector<int> statuses, int64_t partial_rejected = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_ = std::move(statuses);
    partial_rejected_ = partial_rejected;
  }
  std::vector<std::string> names() {
    std::lock_guard<std::mutex> lock(mu_);
    return names_;
  }
  std::string auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return auth_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> statuses_;
  int64_t partial_rejected_ = 0;
  std::vector<std::string> names_;
  std::string auth_;
};

std::vector<ExportSpan> Batch(int n, const std::string& path) {
  std::vector<ExportSpan> spans;
  for (int i = 0; i < n; ++i) {
    char span_id[17];
    snprintf(span_id, sizeof span_id, "%016x", i + 1);
    spans.push_back(
        MakeExportSpan(Finished("4bf92f3577b34da6a3ce929d0e0e4736", span_id, "", "GET", path, 1, 1), 0, "s", "h"));
  }
  return spans;
}

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

TEST(OtlpExporter, PostsBatchesRetriesBusyAndCountsRefusals) {
  Receiver receiver;
  OtlpOptions options;
  options.endpoint = receiver.url();
  options.headers = {{"Authorization", "Bearer t0ken"}};
  options.max_batch = 3;
  options.initial_backoff = 20ms;
  auto created = OtlpExporter::Create(options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  OtlpExporter& exporter = **created;
  EXPECT_EQ(exporter.traces_url(), receiver.url().substr(0, receiver.url().size() - 1) + "/v1/traces");

  // 503 twice, then accepted: the same batch again, nothing lost.
  receiver.Answer({503, 503});
  exporter.Enqueue(Batch(2, "/busy"));
  ASSERT_TRUE(WaitFor([&] { return exporter.stats().exported == 2; })) << exporter.stats().exported;
  OtlpStats s = exporter.stats();
  EXPECT_EQ(s.failed_retryable, 2u);
  EXPECT_TRUE(s.receiver_up);
  EXPECT_EQ(receiver.auth(), "Bearer t0ken");

  // A partial success: 1 of the batch refused.
  receiver.Answer({}, 1);
  exporter.Enqueue(Batch(3, "/partial"));
  ASSERT_TRUE(WaitFor([&] { return exporter.stats().rejected_spans == 1; }));
  EXPECT_EQ(exporter.stats().exported, 4u);

  // 400: refused for good, not retried.
  receiver.Answer({400});
  exporter.Enqueue(Batch(2, "/bad"));
  ASSERT_TRUE(WaitFor([&] { return exporter.stats().failed_rejected == 1; }));
  s = exporter.stats();
  EXPECT_EQ(s.rejected_spans, 3u);

  // 7 spans in batches of at most 3.
  receiver.Answer({});
  exporter.Enqueue(Batch(7, "/many"));
  ASSERT_TRUE(WaitFor([&] { return exporter.stats().exported == 11; })) << exporter.stats().exported;
  exporter.Stop(1s);
  s = exporter.stats();
  EXPECT_EQ(s.requests, 1u + 1u + 3u) << "busy, partial, then 3+3+1";
  EXPECT_EQ(s.dropped_at_stop, 0u);
  EXPECT_EQ(s.queue_depth, 0u);
  std::vector<std::string> names = receiver.names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "GET /busy"), 6) << "3 attempts of the same 2 spans";
  EXPECT_EQ(std::count(names.begin(), names.end(), "GET /many"), 7);
}

// A port nobody listens on: Enqueue never blocks, the queue stays bounded
// (oldest dropped and counted), attempts are retried with backoff, and Stop
// returns within its drain time counting what was left.
TEST(OtlpExporter, DownReceiverNeverBlocksOrGrows) {
  const int closed_port = testing::FreeLoopbackPort();  // nobody listens: connections are refused
  ASSERT_NE(closed_port, 0);
  OtlpOptions options;
  options.endpoint = "http://127.0.0.1:" + std::to_string(closed_port);
  options.max_queue = 100;
  options.max_batch = 10;
  options.initial_backoff = 20ms;
  options.max_backoff = 80ms;
  auto created = OtlpExporter::Create(options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  OtlpExporter& exporter = **created;
  for (int i = 0; i < 100; ++i) exporter.Enqueue(Batch(10, "/x"));
  ASSERT_TRUE(WaitFor([&] { return exporter.stats().failed_unreachable >= 2; }));
  OtlpStats s = exporter.stats();
  EXPECT_LE(s.queue_depth, 110u) << "queue plus one batch in flight";
  EXPECT_GE(s.dropped_full, 890u);
  EXPECT_FALSE(s.receiver_up);
  EXPECT_EQ(s.exported, 0u);
  exporter.Stop(100ms);
  s = exporter.stats();
  EXPECT_EQ(s.dropped_full + s.dropped_at_stop, 1000u) << "every span accounted for";
  EXPECT_EQ(s.queue_depth, 0u);
}

}  // namespace
}  // namespace golens::profiler
