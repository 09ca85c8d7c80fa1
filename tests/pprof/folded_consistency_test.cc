// Folded input never loses lines silently, fold's fast path prints exactly
// what the model path prints, totals never wrap, negative values and
// samples without locations are handled one way everywhere, --tag misses
// can be explained, and a folded file diffs against a pprof profile.
#include <gtest/gtest.h>

#include <string>

#include "pprof/builder.h"
#include "pprof/diff.h"
#include "pprof/folded.h"
#include "pprof/profile_io.h"
#include "pprof/sample_filter.h"

namespace golens::pprof {
namespace {

std::string Refold(std::string_view text) {
  std::string out;
  auto r = RefoldFolded(text, [&](std::string_view piece) -> Result<void> {
    out += piece;
    return Ok();
  });
  EXPECT_TRUE(r.ok()) << r.error().message;
  return out;
}

std::string ViaModel(std::string_view text) {
  auto p = ParseFolded(text);
  EXPECT_TRUE(p.ok());
  return p.ok() ? ToFolded(*p) : "";
}

TEST(RefoldFolded, EqualsTheModelPath) {
  const std::string text =
      "# comment\n"
      "main;work 3\n"
      "main;work 2\n"
      "main;;work 1\n"                      // empty frame in the middle
      ";main;work; 1\n"                     // leading/trailing ';'
      "x_[i];y 4\n"                         // inline marker on the first frame
      "main;inl_[i];leaf 5\n"
      "main;sys_[k];irq_[i];deeper_[k] 6\n"  // inlined into a kernel frame
      "main;tab\tname;cr\rname 7\n"
      "main;work 0.6\n"                     // fractional, rounds to 1
      "main;other 0.4\n"                    // rounds to 0: dropped
      ";;; 5\n"                             // no frames
      "   \n"
      "main;work    8   \n";
  EXPECT_EQ(Refold(text), ViaModel(text));
  EXPECT_NE(Refold(text).find("main;work 16\n"), std::string::npos) << Refold(text);
}

TEST(ScanFolded, EmptyStacksAndFractionsAreReported) {
  testing::internal::CaptureStderr();
  auto p = ParseFolded(";;; 5\n; 2\na;b 0.4\na;b 1.5\na;b 3\n");
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(p.ok());
  EXPECT_NE(err.find("ignored 2 lines without any frame (count 7)"), std::string::npos) << err;
  EXPECT_NE(err.find("2 lines have fractional counts, rounded to whole numbers (1 rounded to 0 and dropped)"),
            std::string::npos)
      << err;
  EXPECT_EQ(ToFolded(*p), "a;b 5\n");
}

TEST(Totals, SaturateInsteadOfWrapping) {
  const std::string text = "a;b 9223372036854775807\na;b 5\na;c 9223372036854775807\n";
  testing::internal::CaptureStderr();
  std::string fast = Refold(text);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(fast, "a;b 9223372036854775807\na;c 9223372036854775807\n");
  EXPECT_NE(err.find("capped at 2^63-1"), std::string::npos) << err;
  testing::internal::CaptureStderr();
  std::string model = ViaModel(text);
  err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(model, fast);
  EXPECT_EQ(model.find('-'), std::string::npos) << "a total wrapped negative: " << model;
}

Profile WithNegativeAndEmptyStacks() {
  ProfileBuilder b({{"samples", "count"}});
  uint64_t f = b.AddFunction("main.work", "main.work", "main.go", 1);
  uint64_t l = b.AddLocation(0, 0x10, {{f, 2, 0}});
  std::vector<uint64_t> stack{l}, none;
  b.AddSample(stack, std::vector<int64_t>{5});
  b.AddSample(stack, std::vector<int64_t>{-3}, {{"k", "v", 0, ""}});
  b.AddSample(none, std::vector<int64_t>{2});
  return b.Build();
}

TEST(ToFolded, NegativeValuesDroppedWithAWarningAndEmptyStacksShown) {
  testing::internal::CaptureStderr();
  std::string folded = ToFolded(WithNegativeAndEmptyStacks());
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(folded, std::string(kNoStackFrame) + " 2\nmain.work 5\n");
  EXPECT_NE(err.find("ignored 1 samples with negative values (total -3)"), std::string::npos) << err;
}

TEST(DescribeLabels, ListsKeysAndValues) {
  EXPECT_EQ(DescribeLabels(WithNegativeAndEmptyStacks()), "labels: k=v");
  ProfileBuilder b({{"samples", "count"}});
  EXPECT_EQ(DescribeLabels(b.Build()), "the profile has no labels");
}

TEST(DiffProfiles, FoldedAgainstPprofComparesSamples) {
  auto folded = ParseFolded("main.work 4\nmain.idle 1\n");
  ASSERT_TRUE(folded.ok());
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  b.header().period_type = {"cpu", "nanoseconds"};
  b.header().period = 10000000;
  uint64_t f = b.AddFunction("main.work", "main.work", "", 0);
  std::vector<uint64_t> stack{b.AddLocation(0, 0, {{f, 0, 0}})};
  b.AddSample(stack, std::vector<int64_t>{6, 60000000});
  Profile cpu = b.Build();
  for (bool folded_is_base : {true, false}) {
    auto d = folded_is_base ? DiffProfiles(*folded, cpu, false) : DiffProfiles(cpu, *folded, false);
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_EQ(d->sample_types.size(), 1u);
    EXPECT_EQ(d->sample_types[0].type, "samples");
    EXPECT_EQ(d->period_type.type, "cpu");
  }
  // Different kinds of profile: a clear, actionable refusal.
  Profile alloc = cpu;
  alloc.period_type = {"space", "bytes"};
  auto bad = DiffProfiles(alloc, cpu, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("compare profiles of the same kind"), std::string::npos) << bad.error().message;
  // Folded against a profile without a samples type: say what to do.
  Profile only_cpu = cpu;
  only_cpu.sample_types = {{"cpu", "nanoseconds"}};
  for (Sample& s : only_cpu.samples) s.values = {s.values[1]};
  auto none = DiffProfiles(*folded, only_cpu, false);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("folded stacks carry no units"), std::string::npos) << none.error().message;
}

}  // namespace
}  // namespace golens::pprof
