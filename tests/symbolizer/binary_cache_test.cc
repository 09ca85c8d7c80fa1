#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::Fixture;

TEST(BinaryCache, CountsHitsMissesAndEvictions) {
  BinaryCache cache(2);
  auto a1 = cache.GetForPath(Fixture("local_plain.stripped"));
  ASSERT_TRUE(a1.ok()) << a1.error().message;
  auto a2 = cache.GetForPath(Fixture("local_plain.stripped"));
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a1->get(), a2->get());  // parsed once
  auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);

  ASSERT_TRUE(cache.GetForPath(Fixture("1_23_12_plain.stripped")).ok());
  ASSERT_TRUE(cache.GetForPath(Fixture("1_21_13_plain.stripped")).ok());  // evicts local_plain
  s = cache.stats();
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.entries, 2u);
  // Evicted: parsed again; the holder's pointer stayed valid meanwhile.
  EXPECT_EQ((*a1)->go_version(), GOLENS_SYM_LOCAL_GO_VERSION);
  ASSERT_TRUE(cache.GetForPath(Fixture("local_plain.stripped")).ok());
  EXPECT_EQ(cache.stats().misses, 4u);
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(BinaryCache, SameBuildIdThroughAnotherFileSharesOneBinary) {
  namespace fs = std::filesystem;
  fs::path copy = fs::temp_directory_path() / ("golens_cache_copy_" + std::to_string(getpid()));
  fs::copy_file(Fixture("local_cgo"), copy, fs::copy_options::overwrite_existing);
  BinaryCache cache;
  auto a = cache.GetForPath(Fixture("local_cgo"));
  auto b = cache.GetForPath(copy.string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().misses, 2u);
  auto again = cache.GetForPath(copy.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(cache.stats().hits, 1u);
  fs::remove(copy);
}

TEST(BinaryCache, ErrorsAreReportedNotCached) {
  BinaryCache cache;
  auto r = cache.GetForPath("/nonexistent/golens/binary");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/golens/binary"), std::string::npos);
  EXPECT_EQ(cache.stats().entries, 0u);
  Mapping anon;
  anon.start = 0x1000;
  anon.end = 0x2000;
  EXPECT_FALSE(cache.GetForMapping(getpid(), anon).ok());
}

}  // namespace
}  // namespace golens::symbolizer
