// Correctness against independent references, on every fixture variant
// (Go versions x plain / -trimpath / PIE / strip / -s -w / cgo):
//  * DWARF inline chains of the unstripped build (dwarfref, Go's debug/dwarf),
//    compared with our output on the stripped copy, frame by frame.
//  * runtime.CallersFrames output printed by the program itself.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::RunCommand;
using testing::Split;

struct Pair {
  std::string name, go_version, reference, target;
};

std::vector<Pair> LoadPairs() {
  std::vector<Pair> pairs;
  std::ifstream in(GOLENS_SYM_PAIRS);
  Pair p;
  while (in >> p.name >> p.go_version >> p.reference >> p.target) pairs.push_back(p);
  return pairs;
}

struct RefRow {
  uint64_t pc = 0;
  std::vector<Frame> frames;
};

std::string Describe(const std::vector<Frame>& frames) {
  std::string s;
  for (const auto& f : frames) s += "\n      " + f.function + " " + f.file + ":" + std::to_string(f.line);
  return s.empty() ? "\n      (none)" : s;
}

// Why two chains differ, for the mismatch listing.
std::string Reason(const std::vector<Frame>& want, const SymbolizedAddress& got) {
  if (!got.ok()) return "unknown (" + got.error + ")";
  if (want.size() != got.frames.size()) return "inline depth differs";
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].function != got.frames[i].function) return "function differs at frame " + std::to_string(i);
    if (want[i].file != got.frames[i].file) return "file differs at frame " + std::to_string(i);
    if (want[i].line != got.frames[i].line) return "line differs at frame " + std::to_string(i);
  }
  return "";
}

class DwarfCorrectness : public ::testing::TestWithParam<Pair> {};

TEST_P(DwarfCorrectness, StrippedOutputEqualsDwarfInlineChains) {
  const Pair& p = GetParam();
  auto ref = RunCommand(std::string(GOLENS_SYM_DWARFREF) + " " + p.reference);
  ASSERT_EQ(ref.exit_code, 0) << "dwarfref failed on " << p.reference;
  std::vector<RefRow> rows;
  for (const auto& line : Split(ref.out, '\n')) {
    auto cols = Split(line, '\t');
    if (cols.size() < 4 || (cols.size() - 1) % 3 != 0) continue;
    RefRow row;
    row.pc = std::strtoull(cols[0].c_str(), nullptr, 16);
    for (size_t i = 1; i + 2 < cols.size(); i += 3) {
      Frame f;
      f.function = cols[i];
      f.file = cols[i + 1];
      f.line = std::strtoll(cols[i + 2].c_str(), nullptr, 10);
      row.frames.push_back(f);
    }
    rows.push_back(std::move(row));
  }
  ASSERT_GE(rows.size(), 10000u) << "reference too small for " << p.reference;

  auto binary = Binary::Open(p.target);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  const Binary& b = **binary;
  EXPECT_TRUE(b.is_go());
  EXPECT_EQ(b.go_version(), p.go_version);
  EXPECT_EQ(b.main_module(), "example.com/golens/testprog");
  EXPECT_FALSE(b.build_id().empty());
  EXPECT_EQ(b.is_pie(), p.name.find("pie") != std::string::npos);

  std::vector<uint64_t> pcs;
  for (const auto& r : rows) pcs.push_back(r.pc);
  auto results = b.Symbolize(pcs);
  ASSERT_EQ(results.size(), pcs.size());

  size_t equal = 0, inlined = 0;
  std::string listing;
  size_t listed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].frames.size() > 1) ++inlined;
    std::string why = Reason(rows[i].frames, results[i]);
    if (why.empty()) {
      ++equal;
      continue;
    }
    if (listed++ < 40) {
      char pc[32];
      std::snprintf(pc, sizeof pc, "0x%llx", static_cast<unsigned long long>(rows[i].pc));
      listing += std::string("\n  ") + pc + ": " + why + "\n    dwarf:" + Describe(rows[i].frames) +
                 "\n    ours:" + Describe(results[i].frames);
    }
  }
  const double ratio = static_cast<double>(equal) / rows.size();
  std::printf("%s: %zu/%zu PCs equal (%.4f%%), %zu with inlined frames\n", p.name.c_str(), equal, rows.size(),
              100 * ratio, inlined);
  EXPECT_GT(inlined, 500u) << "fixture should exercise inlining";
  EXPECT_GE(ratio, 0.999) << "mismatches:" << listing;
  if (equal != rows.size()) std::printf("mismatches (first %zu):%s\n", std::min<size_t>(listed, 40), listing.c_str());
}

// The program prints runtime.Callers PCs with runtime.CallersFrames' answer;
// our innermost frame at pc-1 must be the same (non-PIE: PCs are vaddrs).
TEST_P(DwarfCorrectness, InnermostFrameEqualsRuntimeCallersFrames) {
  const Pair& p = GetParam();
  auto binary = Binary::Open(p.target);
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  if ((*binary)->is_pie()) {
    // Runtime addresses of a PIE are checked through /proc in process_test.cc.
    SUCCEED() << "PIE: covered by symbolizer_process_test";
    return;
  }
  auto run = RunCommand(p.target + " frames");
  ASSERT_EQ(run.exit_code, 0);
  std::vector<uint64_t> pcs;
  std::vector<Frame> want;
  for (const auto& line : Split(run.out, '\n')) {
    auto cols = Split(line, '\t');
    if (cols.size() != 4) continue;
    pcs.push_back(std::strtoull(cols[0].c_str(), nullptr, 16) - 1);
    Frame f;
    f.function = cols[1];
    f.file = cols[2];
    f.line = std::strtoll(cols[3].c_str(), nullptr, 10);
    want.push_back(f);
  }
  ASSERT_GE(pcs.size(), 5u) << run.out;
  auto got = (*binary)->Symbolize(pcs);
  bool saw_inlined = false;
  for (size_t i = 0; i < pcs.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << got[i].error;
    EXPECT_EQ(got[i].frames[0].function, want[i].function) << "pc " << std::hex << pcs[i];
    EXPECT_EQ(got[i].frames[0].file, want[i].file) << "pc " << std::hex << pcs[i];
    EXPECT_EQ(got[i].frames[0].line, want[i].line) << "pc " << std::hex << pcs[i];
    saw_inlined |= got[i].frames.size() > 1;
  }
  EXPECT_TRUE(saw_inlined) << "work.Stack's chain should contain inlined frames";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DwarfCorrectness, ::testing::ValuesIn(LoadPairs()),
                         [](const ::testing::TestParamInfo<Pair>& info) { return info.param.name; });

}  // namespace
}  // namespace golens::symbolizer
