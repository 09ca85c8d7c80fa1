// A full disk: Put fails with kResourceExhausted, nothing torn, the store
// stays usable, and Put works again once space returns. Root: a private
// mount namespace with a tiny tmpfs as the store's file system.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "pprof/store/store.h"
#include "tests/store/store_test_util.h"

namespace golens::store {
namespace {

using testing::IntervalOptions;
using testing::MetaFor;
using testing::ServiceProfiles;
using testing::Total;

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'780'000'000 * kSec;

void ExpectConsistent(Store& store, int64_t expected_profiles) {
  auto metas = store.Select({});
  ASSERT_TRUE(metas.ok()) << metas.error().message;
  EXPECT_EQ(static_cast<int64_t>(metas->size()), expected_profiles);
  int64_t samples = 0;
  for (const ProfileMeta& m : *metas) {
    auto p = store.Load(m.id);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(Total(*p), m.samples);
    samples += m.samples;
  }
  auto merged = store.Merge({});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->profiles, expected_profiles);
  EXPECT_EQ(merged->skipped_corrupt, 0);
  EXPECT_EQ(Total(merged->profile), samples);
}

TEST(StoreFullDisk, PutFailsCleanlyAndResumesWhenSpaceReturns) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root (mount namespace + tmpfs); run via make test as root";
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  char tmpl[] = "/tmp/golens-store-fulldisk-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string mnt = tmpl;
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m"), 0) << "mount tmpfs: " << std::strerror(errno);
  const std::string ballast = mnt + "/ballast";
  {
    std::ofstream(ballast) << std::string(512 * 1024, 'b');
  }

  auto opened = Store::Open(mnt + "/store");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = **opened;
  std::vector<ServiceProfiles> services;
  for (int s = 0; s < 4; ++s) services.emplace_back("svc" + std::to_string(s), static_cast<uint64_t>(s + 1));
  int64_t stored = 0, i = 0;
  Error failure;
  bool failed = false;
  for (; i < 5000 && !failed; ++i) {
    const ServiceProfiles& svc = services[static_cast<size_t>(i % 4)];
    IntervalOptions o;
    o.start_ns = kT0 + i * 10 * kSec;
    o.seed = static_cast<uint64_t>(i + 1);
    o.samples = 400;
    auto id = store.Put(MetaFor(svc, o.start_ns), svc.Interval(o));
    if (id.ok()) {
      ++stored;
    } else {
      failed = true;
      failure = id.error();
    }
  }
  ASSERT_TRUE(failed) << "2 MiB never filled up after " << stored << " profiles";
  EXPECT_TRUE(failure.Is(ErrorKind::kResourceExhausted)) << failure.message;
  EXPECT_NE(failure.message.find("full"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find(mnt), std::string::npos) << "the error names the store: " << failure.message;
  std::cerr << stored << " profiles stored, then: " << failure.message << "\n";
  ASSERT_GT(stored, 5);

  // Still full: fails again the same way; nothing torn either time.
  const ServiceProfiles& svc = services[0];
  IntervalOptions o;
  o.start_ns = kT0 + 999'999 * kSec;
  o.samples = 400;
  auto again = store.Put(MetaFor(svc, o.start_ns), svc.Interval(o));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().Is(ErrorKind::kResourceExhausted)) << again.error().message;
  ExpectConsistent(store, stored);

  // Space returns: Put works, and a fresh handle sees everything.
  ASSERT_EQ(::unlink(ballast.c_str()), 0);
  auto later = store.Put(MetaFor(svc, o.start_ns), svc.Interval(o));
  ASSERT_TRUE(later.ok()) << later.error().message;
  ExpectConsistent(store, stored + 1);
  auto reopened = Store::Open(mnt + "/store");
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  ExpectConsistent(**reopened, stored + 1);
  // Retention frees space for more.
  auto deleted = (*reopened)->DeleteEndedBefore(kT0 + (stored / 2) * 10 * kSec);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_GT(*deleted, 0);

  opened = Error{};
  reopened = Error{};
  ::umount2(mnt.c_str(), MNT_DETACH);
  ::rmdir(mnt.c_str());
}

}  // namespace
}  // namespace golens::store
