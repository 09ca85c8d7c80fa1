// kill -9 at random points while a child process writes: afterwards the
// store opens, every visible profile loads, counts agree everywhere, and
// every Put the child saw succeed is there (at most the one in flight is lost
// or, committed but not yet acknowledged, extra). Root-free.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

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
constexpr int64_t kT0 = 1'780'000'000 * kSec;

// The child: Puts forever (3 services; a new build every round so
// dictionaries get trained mid-run; retention now and then), writing each
// acknowledged id to `fd`.
[[noreturn]] void WriterChild(const std::string& dir, int fd, int round) {
  auto store = Store::Open(dir);
  if (!store.ok()) _exit(2);
  std::vector<ServiceProfiles> services;
  for (int s = 0; s < 3; ++s) services.emplace_back("svc" + std::to_string(s), static_cast<uint64_t>(round * 10 + s));
  for (int64_t i = 0;; ++i) {
    const ServiceProfiles& svc = services[static_cast<size_t>(i % 3)];
    IntervalOptions o;
    o.start_ns = kT0 + (round * 100000 + i) * 10 * kSec;
    o.seed = static_cast<uint64_t>(round * 1000003 + i);
    o.goroutine_labels = i % 5 == 0;
    auto id = (*store)->Put(MetaFor(svc, o.start_ns, 10 * kSec, 100 + round), svc.Interval(o));
    if (!id.ok()) _exit(3);
    if (::write(fd, &*id, sizeof(int64_t)) != sizeof(int64_t)) _exit(4);
    if (i % 40 == 39 && !(*store)->DeleteEndedBefore(kT0 + (round * 100000 + i - 20) * 10 * kSec).ok()) _exit(5);
  }
}

TEST(StoreCrash, KillNineAtRandomPointsLeavesNoTornProfile) {
  TempDir dir;
  std::mt19937 rng(12345);
  std::set<int64_t> acknowledged;
  int64_t deleted_possible = 0;
  for (int round = 0; round < 10; ++round) {
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(pipefd[0]);
      WriterChild(dir.path(), pipefd[1], round);
    }
    ::close(pipefd[1]);
    // The first Put of a fresh store opens and creates it: give it a moment
    // in some rounds, kill it almost at once in others.
    std::this_thread::sleep_for(std::chrono::milliseconds(round == 0 ? 300 : 20 + rng() % 400));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with status " << WEXITSTATUS(status)
                                     << " (2 open, 3 put, 4 pipe, 5 delete failed)";
    int64_t id;
    std::vector<int64_t> round_ids;
    while (::read(pipefd[0], &id, sizeof id) == sizeof id) round_ids.push_back(id);
    ::close(pipefd[0]);
    acknowledged.insert(round_ids.begin(), round_ids.end());
    deleted_possible += static_cast<int64_t>(round_ids.size());

    auto store = Store::Open(dir.path());
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.error().message;
    auto metas = (*store)->Select({});
    ASSERT_TRUE(metas.ok()) << metas.error().message;
    std::set<int64_t> visible;
    int64_t samples = 0;
    for (const ProfileMeta& m : *metas) {
      auto p = (*store)->Load(m.id);
      ASSERT_TRUE(p.ok()) << "round " << round << " profile " << m.id << ": " << p.error().message;
      EXPECT_EQ(Total(*p), m.samples) << "profile " << m.id;
      visible.insert(m.id);
      samples += m.samples;
    }
    // Acknowledged and not deleted by retention (which only removes the
    // oldest of the same round) -> visible. Everything of this round newer
    // than the retention cut must be there, and at most one unacknowledged.
    int64_t unacknowledged = 0;
    for (int64_t v : visible) unacknowledged += !acknowledged.count(v);
    EXPECT_LE(unacknowledged, 1) << "round " << round;
    if (!round_ids.empty()) EXPECT_TRUE(visible.count(round_ids.back())) << "the last acknowledged Put is gone";
    // Counts agree: merge, services, selection.
    auto merged = (*store)->Merge({});
    ASSERT_TRUE(merged.ok()) << merged.error().message;
    EXPECT_EQ(merged->profiles, static_cast<int64_t>(visible.size()));
    EXPECT_EQ(merged->skipped_corrupt, 0);
    EXPECT_EQ(Total(merged->profile), samples);
    auto services = (*store)->ListServices();
    ASSERT_TRUE(services.ok());
    int64_t listed = 0, listed_samples = 0;
    for (const ServiceInfo& s : *services) {
      for (const BuildInfo& b : s.builds) {
        listed += b.profiles;
        listed_samples += b.samples;
      }
    }
    EXPECT_EQ(listed, static_cast<int64_t>(visible.size())) << "round " << round;
    EXPECT_EQ(listed_samples, samples) << "round " << round;
    std::cerr << "round " << round << ": " << round_ids.size() << " puts acknowledged, " << visible.size()
              << " visible\n";
  }
  EXPECT_GT(acknowledged.size(), 30u) << "the writer hardly ran: the test tested little";
  (void)deleted_possible;
}

}  // namespace
}  // namespace golens::store
