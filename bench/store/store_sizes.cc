// Bytes per stored profile beside the same profile as gzip'd pprof (what
// `golens record` writes), for generated profiles of a Go service and for
// real `golens record` profiles given on the command line (consecutive
// intervals of one process, in order; record_real.sh makes them).
//
//   store_sizes [--profiles 360] [REAL.pb.gz ...]
//
// Columns (mean bytes per profile, over the profiles after the first 8 of
// the build, i.e. with the dictionary in use):
//   pprof      raw profile.proto as our builder writes it
//   gzip       the same, gzip level 1 (Go's runtime/pprof and golens record)
//   zstd       the same, zstd -3 alone, builder ids
//   +ids       zstd -3 after WithStableIds (store without dictionary)
//   store      what Put stores: stable ids + per-build dictionary
//   disk       index.db after a checkpoint / profiles: everything (index
//              rows, label index, dictionary, SQLite pages), all profiles
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "pprof/gzip.h"
#include "pprof/profile_io.h"
#include "pprof/store/blob_codec.h"
#include "pprof/store/store.h"
#include "tests/store/service_profiles.h"

namespace golens::bench {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = int64_t{1'780'000'000} * kSec;
constexpr size_t kWarm = 8;  // StoreOptions::dictionary_after_profiles

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int64_t DiskBytes(const std::string& dir) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/index.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  struct stat st;
  return ::stat((dir + "/index.db").c_str(), &st) == 0 ? st.st_size : -1;
}

// Puts `profiles` into a fresh store; mean stored bytes of those after the
// first kWarm, and disk bytes per profile.
std::pair<double, double> StoreBytes(const std::vector<pprof::Profile>& profiles, bool dictionary) {
  std::string dir = std::filesystem::temp_directory_path() / "golens-store-sizes-XXXXXX";
  if (!::mkdtemp(dir.data())) return {-1, -1};
  store::StoreOptions options;
  if (!dictionary) options.dictionary_after_profiles = 0;
  double stored = 0, n = 0;
  {
    auto s = store::Store::Open(dir, options);
    if (!s.ok()) return {-1, -1};
    for (size_t i = 0; i < profiles.size(); ++i) {
      store::ProfileMeta meta;
      meta.service = "svc";
      meta.build_id = "0123456789abcdef0123456789abcdef01234567";
      meta.go_version = "go1.26.8";
      meta.exe_path = "/usr/local/bin/svc";
      meta.host = "host";
      meta.pid = 1234;
      meta.start_ns = kT0 + static_cast<int64_t>(i) * 10 * kSec;
      meta.end_ns = meta.start_ns + 10 * kSec;
      store::PutStats stats;
      auto id = (*s)->Put(meta, profiles[i], &stats);
      if (!id.ok()) {
        std::fprintf(stderr, "put: %s\n", id.error().message.c_str());
        return {-1, -1};
      }
      if (i >= kWarm || profiles.size() <= kWarm) {
        stored += static_cast<double>(stats.stored_bytes);
        ++n;
      }
    }
  }
  double disk = static_cast<double>(DiskBytes(dir)) / static_cast<double>(profiles.size());
  std::filesystem::remove_all(dir);
  return {stored / n, disk};
}

void Row(const char* name, const std::vector<pprof::Profile>& profiles) {
  double raw = 0, gz = 0, zstd = 0, samples = 0, n = 0;
  for (size_t i = kWarm < profiles.size() ? kWarm : 0; i < profiles.size(); ++i) {
    std::string r = *pprof::SerializePprof(profiles[i], false);
    raw += static_cast<double>(r.size());
    gz += static_cast<double>(pprof::GzipCompress(Bytes(r), 1)->size());
    zstd += static_cast<double>(store::CompressBlob(Bytes(r), 3, nullptr)->size());
    for (const auto& s : profiles[i].samples) samples += static_cast<double>(s.values.at(0));
    ++n;
  }
  auto [plain, plain_disk] = StoreBytes(profiles, false);
  auto [dict, disk] = StoreBytes(profiles, true);
  (void)plain_disk;
  std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | **%.0f** | %.0f | %.1fx |\n", name, profiles.size(),
              samples / n, raw / n, gz / n, zstd / n, plain, dict, disk, (gz / n) / disk);
}

}  // namespace
}  // namespace golens::bench

int main(int argc, char** argv) {
  using namespace golens;
  int count = 360;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--profiles") && i + 1 < argc) {
      count = std::atoi(argv[++i]);
    } else {
      files.push_back(argv[i]);
    }
  }
  std::printf("| profiles | n | samples | pprof | gzip | zstd | +ids | store | disk | gzip/disk |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  {
    store::testing::ServiceProfiles svc("checkout", 11);
    std::vector<pprof::Profile> ps;
    for (int i = 0; i < count; ++i) {
      store::testing::IntervalOptions o;
      o.start_ns = bench::kT0 + i * 10 * bench::kSec;
      o.seed = static_cast<uint64_t>(i + 1);
      ps.push_back(svc.Interval(o));
    }
    bench::Row("generated, 19 Hz x 10 s, 1 busy CPU", ps);
  }
  {
    store::testing::ServiceProfiles svc("search", 12, 1500, 3000);
    std::vector<pprof::Profile> ps;
    for (int i = 0; i < count; ++i) {
      store::testing::IntervalOptions o;
      o.start_ns = bench::kT0 + i * 10 * bench::kSec;
      o.seed = static_cast<uint64_t>(i + 1);
      o.samples = 1900;
      ps.push_back(svc.Interval(o));
    }
    bench::Row("generated, 19 Hz x 10 s, 10 busy CPUs, bigger code", ps);
  }
  if (!files.empty()) {
    std::vector<pprof::Profile> ps;
    for (const std::string& f : files) {
      auto p = pprof::ReadProfileFile(f);
      if (!p.ok()) {
        std::fprintf(stderr, "%s: %s\n", f.c_str(), p.error().message.c_str());
        return 1;
      }
      ps.push_back(std::move(*p));
    }
    bench::Row("real: golens record, 19 Hz x 10 s", ps);
  }
  return 0;
}
