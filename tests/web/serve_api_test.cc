// golens serve's HTTP API over real HTTP on loopback, on a real store (two
// builds of a service written through the store library, one entry
// corrupted): every endpoint, bad parameters (400 with a JSON message),
// unknown services (404), selections too large (413), path traversal and
// other methods, a corrupt entry (skipped; the endpoints still answer), the
// auth token, content types and CSP, reflected input escaped, and 100
// concurrent requests answered in bounded time.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "pprof/builder.h"
#include "pprof/profile_io.h"
#include "pprof/store/store.h"
#include "web/server/http_server.h"
#include "web/server/profile_api.h"
#include "web/server/regression.h"

namespace golens::web {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int64_t kNs = 1000000000;
constexpr int64_t kT0 = 1764662400;  // 2025-12-02T08:00:00Z

// A Go-like CPU profile: main.main -> main.heavy / main.light with the given
// sample counts, at 100 Hz, labelled worker=<worker>.
pprof::Profile MakeProfile(int64_t start_s, int heavy, int light, const std::string& worker) {
  pprof::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  b.header().period_type = {"cpu", "nanoseconds"};
  b.header().period = 10000000;
  b.header().time_nanos = start_s * kNs;
  b.header().duration_nanos = 10 * kNs;
  pprof::Mapping m;
  m.memory_start = 0x400000;
  m.memory_limit = 0x500000;
  m.filename = "/srv/app";
  m.has_functions = true;
  uint64_t mapping = b.AddMapping(m);
  uint64_t fmain = b.AddFunction("main.main", "main.main", "main.go", 10);
  uint64_t fheavy = b.AddFunction("main.heavy", "main.heavy", "main.go", 20);
  uint64_t flight = b.AddFunction("main.light", "main.light", "main.go", 30);
  uint64_t lmain = b.AddLocation(mapping, 0x401000, {{fmain, 12, 0}});
  uint64_t lheavy = b.AddLocation(mapping, 0x402000, {{fheavy, 22, 0}});
  uint64_t llight = b.AddLocation(mapping, 0x403000, {{flight, 32, 0}});
  std::vector<pprof::Label> labels{{"worker", worker, 0, ""}};
  std::vector<uint64_t> hs{lheavy, lmain}, ls{llight, lmain};
  if (heavy) b.AddSample(hs, std::vector<int64_t>{heavy, heavy * 10000000LL}, labels);
  if (light) b.AddSample(ls, std::vector<int64_t>{light, light * 10000000LL}, labels);
  return b.Build();
}

class ServeApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("golens-serve-api-" + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    auto store = store::Store::Open(*dir_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    // "checkout": build v1 for 30 profiles (3:1), then v2 (6:1) for 30; "other": 5 profiles.
    for (int i = 0; i < 60; ++i) {
      store::ProfileMeta meta;
      meta.service = "checkout";
      bool v2 = i >= 30;
      meta.build_id = v2 ? "bbbbbbbbbbbbbbbb2222" : "aaaaaaaaaaaaaaaa1111";
      meta.go_version = "go1.26.8";
      meta.exe_path = "/srv/app";
      meta.host = "h1";
      meta.pid = v2 ? 200 : 100;
      meta.start_ns = (kT0 + 10 * i) * kNs;
      meta.end_ns = meta.start_ns + 10 * kNs;
      pprof::Profile p = MakeProfile(kT0 + 10 * i, v2 ? 600 : 300, 100, i % 2 ? "a" : "b");
      meta.samples = v2 ? 700 : 400;
      ASSERT_TRUE((*store)->Put(meta, p).ok());
    }
    for (int i = 0; i < 5; ++i) {
      store::ProfileMeta meta;
      meta.service = "other <script>";
      meta.build_id = "cccc";
      meta.start_ns = (kT0 + 10 * i) * kNs;
      meta.end_ns = meta.start_ns + 10 * kNs;
      meta.samples = 4;
      ASSERT_TRUE((*store)->Put(meta, MakeProfile(kT0 + 10 * i, 3, 1, "c")).ok());
    }
    store->reset();
    CorruptOneEntry();
    store::StoreOptions ro;
    ro.read_only = true;
    auto reader = store::Store::Open(*dir_, ro);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    store_ = reader->release();
    api_ = new ProfileApi(store_, ApiOptions{.max_profiles = 1000});
    ServerOptions options;
    options.port = 0;
    auto server = HttpServer::Create(api_, options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = server->release();
    thread_ = new std::thread([] { server_->Run(); });
    for (int i = 0; i < 100; ++i) {
      httplib::Client c("127.0.0.1", server_->port());
      if (c.Get("/api/services")) break;
      std::this_thread::sleep_for(20ms);
    }
  }
  static void TearDownTestSuite() {
    server_->Stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete api_;
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // Flips bytes in the middle of the 4th stored profile's data (table
  // profile_data of the store's schema), as a bad disk would.
  static void CorruptOneEntry() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((*dir_ + "/index.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* row = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id, data FROM profile_data ORDER BY id LIMIT 1 OFFSET 3", -1, &row, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    ASSERT_EQ(sqlite3_step(row), SQLITE_ROW);
    int64_t id = sqlite3_column_int64(row, 0);
    std::string data(static_cast<const char*>(sqlite3_column_blob(row, 1)), sqlite3_column_bytes(row, 1));
    sqlite3_finalize(row);
    ASSERT_GT(data.size(), 32u);
    for (size_t i = data.size() / 3; i < data.size() / 3 + 16; ++i) data[i] ^= 0x5a;
    sqlite3_stmt* upd = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE profile_data SET data=? WHERE id=?", -1, &upd, nullptr), SQLITE_OK);
    sqlite3_bind_blob(upd, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(upd, 2, id);
    ASSERT_EQ(sqlite3_step(upd), SQLITE_DONE);
    sqlite3_finalize(upd);
    sqlite3_close(db);
  }

  static httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    return c.Get(path, headers);
  }
  static json GetJson(const std::string& path, int expect_status = 200) {
    auto r = Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, expect_status) << path << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    return json::parse(r->body, nullptr, false);
  }

  static std::string* dir_;
  static store::Store* store_;
  static ProfileApi* api_;
  static HttpServer* server_;
  static std::thread* thread_;
};

std::string* ServeApiTest::dir_ = nullptr;
store::Store* ServeApiTest::store_ = nullptr;
ProfileApi* ServeApiTest::api_ = nullptr;
HttpServer* ServeApiTest::server_ = nullptr;
std::thread* ServeApiTest::thread_ = nullptr;

TEST_F(ServeApiTest, ServicesListDeploysInOrder) {
  json s = GetJson("/api/services");
  ASSERT_TRUE(s.is_array());
  ASSERT_EQ(s.size(), 2u);
  json checkout;
  for (const auto& e : s) if (e["service"] == "checkout") checkout = e;
  ASSERT_EQ(checkout["builds"].size(), 2u);
  EXPECT_EQ(checkout["builds"][0]["build_id"], "aaaaaaaaaaaaaaaa1111");
  EXPECT_EQ(checkout["builds"][0]["first_seen"], kT0);
  EXPECT_EQ(checkout["builds"][0]["last_seen"], kT0 + 300);
  EXPECT_EQ(checkout["builds"][1]["build_id"], "bbbbbbbbbbbbbbbb2222");
  EXPECT_EQ(checkout["builds"][1]["first_seen"], kT0 + 300);
  EXPECT_EQ(checkout["builds"][1]["go_version"], "go1.26.8");
}

TEST_F(ServeApiTest, MergedProfileOfABuildSkipsTheCorruptEntry) {
  auto r = Get("/api/profile?service=checkout&build_id=aaaaaaaaaaaaaaaa1111");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  auto p = pprof::ParsePprof({reinterpret_cast<const uint8_t*>(r->body.data()), r->body.size()});
  ASSERT_TRUE(p.ok()) << p.error().message;
  int64_t total = 0;
  for (const auto& s : p->samples) total += s.values[0];
  EXPECT_EQ(total, 29 * 400) << "30 stored profiles of v1, one corrupt and skipped";
  // A time range (RFC 3339 and Unix seconds) and a tag.
  auto ranged = Get("/api/profile?service=checkout&from=2025-12-02T08:00:00Z&to=" + std::to_string(kT0 + 100));
  ASSERT_TRUE(ranged);
  ASSERT_EQ(ranged->status, 200);
  json top = GetJson("/api/top?service=checkout&build_id=bbbbbbbbbbbbbbbb2222&tag=worker=a");
  EXPECT_EQ(top["total"], 15 * 700 * 10000000LL) << "odd profiles of v2 carry worker=a";
  EXPECT_EQ(top["unit"], "nanoseconds");
  EXPECT_EQ(top["functions"][0]["function"], "main.heavy");
}

TEST_F(ServeApiTest, FlameIsAnSvgWithItsOwnCsp) {
  auto r = Get("/api/flame?service=checkout");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(r->body.find("main.heavy"), std::string::npos);
  EXPECT_EQ(r->body.rfind("<?xml", 0), 0u);
  auto narrow = Get("/api/flame?service=checkout&width=640");
  ASSERT_TRUE(narrow);
  EXPECT_NE(narrow->body.find("width=\"640\""), std::string::npos) << "drawn for the frame it goes in";
}

TEST_F(ServeApiTest, TimelineMarksTheDeploy) {
  json t = GetJson("/api/timeline?service=checkout&step=60");
  ASSERT_TRUE(t["points"].is_array());
  EXPECT_EQ(t["points"].size(), 10u);
  ASSERT_EQ(t["deploys"].size(), 2u);
  EXPECT_EQ(t["deploys"][0]["build_id"], "aaaaaaaaaaaaaaaa1111");
  EXPECT_EQ(t["deploys"][1]["build_id"], "bbbbbbbbbbbbbbbb2222");
  EXPECT_EQ(t["deploys"][1]["t"], kT0 + 300);
  // 6 profiles of 400 samples at 10 ms each = 24 CPU seconds per minute for v1.
  EXPECT_NEAR(t["points"][1]["cpu_seconds"].get<double>(), 24.0, 1e-9);
  EXPECT_EQ(t["points"][9]["build_id"], "bbbbbbbbbbbbbbbb2222");
}

// A tag selection counts the samples that carry the tag, not whole profiles:
// worker=a is on the odd profiles, half of each minute's samples.
TEST_F(ServeApiTest, TimelineOfATagCountsItsSamples) {
  json all = GetJson("/api/timeline?service=checkout&step=60");
  json a = GetJson("/api/timeline?service=checkout&step=60&tag=worker%3Da");
  json b = GetJson("/api/timeline?service=checkout&step=60&tag=worker%3Db");
  ASSERT_EQ(a["points"].size(), 10u) << a.dump();
  EXPECT_NEAR(all["points"][1]["samples"].get<double>(), 2400, 1e-9);
  EXPECT_NEAR(a["points"][1]["samples"].get<double>(), 1200, 1e-9);
  EXPECT_NEAR(b["points"][1]["samples"].get<double>(), 1200, 1e-9);
  EXPECT_NEAR(a["points"][1]["cpu_seconds"].get<double>(), 12.0, 1e-9);
  json none = GetJson("/api/timeline?service=checkout&step=60&tag=worker%3Dnobody");
  EXPECT_TRUE(none["points"].empty()) << none.dump();
}

TEST_F(ServeApiTest, DiffFindsTheSlowedFunction) {
  const std::string q = "/api/diff?service=checkout&base_build_id=aaaaaaaaaaaaaaaa1111&build_id=bbbbbbbbbbbbbbbb2222";
  json table = GetJson(q + "&format=json");
  ASSERT_FALSE(table["rows"].empty()) << table.dump();
  EXPECT_EQ(table["rows"][0]["function"], "main.heavy");
  EXPECT_TRUE(table["rows"][0]["significant"].get<bool>());
  EXPECT_GT(table["rows"][0]["delta_points"].get<double>(), 10);
  bool main_noise = false;
  for (const auto& row : table["rows"]) {
    if (row["function"] == "main.main") main_noise = !row["significant"].get<bool>();
  }
  EXPECT_TRUE(main_noise) << "main.main is 100% in both: no change";
  auto svg = Get(q);
  ASSERT_TRUE(svg);
  EXPECT_EQ(svg->status, 200);
  EXPECT_EQ(svg->get_header_value("Content-Type"), "image/svg+xml");
  auto pb = Get(q + "&format=pprof");
  ASSERT_TRUE(pb);
  ASSERT_EQ(pb->status, 200);
  auto diff = pprof::ParsePprof({reinterpret_cast<const uint8_t*>(pb->body.data()), pb->body.size()});
  ASSERT_TRUE(diff.ok());
  // Ranges instead of builds.
  json ranges = GetJson("/api/diff?service=checkout&base_from=" + std::to_string(kT0) + "&base_to=" +
                        std::to_string(kT0 + 300) + "&from=" + std::to_string(kT0 + 300) + "&format=json");
  EXPECT_EQ(ranges["rows"][0]["function"], "main.heavy");
}

TEST_F(ServeApiTest, BadParametersUnknownServicesAndTooLargeSelections) {
  for (const std::string& q :
       {"/api/profile", "/api/profile?service=checkout&from=yesterday", "/api/profile?service=checkout&from=20&to=10",
        "/api/profile?service=checkout&tag=novalue", "/api/profile?service=checkout&bogus=1",
        "/api/timeline?service=checkout&step=0", "/api/timeline?service=checkout&step=-5",
        "/api/timeline?service=checkout&step=1e3", "/api/diff?service=checkout&build_id=x",
        "/api/flame?service=checkout&width=5", "/api/flame?service=checkout&width=wide",
        "/api/diff?service=checkout&base_build_id=a&format=exe", "/api/top?service=checkout&limit=0"}) {
    json e = GetJson(q, 400);
    EXPECT_TRUE(e.contains("error")) << q;
  }
  json missing = GetJson("/api/profile?service=%3Cimg%20src%3Dx%3E", 404);
  EXPECT_EQ(missing["error"], "unknown service \"<img src=x>\"") << "JSON-escaped, served as JSON, not HTML";
  GetJson("/api/profile?service=checkout&build_id=nosuchbuild", 404);
  GetJson("/api/nosuch?service=checkout", 404);

  // A server that merges at most 10 profiles per request.
  ProfileApi small(store_, ApiOptions{.max_profiles = 10});
  ApiResponse r = small.Handle(ApiRequest{"/api/profile", {{"service", "checkout"}}});
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("narrow the time range"), std::string::npos) << r.body;
}

TEST_F(ServeApiTest, NothingOutsideTheStoreAndOnlyGet) {
  for (const std::string& path :
       {"/../../etc/passwd", "/static/../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
        "/static/app.js/../../../../etc/passwd", "/index.db", "/api/../index.db", "/static/%2e%2e%2findex.db",
        "//etc/passwd", "/static/", "/etc/passwd"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << " answered " << r->body.substr(0, 100);
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("SQLite format"), std::string::npos) << path;
  }
  httplib::Client c("127.0.0.1", server_->port());
  auto post = c.Post("/api/services", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto page = Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  auto uplot = Get("/static/uplot.js");
  ASSERT_TRUE(uplot);
  EXPECT_EQ(uplot->status, 200);
  EXPECT_NE(uplot->body.find("uPlot"), std::string::npos) << "the charting library is bundled";
}

TEST_F(ServeApiTest, HundredConcurrentRequestsInBoundedTime) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      const char* paths[] = {"/api/services", "/api/top?service=checkout", "/api/timeline?service=checkout&step=30",
                             "/api/flame?service=checkout&build_id=bbbbbbbbbbbbbbbb2222"};
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(60, 0);
      auto r = c.Get(paths[i % 4]);
      if (r && r->status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s) << "queued behind 8 workers, still answered";
  EXPECT_GT(api_->cache_stats().hits, 0u) << "repeated selections come from the cache";
}

TEST(ServeAuth, TokenRequiredEverywhere) {
  const std::string dir = std::filesystem::temp_directory_path() / ("golens-serve-auth-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = store::Store::Open(dir);
  ASSERT_TRUE(store.ok());
  ProfileApi api(store->get());
  ServerOptions options;
  options.port = 0;
  options.auth_token = "s3cret-token-0123456789";
  auto server = HttpServer::Create(&api, options);
  ASSERT_TRUE(server.ok());
  std::thread t([&] { (*server)->Run(); });
  httplib::Client c("127.0.0.1", (*server)->port());
  auto r = c.Get("/");
  for (int i = 0; i < 100 && !r; ++i) {
    std::this_thread::sleep_for(20ms);
    r = c.Get("/");
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(c.Get("/api/services")->status, 401);
  EXPECT_EQ(c.Get("/api/services", {{"Authorization", "Bearer wrong-token-0123456789"}})->status, 401);
  EXPECT_EQ(c.Get("/api/services", {{"Authorization", "Bearer s3cret-token-0123456789"}})->status, 200);
  auto with_query = c.Get("/?token=s3cret-token-0123456789");
  EXPECT_EQ(with_query->status, 200);
  EXPECT_NE(with_query->get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);
  EXPECT_EQ(c.Get("/api/services", {{"Cookie", "golens_token=s3cret-token-0123456789"}})->status, 200);
  (*server)->Stop();
  t.join();
  std::filesystem::remove_all(dir);
}

TEST(Regression, NoiseIsNotARegression) {
  double z = 0;
  // 3 -> 6 of 1,000 samples: noise.
  EXPECT_GT(TwoProportionPValue(3, 1000, 6, 1000, &z), 0.1);
  // 20% -> 30% of 5,000: not noise.
  EXPECT_LT(TwoProportionPValue(1000, 5000, 1500, 5000, &z), 1e-10);
  EXPECT_GT(z, 10);
  EXPECT_EQ(TwoProportionPValue(0, 100, 0, 100), 1);
  EXPECT_EQ(TwoProportionPValue(5, 0, 5, 10), 1);
}

}  // namespace
}  // namespace golens::web
