// Flame graph rendering: classification, pruning, tags, sample types,
// inlined/kernel marking, escaping, no-samples, diff graphs.
#include <gtest/gtest.h>

#include <regex>

#include "pprof/builder.h"
#include "pprof/diff.h"
#include "pprof/profile_io.h"
#include "web/flame_layout.h"
#include "web/flamegraph.h"
#include "web/frame_kind.h"
#include "web/palette.h"

namespace golens::web {
namespace {

pprof::Profile Folded(const std::string& text) {
  auto p = pprof::ParseFolded(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return std::move(p).value();
}

std::string Render(const pprof::Profile& p, FlameOptions o = {}) {
  auto svg = RenderFlameGraph(p, o);
  EXPECT_TRUE(svg.ok()) << svg.error().message;
  return svg.ok() ? *svg : "";
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

TEST(FrameKind, Classification) {
  EXPECT_EQ(ClassifyFrameName("main.main", "/src/main.go", false), FrameKind::kGoUser);
  EXPECT_EQ(ClassifyFrameName("encoding/json.Marshal", "", false), FrameKind::kGoUser);
  EXPECT_EQ(ClassifyFrameName("github.com/x/y.(*T).M", "", false), FrameKind::kGoUser);
  EXPECT_EQ(ClassifyFrameName("runtime.mallocgc", "malloc.go", false), FrameKind::kGoRuntime);
  EXPECT_EQ(ClassifyFrameName("internal/bytealg.IndexByte", "", false), FrameKind::kGoRuntime);
  EXPECT_EQ(ClassifyFrameName("runtime.mapaccess2_faststr", "map.go", false), FrameKind::kMapLookup);
  EXPECT_EQ(ClassifyFrameName("internal/runtime/maps.(*Map).getWithKey", "", false), FrameKind::kMapLookup);
  EXPECT_EQ(ClassifyFrameName("crypto/sha256.blockSHANI", "sha256block_amd64.s", false), FrameKind::kGoUser);
  // Runtime assembly has names without a package ('aeshashbody') but .s files.
  EXPECT_EQ(ClassifyFrameName("aeshashbody", "/usr/local/go/src/runtime/asm_amd64.s", false),
            FrameKind::kGoRuntime);
  EXPECT_EQ(ClassifyFrameName("memeqbody", "internal/bytealg/equal_amd64.s", false),
            FrameKind::kGoRuntime);
  EXPECT_EQ(ClassifyFrameName("malloc", "", false), FrameKind::kNative);
  EXPECT_EQ(ClassifyFrameName("std::vector<int>::push_back", "", false), FrameKind::kNative);
  EXPECT_EQ(ClassifyFrameName("compute", "lib.c", false), FrameKind::kNative);
  EXPECT_EQ(ClassifyFrameName("[libc.so.6] 0x1234", "", false), FrameKind::kNative);
  EXPECT_EQ(ClassifyFrameName("do_syscall_64", "", true), FrameKind::kKernel);

  // From the model: a "[kernel]" mapping makes kernel frames.
  pprof::Profile p = Folded("main.main;syscall.write;entry_SYSCALL_64_[k];ksys_write_[k] 5\n");
  std::string svg = Render(p);
  EXPECT_NE(svg.find("<g class=\"k\"><title>ksys_write ("), std::string::npos);
  EXPECT_NE(svg.find("<g class=\"go\"><title>syscall.write ("), std::string::npos);
}

TEST(Render, DocumentStructureTitleFormatAndSelfContained) {
  std::string svg = Render(Folded("main;a;b 1234\nmain;c 766\n"));
  EXPECT_TRUE(svg.starts_with("<?xml version=\"1.0\" standalone=\"no\"?>"));
  EXPECT_NE(svg.find("<g id=\"frames\">"), std::string::npos);
  EXPECT_NE(svg.find("<title>all (2,000 samples, 100.00%)</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>b (1,234 samples, 61.70%)</title>"), std::string::npos);
  EXPECT_NE(svg.find("function zoom("), std::string::npos) << "JS embedded";
  EXPECT_NE(svg.find("#frames > g:hover"), std::string::npos) << "CSS embedded";
  EXPECT_FALSE(std::regex_search(svg, std::regex("(href|src)=\"https?:|url\\(['\"]?https?:|@import")))
      << "no external resources: works offline";
  EXPECT_EQ(Count(svg, "<g class="), 5u);  // all, main, a, b, c
}

TEST(Render, UnknownSampleTypeListsAvailable) {
  pprof::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  pprof::Profile p = b.Build();
  FlameOptions o;
  o.sample_type = "alloc_space";
  auto r = RenderFlameGraph(p, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unknown sample type 'alloc_space'; available: samples, cpu");
}

TEST(Render, NoSamplesSvg) {
  pprof::ProfileBuilder b({{"samples", "count"}});
  std::string svg = Render(b.Build());
  EXPECT_NE(svg.find(">no samples</text>"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  std::string empty = Render(pprof::Profile{});
  EXPECT_NE(empty.find(">no samples</text>"), std::string::npos);
}

TEST(Render, TagFilterKeepsOnlyLabelledSamples) {
  pprof::ProfileBuilder b({{"samples", "count"}});
  uint64_t fa = b.AddFunction("main.alpha", "main.alpha", "a.go", 0);
  uint64_t fb = b.AddFunction("main.beta", "main.beta", "b.go", 0);
  uint64_t la = b.AddLocation(0, 1, {{fa, 1, 0}});
  uint64_t lb = b.AddLocation(0, 2, {{fb, 1, 0}});
  b.AddSample(std::vector<uint64_t>{la}, std::vector<int64_t>{7}, {{"worker", "alpha", 0, ""}});
  b.AddSample(std::vector<uint64_t>{lb}, std::vector<int64_t>{3}, {{"worker", "beta", 0, ""}});
  pprof::Profile p = b.Build();
  FlameOptions o;
  o.tags = {"worker=alpha"};
  std::string svg = Render(p, o);
  EXPECT_NE(svg.find("main.alpha (7 samples, 100.00%)"), std::string::npos);
  EXPECT_EQ(svg.find("main.beta"), std::string::npos);
  o.tags = {"worker=alpha", "worker=beta"};  // same key: either value
  svg = Render(p, o);
  EXPECT_NE(svg.find("main.alpha (7 samples, 70.00%)"), std::string::npos);
  EXPECT_NE(svg.find("main.beta (3 samples, 30.00%)"), std::string::npos);
  o.tags = {"worker=alpha", "span=1"};  // different keys: both
  EXPECT_NE(Render(p, o).find(">no samples</text>"), std::string::npos);
  o.tags = {"worker=nobody"};
  EXPECT_NE(Render(p, o).find(">no samples</text>"), std::string::npos);
  o.tags = {"noequals"};
  EXPECT_FALSE(RenderFlameGraph(p, o).ok());
}

TEST(Render, InlinedFramesMarked) {
  std::string svg = Render(Folded("main;work;leaf_[i] 3\n"));
  EXPECT_NE(svg.find("<g class=\"nat inl\"><title>leaf [inlined] (3 samples"), std::string::npos) << svg.substr(svg.find("<g id=\"frames\">"));
}

TEST(Render, MinWidthPrunesAndCounts) {
  std::string text = "main;big 10000\n";
  for (int i = 0; i < 50; ++i) text += "main;tiny" + std::to_string(i) + ";deeper 1\n";
  FlameOptions o;
  o.min_width = 1;  // 1 sample = 0.117 px
  std::string svg = Render(Folded(text), o);
  EXPECT_EQ(svg.find("tiny"), std::string::npos);
  EXPECT_NE(svg.find("100 narrower than 1.0 px pruned"), std::string::npos);
  o.min_width = 0;
  svg = Render(Folded(text), o);
  EXPECT_EQ(Count(svg, "<title>tiny"), 50u);
}

TEST(Render, EscapesAndRepairsText) {
  std::string svg = Render(Folded("main;operator<<(std::ostream&, \"x\");bad\xff\x01name 4\n"));
  EXPECT_NE(svg.find("operator&lt;&lt;(std::ostream&amp;, &quot;x&quot;)"), std::string::npos);
  EXPECT_NE(svg.find("bad??name"), std::string::npos);
  EXPECT_EQ(svg.find('\xff'), std::string::npos);
}

TEST(Render, PalettesAndMapIntensity) {
  pprof::Profile p = Folded("main.main;runtime.mapaccess1_fast64 5\n");
  FlameOptions o;
  std::string go = Render(p, o);
  o.map_intensity["runtime.mapaccess1_fast64"] = 1.0;
  std::string hot_map = Render(p, o);
  EXPECT_NE(go, hot_map) << "intensity changes the map frame's color";
  EXPECT_NE(hot_map.find("fill=\"rgb(20,150,20)\""), std::string::npos);
  o.palette = "mono";
  std::string mono = Render(p, o);
  std::smatch m;
  std::regex fill("fill=\"rgb\\((\\d+),(\\d+),(\\d+)\\)\"/>");
  for (auto it = std::sregex_iterator(mono.begin(), mono.end(), fill); it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1], (*it)[2]);
    EXPECT_EQ((*it)[2], (*it)[3]);
  }
  o.palette = "rainbow";
  auto bad = RenderFlameGraph(p, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("go, hot, mono"), std::string::npos);
}

TEST(Render, InvertedPutsRootOnTop) {
  FlameOptions o;
  o.inverted = true;
  std::string svg = Render(Folded("main;a 1\n"), o);
  // Root at depth 0 sits right under the header (ypad1 = 72).
  EXPECT_NE(svg.find("<title>all (1 samples, 100.00%)</title><rect x=\"10.00\" y=\"72\""), std::string::npos);
}

TEST(Render, FoldedFastPathEqualsModelPath) {
  const std::string text =
      "main;foo;x 3\nmain;foo 5\nmain;foo::bar 1\n"
      "main.main;syscall.write;entry_SYSCALL_64_[k];ksys_write_[k] 4\n"
      "main;work;leaf_[i];deeper_[i] 3\nleaf_[i];x 2\nk_[k];kinl_[i] 1\n"
      "tab\there;runtime.mapaccess1 7\n;;;empty;; 2\n; 9\n";
  auto model = pprof::ParseFolded(text);
  ASSERT_TRUE(model.ok());
  for (bool inverted : {false, true}) {
    FlameOptions o;
    o.inverted = inverted;
    o.min_width = inverted ? 0 : 30;
    auto fast = RenderFoldedFlameGraph(text, o);
    auto slow = RenderFlameGraph(*model, o);
    ASSERT_TRUE(fast.ok() && slow.ok());
    EXPECT_EQ(*fast, *slow);
  }
  FlameOptions tagged;
  tagged.tags = {"worker=alpha"};
  EXPECT_NE(RenderFoldedFlameGraph(text, tagged)->find(">no samples</text>"), std::string::npos);
  FlameOptions typed;
  typed.sample_type = "cpu";
  auto bad = RenderFoldedFlameGraph(text, typed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "unknown sample type 'cpu'; available: samples");
  EXPECT_FALSE(RenderFoldedFlameGraph("not folded\n", {}).ok());
}

TEST(Diff, ColorsTooltipsAndVanishedFrames) {
  pprof::Profile base = Folded("main;a 10\nmain;b 10\nmain;gone 5\n");
  pprof::Profile now = Folded("main;a 20\nmain;b 5\nmain;c 5\n");
  DiffOptions o;
  o.normalize = false;
  auto svg = RenderDiffFlameGraph(base, now, o);
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  // a grew by 10: the largest change, so full red.
  EXPECT_NE(svg->find("<title>a (20 samples, 66.67%; base 10 samples; +10 samples, +33.33%)</title>"),
            std::string::npos);
  EXPECT_NE(svg->find("fill=\"rgb(255,0,0)\""), std::string::npos);
  // vanished: drawn with its base width, class gone, blue.
  size_t gone = svg->find("<g class=\"nat gone\"><title>gone [gone] (0 samples, 0.00%; base 5 samples; -5 samples");
  EXPECT_NE(gone, std::string::npos);
  EXPECT_NE(svg->find("rgb(105,105,255)", gone), std::string::npos);

  DiffOptions n;  // normalized: base scaled by 30/25
  auto norm = RenderDiffFlameGraph(base, now, n);
  ASSERT_TRUE(norm.ok());
  EXPECT_NE(norm->find("<title>a (20 samples, 66.67%; base 12 samples; +8 samples, +26.67%)</title>"),
            std::string::npos);
  EXPECT_NE(norm->find("scaled ×1.200 to NEW's total"), std::string::npos);
}

TEST(Diff, DiffProfileRendersAsDiff) {
  pprof::Profile base = Folded("main;a 10\nmain;gone 5\n");
  pprof::Profile now = Folded("main;a 20\n");
  auto diff = pprof::DiffProfiles(base, now, false);
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  EXPECT_TRUE(IsDiffProfile(*diff));
  std::string svg = Render(*diff);
  EXPECT_NE(svg.find("a (20 samples, 100.00%; base 10 samples; +10 samples"), std::string::npos);
  EXPECT_NE(svg.find("gone [gone]"), std::string::npos);
}

TEST(Diff, DiffProfilesValuesAndNormalization) {
  pprof::Profile base = Folded("main;a 10\nmain;b 30\n");
  pprof::Profile now = Folded("main;a 30\nmain;b 50\n");
  auto raw = pprof::DiffProfiles(base, now, false);
  ASSERT_TRUE(raw.ok());
  int64_t pos = 0, neg = 0;
  for (const auto& s : raw->samples) {
    bool is_base = !s.labels.empty() && s.labels[0].key == "pprof::base";
    (is_base ? neg : pos) += s.values[0];
    EXPECT_EQ(is_base, s.values[0] < 0);
  }
  EXPECT_EQ(pos, 80);
  EXPECT_EQ(neg, -40);
  auto norm = pprof::DiffProfiles(base, now, true);
  ASSERT_TRUE(norm.ok());
  pos = 0;
  for (const auto& s : norm->samples) if (s.values[0] > 0) pos += s.values[0];
  EXPECT_EQ(pos, 40) << "NEW scaled to BASE's total, like pprof -normalize";
  pprof::Profile other;
  other.sample_types = {{"alloc_space", "bytes"}};
  auto bad = pprof::DiffProfiles(base, other, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no common sample type"), std::string::npos);
}

}  // namespace
}  // namespace golens::web
