// Golden frame geometry of a small hand-made profile: x, width and depth of
// every frame, and the SVG rects agree with it. Regenerate after an
// intentional layout change with:
//   GOLENS_UPDATE_GOLDENS=1 build/tests/web/golens_web_test --gtest_filter='Golden*'
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "pprof/profile_io.h"
#include "web/flame_layout.h"
#include "web/flamegraph.h"

namespace golens::web {
namespace {

// flamegraph.pl's sort pitfall is in here too: "foo::bar" must not split "foo".
constexpr char kProfile[] =
    "main;foo;x 3\n"
    "main;foo 5\n"
    "main;foo::bar 1\n"
    "main;alpha;beta;gamma 40\n"
    "main;alpha;beta 10\n"
    "main;alpha 6\n"
    "other;leaf 35\n";

std::string GeometryText(bool inverted) {
  auto p = pprof::ParseFolded(kProfile);
  EXPECT_TRUE(p.ok());
  pprof::Profile profile = std::move(p).value();
  FlameTree tree;
  TreeOptions to;
  EXPECT_TRUE(AddProfileToTree(profile, to, &tree).ok());
  tree.Finish();
  FlameLayout layout = LayoutFlame(tree, TotalWidths(tree), 1200, 0.1);
  std::ostringstream out;
  out << "# depth x width name (width 1200 px, inverted=" << inverted << ")\n";
  for (const FrameBox& box : layout.boxes) {
    char line[256];
    std::snprintf(line, sizeof line, "%d %.2f %.2f %s\n", box.depth, box.x, box.width,
                  tree.frames()[tree.nodes()[box.node].frame].name.c_str());
    out << line;
  }
  return out.str();
}

std::string GoldenPath() { return std::string(GOLENS_SOURCE_DIR) + "/tests/web/golden/small_geometry.txt"; }

TEST(Golden, FrameGeometry) {
  std::string actual = GeometryText(false);
  if (std::getenv("GOLENS_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(GoldenPath()) << actual;
    GTEST_SKIP() << "golden rewritten: " << GoldenPath();
  }
  std::ifstream in(GoldenPath());
  ASSERT_TRUE(in) << "missing " << GoldenPath() << "; create it with GOLENS_UPDATE_GOLDENS=1";
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(actual, expected);
}

// The SVG draws exactly the golden geometry: rect x/width, and y from depth.
TEST(Golden, SvgMatchesGeometry) {
  auto p = pprof::ParseFolded(kProfile);
  ASSERT_TRUE(p.ok());
  for (bool inverted : {false, true}) {
    FlameOptions o;
    o.inverted = inverted;
    auto svg = RenderFlameGraph(*p, o);
    ASSERT_TRUE(svg.ok());
    std::smatch hm;
    ASSERT_TRUE(std::regex_search(*svg, hm, std::regex("<svg[^>]* height=\"(\\d+)\"")));
    int height = std::stoi(hm[1]);
    std::istringstream golden(GeometryText(false));
    std::string line;
    std::getline(golden, line);  // header
    std::regex frame("<title>([^<]*) \\(\\d[^<]*</title><rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\"");
    auto it = std::sregex_iterator(svg->begin(), svg->end(), frame);
    int frames = 0;
    for (; std::getline(golden, line); ++it, ++frames) {
      ASSERT_NE(it, std::sregex_iterator()) << "fewer frames in the SVG than in the golden";
      int depth;
      double x, width;
      char name[128];
      ASSERT_EQ(std::sscanf(line.c_str(), "%d %lf %lf %127s", &depth, &x, &width, name), 4);
      EXPECT_EQ((*it)[1].str(), name);
      EXPECT_NEAR(std::stod((*it)[2]), x, 0.006);
      EXPECT_NEAR(std::stod((*it)[4]), width, 0.006);
      double y = std::stod((*it)[3]);
      double expected_y = inverted ? 72 + depth * 16 : height - 34 - (depth + 1) * 16;
      EXPECT_EQ(y, expected_y) << name;
    }
    EXPECT_EQ(it, std::sregex_iterator()) << "more frames in the SVG than in the golden";
    EXPECT_EQ(frames, 10);
  }
}

}  // namespace
}  // namespace golens::web
