// Unit tests of the record area's pure parts: Go release parsing and the
// offsets table, TLS offset decoding (on real Go binaries and on crafted
// code), frame analysis for the leaf fix-up, CPU lists, durations.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <vector>

#include "profiler/go_binary_info.h"
#include "profiler/go_offsets.h"
#include "profiler/go_tls.h"
#include "profiler/binary_record.h"
#include "profiler/perf_events.h"
#include "profiler/base/duration.h"
#include "profiler/function_frame.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

TEST(GoVersion, Parses) {
  auto v = ParseGoVersion("go1.26.8");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1);
  EXPECT_EQ(v->minor, 26);
  EXPECT_EQ(v->patch, 8);
  EXPECT_EQ(ParseGoVersion("go1.21rc2")->minor, 21);
  EXPECT_EQ(ParseGoVersion("devel go1.27-abcdef")->minor, 27);
  EXPECT_EQ(ParseGoVersion("go1.22")->patch, 0);
  EXPECT_FALSE(ParseGoVersion("gcc 12"));
  EXPECT_FALSE(ParseGoVersion("go1."));
}

TEST(GoOffsets, MatchTheMeasuredLayouts) {
  // go-runtime.md 3.4: goid moved to 160 in 1.23-1.24; m shrank in 1.25.
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 21, 0})->offsets.g_goid, 152u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 23, 0})->offsets.g_goid, 160u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 24, 0})->offsets.g_goid, 160u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 25, 0})->offsets.g_goid, 152u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 24, 0})->offsets.m_curg, 192u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 26, 0})->offsets.m_curg, 184u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 26, 0})->offsets.m_gsignal, 72u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 20, 0})->offsets.g_labels, 360u);
  EXPECT_EQ(LookupGoRuntimeOffsets({1, 26, 0})->offsets.g_m, 48u);
  EXPECT_TRUE(LookupGoRuntimeOffsets({1, 27, 0})->exact);
  auto future = LookupGoRuntimeOffsets({1, 40, 0});
  ASSERT_TRUE(future);
  EXPECT_FALSE(future->exact);
  EXPECT_FALSE(LookupGoRuntimeOffsets({1, 16, 0}));
}

TEST(GoTls, DecodesDirectFsLoad) {
  // mov %fs:0xfffffffffffffff8,%rax (internally linked executables)
  const std::vector<uint8_t> code = {0x64, 0x48, 0x8b, 0x04, 0x25, 0xf8, 0xff, 0xff, 0xff,
                                     0x48, 0x39, 0x60, 0x08};
  EXPECT_EQ(DecodeGoTlsOffset(code, 0x477440, nullptr), -8);
}

TEST(GoTls, DecodesImmediateThroughRegister) {
  // mov $0xfffffffffffffff8,%rcx; mov %fs:(%rcx),%rax (PIE)
  const std::vector<uint8_t> code = {0x48, 0xc7, 0xc1, 0xf8, 0xff, 0xff, 0xff,
                                     0x64, 0x48, 0x8b, 0x01};
  EXPECT_EQ(DecodeGoTlsOffset(code, 0x4777a0, nullptr), -8);
  // mov $-0x58,%rcx; mov %fs:(%rcx),%rax (static cgo)
  const std::vector<uint8_t> code88 = {0x48, 0xc7, 0xc1, 0xa8, 0xff, 0xff, 0xff,
                                       0x64, 0x48, 0x8b, 0x01};
  EXPECT_EQ(DecodeGoTlsOffset(code88, 0x1000, nullptr), -88);
}

TEST(GoTls, RejectsUnrelatedCode) {
  const std::vector<uint8_t> code = {0x55, 0x48, 0x89, 0xe5, 0xc3};  // push rbp; mov rbp,rsp; ret
  EXPECT_FALSE(DecodeGoTlsOffset(code, 0x1000, nullptr));
  EXPECT_FALSE(DecodeGoTlsOffset({}, 0x1000, nullptr));
}

TEST(GoTls, RealBinariesOfEveryBuiltRelease) {
  for (const char* name : {"goroutines-local", "goroutines-1.21.13", "goroutines-1.23.12"}) {
    std::string path = std::string(GOLENS_FIXTURES) + "/" + name;
    auto binary = symbolizer::Binary::Open(path);
    ASSERT_TRUE(binary.ok()) << path << ": " << binary.error().message;
    auto tls = DetectGoTlsOffset(**binary);
    ASSERT_TRUE(tls) << path;
    EXPECT_EQ(*tls, -8) << path;
    GoBinaryInfo info = AnalyzeGoBinary(**binary);
    EXPECT_TRUE(info.go_features_on()) << path << ": " << info.go_features_off_reason;
    EXPECT_TRUE(info.tls_detected);
    golens_proc_info proc = MakeProcInfo(info);
    EXPECT_TRUE(proc.flags & GOLENS_PROC_GO);
    EXPECT_EQ(proc.tls_offset, -8);
    EXPECT_EQ(proc.g_m, 48u);
  }
}

// "type.field offset" lines of the DWARF of `binary` (tests/profiler/dwarf_offsets).
std::map<std::string, uint32_t> DwarfOffsets(const std::string& binary) {
  std::map<std::string, uint32_t> out;
  std::string cmd = std::string(GOLENS_FIXTURES) + "/dwarf_offsets " + binary;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  char name[256];
  unsigned offset = 0;
  while (std::fscanf(pipe, "%255s %u", name, &offset) == 2) out[name] = offset;
  pclose(pipe);
  return out;
}

// The offsets BPF reads come from tables keyed by the Go release; each
// release the tests build must agree with what its DWARF says.
TEST(GoOffsets, AgreeWithDwarfOfEveryBuiltRelease) {
  for (const char* version : {"1.21.13", "1.23.12", "1.24.13", "local", "1.27.4"}) {
    std::string path = std::string(GOLENS_FIXTURES) + "/labels-" + version;
    SCOPED_TRACE(path);
    auto dwarf = DwarfOffsets(path);
    ASSERT_EQ(dwarf.size(), 6u) << "dwarf_offsets found no runtime.g/runtime.m fields";
    auto binary = symbolizer::Binary::Open(path);
    ASSERT_TRUE(binary.ok());
    auto v = ParseGoVersion((*binary)->go_version());
    ASSERT_TRUE(v.has_value());
    auto row = LookupGoRuntimeOffsets(*v);
    ASSERT_TRUE(row.has_value());
    EXPECT_TRUE(row->exact);
    EXPECT_EQ(row->offsets.g_m, dwarf["runtime.g.m"]);
    EXPECT_EQ(row->offsets.g_goid, dwarf["runtime.g.goid"]);
    EXPECT_EQ(row->offsets.g_labels, dwarf["runtime.g.labels"]);
    EXPECT_EQ(row->offsets.m_g0, dwarf["runtime.m.g0"]);
    EXPECT_EQ(row->offsets.m_curg, dwarf["runtime.m.curg"]);
    EXPECT_EQ(row->offsets.m_gsignal, dwarf["runtime.m.gsignal"]);
  }
  for (const char* version : {"1.23.12", "local"}) {
    std::string path = std::string(GOLENS_FIXTURES) + "/httpserver-" + version;
    SCOPED_TRACE(path);
    auto dwarf = DwarfOffsets(path);
    ASSERT_TRUE(dwarf.count("net/http.Request.Header")) << "no net/http.Request in the DWARF";
    HttpOffsets http;
    EXPECT_EQ(http.request_method, dwarf["net/http.Request.Method"]);
    EXPECT_EQ(http.request_url, dwarf["net/http.Request.URL"]);
    EXPECT_EQ(http.request_header, dwarf["net/http.Request.Header"]);
    EXPECT_EQ(http.url_path, dwarf["net/url.URL.Path"]);
    auto binary = symbolizer::Binary::Open(path);
    ASSERT_TRUE(binary.ok());
    GoBinaryInfo info = AnalyzeGoBinary(**binary);
    EXPECT_TRUE(info.http.found);
    EXPECT_EQ(info.swiss_maps, std::string(version) == "local");
  }
}

TEST(GoOffsets, UnknownReleaseTurnsLabelsAndSpansOff) {
  GoBinaryInfo info;
  info.is_go = true;
  info.go_version = "go1.99.1";
  auto lookup = LookupGoRuntimeOffsets(*ParseGoVersion(info.go_version));
  ASSERT_TRUE(lookup.has_value());
  EXPECT_FALSE(lookup->exact);
  info.offsets = lookup->offsets;
  info.offsets_exact = lookup->exact;
  info.http.found = true;
  golens_proc_info proc = MakeProcInfo(info);
  EXPECT_TRUE(proc.flags & GOLENS_PROC_GO);  // goroutine ids still on
  EXPECT_FALSE(proc.flags & (GOLENS_PROC_LABELS_MAP | GOLENS_PROC_LABELS_SLICE));
  EXPECT_EQ(proc.request_url, 0u);  // no request offsets: the span probes read nothing

  info.go_version = "go1.26.8";
  info.offsets_exact = true;
  proc = MakeProcInfo(info);
  EXPECT_TRUE(proc.flags & GOLENS_PROC_LABELS_SLICE);
  EXPECT_EQ(proc.request_url, 16u);
}

TEST(BinaryRegistry, OneRecordPerBuildIdWhileUsed) {
  auto binary = symbolizer::Binary::Open(std::string(GOLENS_FIXTURES) + "/goroutines-local");
  ASSERT_TRUE(binary.ok());
  auto again = symbolizer::Binary::Open(std::string(GOLENS_FIXTURES) + "/goroutines-local");
  ASSERT_TRUE(again.ok());
  BinaryRegistry registry;
  auto a = registry.Get(*binary);
  auto b = registry.Get(*again);  // parsed twice, same build ID: one record
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(registry.live(), 1u);
  const GoBinaryInfo& info = a->go_info();
  EXPECT_TRUE(info.go_features_on()) << info.go_features_off_reason;
  EXPECT_EQ(&info, &b->go_info());  // analyzed once
  a.reset();
  b.reset();
  EXPECT_EQ(registry.live(), 0u);  // forgotten when the last user lets go
}

TEST(LeafFrame, FramelessLeafAndPrologue) {
  // Go frameless leaf: mov 0x8(%rsp),%rax; add $1,%rax; ret
  const std::vector<uint8_t> frameless = {0x48, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x83, 0xc0, 0x01, 0xc3};
  FunctionFrameInfo leaf = AnalyzeFunctionFrame(frameless.data(), frameless.size(), 0x1000);
  EXPECT_TRUE(leaf.frameless);
  EXPECT_EQ(leaf.At(0x1005), ReturnAddressAt::kSp);

  // Go prologue: cmp 0x10(%r14),%rsp; jbe +N; push %rbp; mov %rsp,%rbp; sub $0x10,%rsp;
  // call ...; add $0x10,%rsp; pop %rbp; ret
  const std::vector<uint8_t> framed = {
      0x49, 0x3b, 0x66, 0x10,              // 0x1000 cmp
      0x76, 0x14,                          // 0x1004 jbe
      0x55,                                // 0x1006 push rbp
      0x48, 0x89, 0xe5,                    // 0x1007 mov rbp,rsp
      0x48, 0x83, 0xec, 0x10,              // 0x100a sub rsp,0x10
      0xe8, 0x00, 0x00, 0x00, 0x00,        // 0x100e call
      0x48, 0x83, 0xc4, 0x10,              // 0x1013 add rsp,0x10
      0x5d,                                // 0x1017 pop rbp
      0xc3,                                // 0x1018 ret
  };
  FunctionFrameInfo fn = AnalyzeFunctionFrame(framed.data(), framed.size(), 0x1000);
  EXPECT_FALSE(fn.frameless);
  EXPECT_EQ(fn.push_rbp, 0x1006u);
  EXPECT_EQ(fn.At(0x1000), ReturnAddressAt::kSp);
  EXPECT_EQ(fn.At(0x1006), ReturnAddressAt::kSp);
  EXPECT_EQ(fn.At(0x1007), ReturnAddressAt::kSpPlus8);
  EXPECT_EQ(fn.At(0x100a), ReturnAddressAt::kFramePointer);
  EXPECT_EQ(fn.At(0x1017), ReturnAddressAt::kFramePointer);
  EXPECT_EQ(fn.At(0x1018), ReturnAddressAt::kSp);
}

TEST(CpuList, Parses) {
  auto cpus = ParseCpuList("0-2,5,7-8\n");
  ASSERT_TRUE(cpus.ok());
  EXPECT_EQ(*cpus, (std::vector<int>{0, 1, 2, 5, 7, 8}));
  EXPECT_FALSE(ParseCpuList("").ok());
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("x").ok());
  EXPECT_TRUE(OnlineCpus().ok());
}

TEST(Duration, Parses) {
  EXPECT_EQ(ParseDuration("30s")->count(), 30'000'000'000);
  EXPECT_EQ(ParseDuration("500ms")->count(), 500'000'000);
  EXPECT_EQ(ParseDuration("2m")->count(), 120'000'000'000);
  EXPECT_EQ(ParseDuration("1.5")->count(), 1'500'000'000);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("1e-54").ok());  // positive but under 1 ns: found by the fuzzer
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("10 parsecs").ok());
  EXPECT_FALSE(ParseDuration("abc").ok());
  EXPECT_EQ(ParseDuration("5x").error().kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace golens::profiler
