// The native unwinder without BPF or root: snapshots of this very process's
// stack (registers and stack bytes taken as BPF takes them) unwound through
// the real ELF files it maps, and the ways a snapshot can be bad (unmapped
// addresses, too little stack, a library gone, contradictions), which must
// cut the stack and say why, never crash or invent frames. Also detached
// debug symbols (libc6-dbg).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "profiler/binary_record.h"
#include "profiler/cpu_profile.h"
#include "profiler/recorder.h"
#include "profiler/sample_record.h"
#include "profiler/native_unwind.h"
#include "profiler/process_source.h"
#include "symbolizer/debug_file.h"
#include "symbolizer/elf_file.h"
#include "symbolizer/mapped_file.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";

// This process's executable mappings, as the recorder keeps them.
class SelfCode final : public CodeLookup {
 public:
  SelfCode() {
    auto maps = source_.Mappings(getpid());
    if (!maps.ok()) return;
    for (const auto& m : *maps) {
      if (!m.executable()) continue;
      std::shared_ptr<BinaryRecord> binary;
      if (!m.path.empty() && m.path[0] == '/') {
        if (auto opened = source_.OpenBinary(getpid(), m); opened.ok()) binary = registry_.Get(*opened);
      }
      mappings_.push_back(MakeMappingRecord(m, std::move(binary)));
    }
  }
  const MappingRecord* Find(uint64_t address) override {
    for (const auto& m : mappings_)
      if (m->Contains(address)) return m.get();
    return nullptr;
  }
  // Drops the mapping of `address` (a library unmapped before its samples are unwound).
  void Unmap(uint64_t address) {
    std::erase_if(mappings_, [&](const auto& m) { return m->Contains(address); });
  }
  std::string Name(uint64_t address, bool leaf) {
    const MappingRecord* m = Find(address);
    if (!m || !m->binary) return "?";
    auto vaddr = m->Vaddr(leaf ? address : address - 1);
    if (!vaddr) return "?";
    auto r = m->binary->binary().Symbolize(std::span<const uint64_t>(&*vaddr, 1));
    return r[0].ok() ? r[0].frames.back().function : "?";
  }
  size_t size() const { return mappings_.size(); }

 private:
  ProcfsSource source_;
  BinaryRegistry registry_;
  std::vector<std::shared_ptr<const MappingRecord>> mappings_;
};

// What BPF copies: registers, then the stack from sp up (at most `limit`
// bytes, never past the end of the stack mapping).
struct Capture {
  golens_native_stack head{};
  std::vector<uint8_t> bytes;
  NativeSnapshot snapshot() const {
    NativeSnapshot s;
    s.head = head;
    s.stack = bytes;
    return s;
  }
};

uint64_t StackEnd(uint64_t sp) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    uint64_t hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    if (sp >= lo && sp < hi) return hi;
  }
  return sp;
}

__attribute__((noinline)) void TakeSnapshot(Capture* c, size_t limit) {
  uint64_t regs[8];
  asm volatile(
      "lea 0(%%rip), %%rax\n\t"
      "mov %%rax, 0(%0)\n\t"
      "mov %%rsp, 8(%0)\n\t"
      "mov %%rbp, 16(%0)\n\t"
      "mov %%rbx, 24(%0)\n\t"
      "mov %%r12, 32(%0)\n\t"
      "mov %%r13, 40(%0)\n\t"
      "mov %%r14, 48(%0)\n\t"
      "mov %%r15, 56(%0)\n\t"
      :
      : "r"(regs)
      : "rax", "memory");
  c->head.ip = regs[0];
  c->head.sp = regs[1];
  c->head.bp = regs[2];
  c->head.bx = regs[3];
  c->head.r12 = regs[4];
  c->head.r13 = regs[5];
  c->head.r14 = regs[6];
  c->head.r15 = regs[7];
  c->head.flags = GOLENS_NATIVE_FROM_PC;
  size_t n = std::min<uint64_t>(limit, StackEnd(c->head.sp) - c->head.sp);
  c->bytes.assign(reinterpret_cast<const uint8_t*>(c->head.sp), reinterpret_cast<const uint8_t*>(c->head.sp) + n);
  c->head.stack_bytes = static_cast<uint32_t>(n);
}

__attribute__((noinline)) void Level3(Capture* c, size_t limit) {
  TakeSnapshot(c, limit);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void Level2(Capture* c, size_t limit) {
  Level3(c, limit);
  asm volatile("" ::: "memory");
}
__attribute__((noinline)) void Level1(Capture* c, size_t limit) {
  Level2(c, limit);
  asm volatile("" ::: "memory");
}

std::vector<std::string> Names(SelfCode& code, const NativeStack& stack) {
  std::vector<std::string> names;
  for (size_t i = 0; i < stack.frames.size(); ++i) names.push_back(code.Name(stack.frames[i], i == 0));
  return names;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " <- ";
  return out;
}

TEST(NativeUnwind, OwnStackUnwindsThroughCfiToTheThreadStart) {
  SelfCode code;
  ASSERT_GT(code.size(), 2u) << "could not read /proc/self/maps";
  Capture c;
  Level1(&c, GOLENS_NATIVE_MAX_STACK_BYTES * 4);  // the whole stack: this checks the unwinder, not the copy size
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), {}, code, 512);
  auto names = Names(code, stack);
  auto at = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  ASSERT_LT(at("golens::profiler::(anonymous namespace)::Level1(golens::profiler::(anonymous namespace)::Capture*, unsigned long)"),
            static_cast<long>(names.size()))
      << Join(names);
  EXPECT_LT(at("golens::profiler::(anonymous namespace)::Level3(golens::profiler::(anonymous namespace)::Capture*, unsigned long)"),
            at("golens::profiler::(anonymous namespace)::Level2(golens::profiler::(anonymous namespace)::Capture*, unsigned long)"))
      << Join(names);
  EXPECT_LT(at("main"), static_cast<long>(names.size())) << Join(names);
  EXPECT_EQ(stack.cut, NativeCut::kNone) << Join(names);
  EXPECT_EQ(stack.native_frames, stack.frames.size());
}

TEST(NativeUnwind, TooLittleStackIsCutNotGuessed) {
  SelfCode code;
  Capture c;
  Level1(&c, 64);
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), {}, code);
  ASSERT_FALSE(stack.frames.empty());
  EXPECT_EQ(stack.frames[0], c.head.ip);
  EXPECT_EQ(stack.cut, NativeCut::kStackShort) << Join(Names(code, stack));
  EXPECT_LT(stack.frames.size(), 4u);
}

TEST(NativeUnwind, PcInUnmappedMemoryIsCut) {
  SelfCode code;
  Capture c;
  Level1(&c, 4096);
  c.head.ip = 0x10;  // nothing is mapped there
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), {}, code);
  EXPECT_EQ(stack.frames, std::vector<uint64_t>{0x10});
  EXPECT_EQ(stack.cut, NativeCut::kNoUnwindInfo);
}

TEST(NativeUnwind, LibraryUnmappedBeforeItsSampleIsCut) {
  SelfCode code;
  Capture c;
  Level1(&c, 16384);
  code.Unmap(c.head.ip);  // the code the sample is in is gone
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), {}, code);
  EXPECT_EQ(stack.frames, std::vector<uint64_t>{c.head.ip});
  EXPECT_EQ(stack.cut, NativeCut::kNoUnwindInfo);
}

TEST(NativeUnwind, SnapshotThatContradictsTheFramePointerWalkIsMarked) {
  SelfCode code;
  Capture c;
  Level1(&c, 4096);
  c.head.flags = GOLENS_NATIVE_FROM_FP_WALK;
  c.head.go_frames = 2;
  std::vector<uint64_t> fp = {0x1000, 0x2000, 0x3000};  // fp[2] is not where the snapshot starts
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), fp, code);
  EXPECT_EQ(stack.frames, fp);
  EXPECT_EQ(stack.cut, NativeCut::kBadSnapshot);
}

TEST(NativeUnwind, GarbageStackNeverCrashes) {
  SelfCode code;
  Capture c;
  Level1(&c, 4096);
  // Return addresses replaced by pointers into code at odd places and
  // into the stack itself: whatever libunwind makes of it, every frame it
  // reports came from CFI, and the walk ends.
  for (size_t i = 0; i + 8 <= c.bytes.size(); i += 8) {
    uint64_t v = (i % 16 == 0) ? c.head.ip + i : c.head.sp + i * 3;
    std::memcpy(c.bytes.data() + i, &v, 8);
  }
  NativeUnwinder unwinder;
  NativeStack stack = unwinder.Unwind(c.snapshot(), {}, code);
  ASSERT_FALSE(stack.frames.empty());
  EXPECT_LE(stack.frames.size(), NativeUnwinder::kMaxFrames);
}

TEST(NativeUnwind, DecodeRejectsMalformedSections) {
  std::vector<uint8_t> payload(sizeof(golens_native_stack) + 16, 0);
  golens_native_stack head{};
  head.flags = GOLENS_NATIVE_FROM_PC;
  head.stack_bytes = 16;
  std::memcpy(payload.data(), &head, sizeof(head));
  auto ok = DecodeNativeStack(payload);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->stack.size(), 16u);
  EXPECT_FALSE(DecodeNativeStack(std::span<const uint8_t>(payload).first(20)).ok());  // short head
  head.stack_bytes = 24;  // past the end
  std::memcpy(payload.data(), &head, sizeof(head));
  EXPECT_FALSE(DecodeNativeStack(payload).ok());
  head.stack_bytes = 16;
  head.flags = 0;  // no origin
  std::memcpy(payload.data(), &head, sizeof(head));
  EXPECT_FALSE(DecodeNativeStack(payload).ok());
}

// ---- through the recorder: a sample record as BPF writes it -----------------

// Leaf-first function names of the profile's only stack with `leaf`.
std::vector<std::string> ProfileStack(const pprof::Profile& p, const std::string& leaf_prefix) {
  pprof::ProfileIndex index(p);
  for (const auto& s : p.samples) {
    std::vector<std::string> names;
    for (uint64_t id : s.location_ids) {
      const pprof::Location* loc = index.location(id);
      if (!loc) continue;
      for (const auto& line : loc->lines) {
        const pprof::Function* fn = index.function(line.function_id);
        names.push_back(fn ? fn->name : "?");
      }
    }
    if (!names.empty() && names[0].rfind(leaf_prefix, 0) == 0) return names;
  }
  return {};
}

pprof::Profile RecordOne(const Capture& c, std::vector<uint64_t> fp_frames) {
  ProcfsSource source;
  BinaryRegistry binaries;
  Recorder recorder(RecorderOptions{}, &source, &binaries);
  EXPECT_TRUE(recorder.Attach(getpid(), false).ok());
  SampleRecordBuilder b;
  b.head().tgid = static_cast<uint32_t>(getpid());
  b.head().tid = static_cast<uint32_t>(getpid());
  auto start = source.StartTicks(getpid());
  EXPECT_TRUE(start.ok());
  b.head().start_ns = (start.ok() ? *start : 0) * (1000000000ull / ClockTicksPerSecond());
  b.User(std::move(fp_frames));
  std::vector<uint8_t> payload(sizeof(c.head) + c.bytes.size());
  std::memcpy(payload.data(), &c.head, sizeof(c.head));
  std::memcpy(payload.data() + sizeof(c.head), c.bytes.data(), c.bytes.size());
  b.Section(GOLENS_SECTION_NATIVE_STACK, 0, payload);
  recorder.OnRecord(b.bytes());
  EXPECT_EQ(recorder.stats().native_unwound, 1u);
  auto interval = recorder.TakeInterval(WallClockNanos());
  return BuildCpuProfile(*interval, CpuProfileOptions{});
}

TEST(NativeRecorder, SnapshotSectionBecomesTheWholeStack) {
  Capture c;
  Level1(&c, GOLENS_NATIVE_MAX_STACK_BYTES);
  // The frame-pointer walk BPF made would stop at once in code without them.
  pprof::Profile p = RecordOne(c, {c.head.ip});
  auto names = ProfileStack(p, "golens::profiler::(anonymous namespace)::TakeSnapshot");
  ASSERT_FALSE(names.empty()) << "no sample in TakeSnapshot";
  std::string all = Join(names);
  EXPECT_NE(all.find("Level3"), std::string::npos) << all;
  EXPECT_NE(all.find("Level1"), std::string::npos) << all;
  EXPECT_EQ(all.find("[unwind cut"), std::string::npos) << all;
}

TEST(NativeRecorder, CutStackEndsInAFrameThatSaysWhy) {
  Capture c;
  Level1(&c, 64);
  pprof::Profile p = RecordOne(c, {c.head.ip});
  auto names = ProfileStack(p, "golens::profiler::(anonymous namespace)::TakeSnapshot");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "[unwind cut: stack not copied]") << Join(names);
}

// ---- detached debug symbols ------------------------------------------------

TEST(DebugSymbols, LibcLocalFunctionsByNameFromLibc6Dbg) {
  auto libc = symbolizer::Binary::Open(kLibc);
  ASSERT_TRUE(libc.ok()) << libc.error().message;
  ASSERT_NE((*libc)->debug_file(), "")
      << "no debug file for " << kLibc << " (build ID " << (*libc)->build_id()
      << ") under /usr/lib/debug/.build-id: install libc6-dbg (make deps does)";
  auto msort = (*libc)->FindSymbol("msort_with_tmp.part.0");
  ASSERT_TRUE(msort.has_value()) << "libc's debug symbols have no msort_with_tmp";
  uint64_t inside = msort->vaddr + 4;
  auto r = (*libc)->Symbolize(std::span<const uint64_t>(&inside, 1));
  ASSERT_TRUE(r[0].ok());
  EXPECT_EQ(r[0].frames[0].function, "msort_with_tmp.part.0");
}

TEST(DebugSymbols, ADebugFileOfAnotherBuildIsIgnored) {
  auto image = symbolizer::FileImage::Map(kLibc);
  ASSERT_TRUE(image.ok());
  auto elf = symbolizer::ElfFile::Parse(image->bytes());
  ASSERT_TRUE(elf.ok());
  auto libc = symbolizer::Binary::Open(kLibc);
  ASSERT_TRUE(libc.ok());
  const std::string id = (*libc)->build_id();
  ASSERT_GT(id.size(), 2u);
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("golens-debug-root-" + std::to_string(getpid()));
  fs::create_directories(root / ".build-id" / id.substr(0, 2));
  fs::path file = root / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug");
  // A real ELF file, but not libc's debug file: its build ID differs.
  fs::copy_file("/proc/self/exe", file, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(symbolizer::FindDebugFile(*elf, id, kLibc, root.string()).has_value());
  // The real one is found under the real root.
  EXPECT_TRUE(symbolizer::FindDebugFile(*elf, id, kLibc, symbolizer::kDefaultDebugRoot).has_value());
  fs::remove_all(root);
}

}  // namespace
}  // namespace golens::profiler
