// Store unit tests: round trips, dictionaries, selection, labels, merge,
// retention, corrupt entries and foreign index files. Root-free, real SQLite.
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "pprof/profile_io.h"
#include "pprof/store/stable_ids.h"
#include "pprof/store/store.h"
#include "tests/store/store_test_util.h"

namespace golens::store {
namespace {

using testing::IntervalOptions;
using testing::MetaFor;
using testing::ServiceProfiles;
using testing::TempDir;
using testing::Total;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'780'000'000 * kSec;  // a 2026 wall-clock time

std::string Bytes(const pprof::Profile& p) {
  auto b = pprof::SerializePprof(p, false);
  return b.ok() ? *b : "error: " + b.error().message;
}

std::unique_ptr<Store> OpenOrDie(const std::string& dir, StoreOptions options = {}) {
  auto s = Store::Open(dir, options);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(*s) : nullptr;
}

// Puts `n` consecutive 10 s intervals of `svc` from `start`; returns their ids.
std::vector<int64_t> PutIntervals(Store& store, const ServiceProfiles& svc, int64_t start, int n,
                                  std::vector<PutStats>* stats = nullptr, bool labels = true) {
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) {
    IntervalOptions o;
    o.start_ns = start + i * 10 * kSec;
    o.seed = static_cast<uint64_t>(start / kSec + i);
    o.labels = labels;
    PutStats st;
    auto id = store.Put(MetaFor(svc, o.start_ns), svc.Interval(o), &st);
    EXPECT_TRUE(id.ok()) << id.error().message;
    if (id.ok()) ids.push_back(*id);
    if (stats) stats->push_back(st);
  }
  return ids;
}

// Overwrites `count` bytes in the middle of a stored BLOB, as bit rot would.
void FlipBlobBytes(const std::string& dir, const char* table, int64_t rowid, int count = 8) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/index.db").c_str(), &db), SQLITE_OK);
  sqlite3_blob* blob = nullptr;
  ASSERT_EQ(sqlite3_blob_open(db, "main", table, "data", rowid, 1, &blob), SQLITE_OK) << sqlite3_errmsg(db);
  int size = sqlite3_blob_bytes(blob);
  ASSERT_GT(size, 2 * count);
  std::string bytes(static_cast<size_t>(count), '\0');
  ASSERT_EQ(sqlite3_blob_read(blob, bytes.data(), count, size / 2), SQLITE_OK);
  for (char& c : bytes) c = static_cast<char>(~c);
  ASSERT_EQ(sqlite3_blob_write(blob, bytes.data(), count, size / 2), SQLITE_OK);
  sqlite3_blob_close(blob);
  sqlite3_close(db);
}

TEST(Store, PutLoadRoundTripAndMeta) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store);
  ServiceProfiles svc("checkout", 1);
  IntervalOptions o;
  o.start_ns = kT0;
  pprof::Profile p = svc.Interval(o);
  ProfileMeta meta = MetaFor(svc, kT0, 10 * kSec, 4242);
  meta.container_id = "0123abcd";
  PutStats stats;
  auto id = store->Put(meta, p, &stats);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_GT(stats.raw_bytes, 0);
  EXPECT_GT(stats.stored_bytes, 0);
  EXPECT_LT(stats.stored_bytes, stats.raw_bytes);
  EXPECT_FALSE(stats.used_dictionary);

  auto loaded = store->Load(*id);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  // Stored with content-derived ids (pprof/store/stable_ids.h), otherwise the same.
  auto stable = WithStableIds(p);
  ASSERT_TRUE(stable.ok());
  EXPECT_EQ(Bytes(*loaded), Bytes(*stable));
  EXPECT_EQ(Total(*loaded), Total(p));
  EXPECT_EQ(loaded->samples.size(), p.samples.size());
  EXPECT_EQ(loaded->functions.size(), p.functions.size());
  EXPECT_EQ(loaded->time_nanos, p.time_nanos);
  EXPECT_EQ(loaded->comments, p.comments);

  auto metas = store->Select({});
  ASSERT_TRUE(metas.ok());
  ASSERT_EQ(metas->size(), 1u);
  const ProfileMeta& m = (*metas)[0];
  EXPECT_EQ(m.id, *id);
  EXPECT_EQ(m.service, "checkout");
  EXPECT_EQ(m.build_id, svc.build_id());
  EXPECT_EQ(m.go_version, "go1.26.8");
  EXPECT_EQ(m.exe_path, "/usr/local/bin/checkout");
  EXPECT_EQ(m.host, "host-a");
  EXPECT_EQ(m.container_id, "0123abcd");
  EXPECT_EQ(m.pid, 4242);
  EXPECT_EQ(m.start_ns, kT0);
  EXPECT_EQ(m.end_ns, kT0 + 10 * kSec);
  EXPECT_EQ(m.samples, 190);
  EXPECT_EQ(m.stored_bytes, stats.stored_bytes);

  auto missing = store->Load(*id + 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(ErrorKind::kNotFound)) << missing.error().message;
}

TEST(Store, RejectsBadMeta) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles svc("a", 1);
  ProfileMeta meta = MetaFor(svc, kT0);
  meta.service = "";
  auto r = store->Put(meta, svc.Interval({}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kInvalidArgument));
  meta = MetaFor(svc, kT0);
  meta.end_ns = meta.start_ns - 1;
  r = store->Put(meta, svc.Interval({}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kInvalidArgument));
}

TEST(Store, DictionaryAfterFirstProfilesOfABuild) {
  TempDir dir;
  ServiceProfiles svc("checkout", 7);
  std::vector<PutStats> stats;
  std::vector<int64_t> ids;
  {
    auto store = OpenOrDie(dir.path());
    ids = PutIntervals(*store, svc, kT0, 12, &stats);
  }
  ASSERT_EQ(stats.size(), 12u);
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(stats[i].used_dictionary) << i;
  for (int i = 8; i < 12; ++i) EXPECT_TRUE(stats[i].used_dictionary) << i;
  int64_t before = 0, after = 0;
  for (int i = 0; i < 4; ++i) before += stats[i].stored_bytes;
  for (int i = 8; i < 12; ++i) after += stats[i].stored_bytes;
  EXPECT_LT(after * 2, before) << "a per-build dictionary should at least halve the bytes";

  // A new process (fresh caches) reads both kinds and keeps using the dictionary.
  auto store = OpenOrDie(dir.path());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto p = store->Load(ids[i]);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(Total(*p), 190);
  }
  std::vector<PutStats> more;
  PutIntervals(*store, svc, kT0 + 1000 * kSec, 1, &more);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_TRUE(more[0].used_dictionary);

  // Dictionaries off: never used.
  TempDir plain_dir;
  StoreOptions off;
  off.dictionary_after_profiles = 0;
  auto plain = OpenOrDie(plain_dir.path(), off);
  std::vector<PutStats> plain_stats;
  PutIntervals(*plain, svc, kT0, 10, &plain_stats);
  for (const PutStats& s : plain_stats) EXPECT_FALSE(s.used_dictionary);
}

TEST(Store, ListServicesAndSelect) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles a1("api", 1), a2("api", 2), b("billing", 3);
  PutIntervals(*store, a1, kT0, 6);
  PutIntervals(*store, a2, kT0 + 60 * kSec, 3);
  PutIntervals(*store, b, kT0 + 30 * kSec, 4);

  auto services = store->ListServices();
  ASSERT_TRUE(services.ok()) << services.error().message;
  ASSERT_EQ(services->size(), 2u);
  const ServiceInfo& api = (*services)[0];
  EXPECT_EQ(api.service, "api");
  ASSERT_EQ(api.builds.size(), 2u);
  EXPECT_EQ(api.builds[0].build_id, a1.build_id());
  EXPECT_EQ(api.builds[0].profiles, 6);
  EXPECT_EQ(api.builds[0].samples, 6 * 190);
  EXPECT_EQ(api.builds[0].first_seen_ns, kT0);
  EXPECT_EQ(api.builds[0].last_seen_ns, kT0 + 60 * kSec);
  EXPECT_EQ(api.builds[0].go_version, "go1.26.8");
  EXPECT_EQ(api.builds[1].build_id, a2.build_id());
  EXPECT_EQ(api.builds[1].first_seen_ns, kT0 + 60 * kSec);
  EXPECT_EQ((*services)[1].service, "billing");
  EXPECT_EQ((*services)[1].builds.at(0).profiles, 4);

  Selection sel;
  sel.service = "api";
  EXPECT_EQ(store->Select(sel)->size(), 9u);
  sel.build_id = a2.build_id();
  EXPECT_EQ(store->Select(sel)->size(), 3u);
  sel = {};
  sel.service = "api";
  // [t0+15s, t0+35s) overlaps the intervals starting at 10, 20 and 30 s.
  sel.from_ns = kT0 + 15 * kSec;
  sel.to_ns = kT0 + 35 * kSec;
  auto window = store->Select(sel);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->size(), 3u);
  EXPECT_EQ((*window)[0].start_ns, kT0 + 10 * kSec);
  EXPECT_EQ((*window)[2].start_ns, kT0 + 30 * kSec);
  // No service: both services in the window, ordered by start.
  sel.service = "";
  auto all = store->Select(sel);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);  // api at 10, 20, 30 s; billing at 30 s
  for (size_t i = 1; i < all->size(); ++i) EXPECT_LE((*all)[i - 1].start_ns, (*all)[i].start_ns);
  // limit = the newest, still ordered by start.
  sel = {};
  sel.service = "api";
  sel.limit = 2;
  auto newest = store->Select(sel);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].start_ns, kT0 + 70 * kSec);
  EXPECT_EQ((*newest)[1].start_ns, kT0 + 80 * kSec);
  sel = {};
  sel.service = "nope";
  EXPECT_TRUE(store->Select(sel)->empty());
}

TEST(Store, LabelPreselectionAndValues) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles svc("api", 1);
  // Labelled profiles (worker on some stacks, goroutine on all), then one
  // profile without any label.
  std::vector<pprof::Profile> labelled;
  int64_t with_alpha = 0, alpha_total = 0;
  for (int i = 0; i < 6; ++i) {
    IntervalOptions o;
    o.start_ns = kT0 + i * 10 * kSec;
    o.seed = 100 + static_cast<uint64_t>(i);
    o.goroutine_labels = true;
    o.samples = 600;  // > 256 distinct goroutines: more than the index lists
    pprof::Profile p = svc.Interval(o);
    bool has = false;
    for (const pprof::Sample& s : p.samples) {
      if (pprof::SampleMatches(s, {{"worker", "alpha"}})) {
        has = true;
        alpha_total += s.values[0];
      }
    }
    with_alpha += has;
    ASSERT_TRUE(store->Put(MetaFor(svc, o.start_ns), p).ok());
  }
  ASSERT_GT(with_alpha, 0);
  PutIntervals(*store, svc, kT0 + 100 * kSec, 1, nullptr, /*labels=*/false);

  Selection sel;
  sel.service = "api";
  sel.tags = {{"worker", "alpha"}};
  auto with = store->Select(sel);
  ASSERT_TRUE(with.ok()) << with.error().message;
  EXPECT_EQ(static_cast<int64_t>(with->size()), with_alpha);
  sel.tags = {{"worker", "alpha"}, {"worker", "beta"}, {"worker", "gamma"}, {"worker", "delta"}};
  EXPECT_EQ(store->Select(sel)->size(), 6u) << "the unlabelled profile is not pre-selected";
  sel.tags = {{"worker", "nobody"}};
  EXPECT_TRUE(store->Select(sel)->empty());
  // goroutine has too many values to list per profile -> wildcard: kept.
  sel.tags = {{"goroutine", "17"}};
  EXPECT_EQ(store->Select(sel)->size(), 6u);

  auto merged = store->Merge(Selection{.service = "api", .tags = {{"worker", "alpha"}}});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->profiles, with_alpha);
  EXPECT_EQ(Total(merged->profile), alpha_total);
  for (const pprof::Sample& s : merged->profile.samples) EXPECT_TRUE(pprof::SampleMatches(s, {{"worker", "alpha"}}));

  auto values = store->LabelValues(Selection{.service = "api"});
  ASSERT_TRUE(values.ok()) << values.error().message;
  std::map<std::string, std::vector<std::string>> by_key(values->begin(), values->end());
  ASSERT_TRUE(by_key.count("worker"));
  auto& workers = by_key["worker"];
  std::sort(workers.begin(), workers.end());
  EXPECT_EQ(workers, (std::vector<std::string>{"alpha", "beta", "delta", "gamma"}));
  EXPECT_TRUE(by_key.count("goroutine")) << "a wildcard key is still listed";
  auto one = store->LabelValues(Selection{.service = "api"}, 1);
  ASSERT_TRUE(one.ok());
  for (const auto& [key, vals] : *one) EXPECT_LE(vals.size(), 1u) << key;
}

TEST(Store, MergeSumsAndSpans) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles svc("api", 1), other("db", 2);
  PutIntervals(*store, svc, kT0, 36);
  PutIntervals(*store, other, kT0, 5);
  auto merged = store->Merge(Selection{.service = "api"});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->profiles, 36);
  EXPECT_EQ(merged->skipped_corrupt, 0);
  EXPECT_EQ(Total(merged->profile), 36 * 190);
  EXPECT_EQ(merged->profile.time_nanos, kT0);
  EXPECT_EQ(merged->profile.duration_nanos, 360 * kSec);
  EXPECT_EQ(merged->profile.sample_types.size(), 2u);
  // Fewer distinct stacks than samples: equal stacks were summed.
  EXPECT_LT(merged->profile.samples.size(), static_cast<size_t>(36 * 190));
  // The merge is itself a valid pprof.
  auto bytes = pprof::SerializePprof(merged->profile, true);
  ASSERT_TRUE(bytes.ok());
  auto back = pprof::ParsePprof(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
  ASSERT_TRUE(back.ok()) << back.error().message;

  auto none = store->Merge(Selection{.service = "nothing"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->profiles, 0);
  EXPECT_TRUE(none->profile.samples.empty());
}

TEST(Store, CorruptEntrySkippedByMergeAndReportedByLoad) {
  TempDir dir;
  ServiceProfiles svc("api", 1);
  std::vector<int64_t> ids;
  {
    auto store = OpenOrDie(dir.path());
    ids = PutIntervals(*store, svc, kT0, 12);  // 8 plain, then with a dictionary
  }
  FlipBlobBytes(dir.path(), "profile_data", ids[2]);   // a plain entry
  FlipBlobBytes(dir.path(), "profile_data", ids[10]);  // a dictionary entry
  auto store = OpenOrDie(dir.path());
  for (int64_t bad : {ids[2], ids[10]}) {
    auto r = store->Load(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;
  }
  auto merged = store->Merge(Selection{.service = "api"});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->profiles, 10);
  EXPECT_EQ(merged->skipped_corrupt, 2);
  EXPECT_EQ(Total(merged->profile), 10 * 190);

  // A damaged dictionary: every entry using it is corrupt, the others load.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() + "/index.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE dictionaries SET data = x'00010203'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto fresh = OpenOrDie(dir.path());
  auto merged2 = fresh->Merge(Selection{.service = "api"});
  ASSERT_TRUE(merged2.ok()) << merged2.error().message;
  EXPECT_EQ(merged2->profiles, 7);
  EXPECT_EQ(merged2->skipped_corrupt, 5);
  auto r = fresh->Load(ids[9]);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;
}

TEST(Store, ForeignOrCorruptIndexIsAClearError) {
  TempDir dir;
  {
    std::ofstream(dir.path() + "/index.db") << std::string(8192, 'x');
  }
  auto r = Store::Open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;
  EXPECT_NE(r.error().message.find("not a golens store"), std::string::npos) << r.error().message;

  TempDir other;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((other.path() + "/index.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  r = Store::Open(other.path());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;
  EXPECT_NE(r.error().message.find("not a golens store"), std::string::npos) << r.error().message;

  // A store whose header page was overwritten.
  TempDir damaged;
  {
    auto s = OpenOrDie(damaged.path());
    ServiceProfiles svc("api", 1);
    PutIntervals(*s, svc, kT0, 2);
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((damaged.path() + "/index.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    std::fstream f(damaged.path() + "/index.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "garbage garbage garbage!";
  }
  r = Store::Open(damaged.path());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;

  // Read-only on a missing store: not found, nothing created.
  TempDir empty;
  StoreOptions ro;
  ro.read_only = true;
  r = Store::Open(empty.path() + "/none", ro);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorKind::kNotFound)) << r.error().message;
}

TEST(Store, ReadOnlyReadsButDoesNotWrite) {
  TempDir dir;
  ServiceProfiles svc("api", 1);
  {
    auto s = OpenOrDie(dir.path());
    PutIntervals(*s, svc, kT0, 3);
  }
  StoreOptions ro;
  ro.read_only = true;
  auto s = OpenOrDie(dir.path(), ro);
  ASSERT_TRUE(s);
  auto merged = s->Merge({});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->profiles, 3);
  auto put = s->Put(MetaFor(svc, kT0), svc.Interval({}));
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.error().Is(ErrorKind::kPermissionDenied));
}

int64_t FileBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(Store, RetentionDeletesAndTheFileDoesNotGrowForever) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles svc("api", 1), other("db", 2);
  auto g0 = store->Generation();
  ASSERT_TRUE(g0.ok());
  PutIntervals(*store, svc, kT0, 60);
  PutIntervals(*store, other, kT0 + 300 * kSec, 30);
  auto g1 = store->Generation();
  EXPECT_NE(*g0, *g1);

  // api: [0, 600) s in 10 s steps; db: [300, 600) s. Ended by 450 s: 45 + 15.
  auto deleted = store->DeleteEndedBefore(kT0 + 450 * kSec + 1);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(*deleted, 60);
  auto services = store->ListServices();
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), 2u);
  for (const ServiceInfo& info : *services) {
    EXPECT_EQ(info.builds.at(0).profiles, 15) << info.service;
    EXPECT_EQ(info.builds.at(0).first_seen_ns, kT0 + 450 * kSec) << info.service;
    EXPECT_EQ(info.builds.at(0).samples, 15 * 190) << info.service;
  }
  EXPECT_EQ(store->Select({})->size(), 30u);
  EXPECT_EQ(*store->DeleteEndedBefore(kT0 + 1000 * kSec), 30);
  EXPECT_TRUE(store->ListServices()->empty());
  EXPECT_NE(*store->Generation(), *g1);
  EXPECT_EQ(*store->DeleteEndedBefore(kT0), 0);

  // Cycles of put + delete: the file levels off instead of growing.
  std::vector<int64_t> sizes;
  for (int cycle = 0; cycle < 4; ++cycle) {
    int64_t start = kT0 + (10000 + cycle * 1000) * kSec;
    PutIntervals(*store, svc, start, 60);
    ASSERT_TRUE(store->DeleteEndedBefore(start + 600 * kSec + 1).ok());
    sizes.push_back(FileBytes(dir.path() + "/index.db") + FileBytes(dir.path() + "/index.db-wal"));
  }
  EXPECT_LE(sizes[3], sizes[1] + sizes[1] / 4) << sizes[1] << " -> " << sizes[3];
  auto left = store->Select({});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 0u);
  auto labels = store->LabelValues({});
  ASSERT_TRUE(labels.ok());
  EXPECT_TRUE(labels->empty());
}

TEST(Store, ConcurrentPutAndMerge) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ServiceProfiles svc("api", 1);
  PutIntervals(*store, svc, kT0, 5);
  std::thread writer([&] { PutIntervals(*store, svc, kT0 + 1000 * kSec, 30); });
  // A second process-like handle on the same directory reads meanwhile.
  auto reader = OpenOrDie(dir.path());
  int64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    auto m = reader->Merge(Selection{.service = "api"});
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_GE(m->profiles, last);
    EXPECT_EQ(Total(m->profile), m->profiles * 190) << "a profile was visible in part";
    last = m->profiles;
  }
  writer.join();
  EXPECT_EQ(store->Merge({})->profiles, 35);
}

}  // namespace
}  // namespace golens::store
