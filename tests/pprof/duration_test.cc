// profiler/duration: Go duration syntax. (Here because profiler/base/duration.cc
// depends on the base library only; tests/profiler belongs to the recorder.)
#include "profiler/base/duration.h"

#include <gtest/gtest.h>

namespace golens::profiler {
namespace {

int64_t Ns(const std::string& text) {
  auto d = ParseDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? d->count() : -1;
}

TEST(ParseDuration, GoSyntax) {
  EXPECT_EQ(Ns("30s"), 30'000'000'000);
  EXPECT_EQ(Ns("1.5s"), 1'500'000'000);
  EXPECT_EQ(Ns("300ms"), 300'000'000);
  EXPECT_EQ(Ns("2m30s"), 150'000'000'000);
  EXPECT_EQ(Ns("1h1m"), 3'660'000'000'000);
  EXPECT_EQ(Ns("1h0m0.5s"), 3'600'500'000'000);
  EXPECT_EQ(Ns("1us"), 1'000);
  EXPECT_EQ(Ns("1\xc2\xb5s"), 1'000);  // U+00B5 micro sign
  EXPECT_EQ(Ns("1\xce\xbcs"), 1'000);  // U+03BC Greek mu
  EXPECT_EQ(Ns("10ns"), 10);
  EXPECT_EQ(Ns(".5s"), 500'000'000);
  EXPECT_EQ(Ns("1.5m"), 90'000'000'000);
  EXPECT_EQ(Ns("+2s"), 2'000'000'000);
  // A bare number is seconds (as before).
  EXPECT_EQ(Ns("10"), 10'000'000'000);
  EXPECT_EQ(Ns("1.5"), 1'500'000'000);
}

TEST(ParseDuration, ClearErrors) {
  for (const char* bad : {"", "-1s", "0", "0s", "1e-54", "1e3s", "10 parsecs", "abc", "s", "1.s.", "2m30",
                          "1x", "1 s", "0.1ns", "99999999999999999999h", "1000000h"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_EQ(d.error().kind, ErrorKind::kInvalidArgument) << bad;
      EXPECT_NE(d.error().message.find("30s"), std::string::npos) << d.error().message;
    }
  }
  EXPECT_NE(ParseDuration("5y").error().message.find("unknown unit \"y\""), std::string::npos);
}

}  // namespace
}  // namespace golens::profiler
