#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::Fixture;
using testing::RunCommand;

constexpr const char* kWork = "example.com/golens/testprog/internal/work.";

std::shared_ptr<const Binary> MustOpen(const std::string& name) {
  auto b = Binary::Open(Fixture(name));
  EXPECT_TRUE(b.ok()) << name << ": " << (b.ok() ? "" : b.error().message);
  return b.ok() ? *b : nullptr;
}

TEST(Binary, BuildInfoAndBuildIds) {
  auto b = MustOpen("local_plain.stripped");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_go());
  EXPECT_FALSE(b->is_pie());
  EXPECT_EQ(b->go_version(), GOLENS_SYM_LOCAL_GO_VERSION);
  EXPECT_EQ(b->main_module(), "example.com/golens/testprog");
  // Go >= 1.24 also writes a GNU build-id note: it wins, as hex.
  auto note = RunCommand("readelf -n " + Fixture("local_plain.stripped") + " | sed -n 's/.*Build ID: //p'");
  ASSERT_EQ(note.exit_code, 0);
  while (!note.out.empty() && note.out.back() == '\n') note.out.pop_back();
  ASSERT_FALSE(note.out.empty());
  EXPECT_EQ(b->build_id(), note.out);
  // Go 1.23 internal linking has only the Go build ID note.
  auto g = MustOpen("1_23_12_plain.stripped");
  ASSERT_TRUE(g);
  auto id = RunCommand("GOTOOLCHAIN=local go tool buildid " + Fixture("1_23_12_plain.stripped"));
  ASSERT_EQ(id.exit_code, 0);
  while (!id.out.empty() && id.out.back() == '\n') id.out.pop_back();
  EXPECT_EQ(g->build_id(), id.out);

  // External linking (cgo) carries a GNU build-id: hex.
  auto c = MustOpen("local_cgo");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->build_id().find_first_not_of("0123456789abcdef"), std::string::npos) << c->build_id();
  EXPECT_GE(c->build_id().size(), 40u);

  auto old = MustOpen("1_21_13_pie.stripped");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->go_version(), "go1.21.13");
  EXPECT_TRUE(old->is_pie());
}

TEST(Binary, FindSymbolAndReadVaddrOnStrippedBinary) {
  for (const char* name : {"local_plain.stripped", "local_pie.stripped", "1_23_12_cgopie.stripped",
                           "1_21_13_plain.stripped", "1_27_4_plain.stripped"}) {
    SCOPED_TRACE(name);
    auto b = MustOpen(name);
    ASSERT_TRUE(b);
    auto sc = b->FindSymbol("runtime.stackcheck");
    ASSERT_TRUE(sc.has_value());
    EXPECT_GT(sc->size, 4u);
    auto code = b->ReadVaddr(sc->vaddr, sc->size);
    ASSERT_EQ(code.size(), sc->size);
    // Go 1.21+ stackcheck is an asm function that starts by loading g from TLS
    // (mov %fs:..., or mov $off,%rcx + mov %fs:(%rcx)): a 0x64 (FS) prefix is in there.
    EXPECT_NE(std::find(code.begin(), code.end(), 0x64), code.end());
    auto r = b->Symbolize(std::vector<uint64_t>{sc->vaddr});
    ASSERT_TRUE(r[0].ok());
    EXPECT_EQ(r[0].frames[0].function, "runtime.stackcheck");
    auto containing = b->FunctionContaining(sc->vaddr + sc->size - 1);
    ASSERT_TRUE(containing.has_value());
    EXPECT_EQ(containing->name, "runtime.stackcheck");
    EXPECT_EQ(containing->vaddr, sc->vaddr);
    EXPECT_EQ(containing->size, sc->size);
    EXPECT_FALSE(b->FunctionContaining(0x10).has_value());
    // Second lookup goes through the name index built by the first.
    EXPECT_EQ(b->FindSymbol("runtime.stackcheck")->vaddr, sc->vaddr);

    auto maps = b->FindSymbolsWithPrefix("runtime.mapaccess");
    EXPECT_GE(maps.size(), 2u);
    for (const auto& s : maps) EXPECT_EQ(s.name.rfind("runtime.mapaccess", 0), 0u) << s.name;
    EXPECT_FALSE(b->FindSymbol("no.such.function").has_value());
    // The file offset of the entry maps back to its vaddr.
    auto spin = b->FindSymbol(std::string(kWork) + "Spin");
    ASSERT_TRUE(spin.has_value());
    EXPECT_TRUE(b->FileOffsetToVaddr(0).has_value());
  }
}

TEST(Binary, FileOffsetToVaddrForGoLayout) {
  auto b = MustOpen("local_plain");
  ASSERT_TRUE(b);
  // Go's internal linker puts text at file offset 0x1000, vaddr 0x401000 (amd64).
  EXPECT_EQ(b->FileOffsetToVaddr(0x1000), 0x401000u);
  EXPECT_FALSE(b->FileOffsetToVaddr(uint64_t{1} << 40).has_value());
}

TEST(Binary, InlineChainStartLinesAndGenericNames) {
  auto b = MustOpen("local_plain.stripped");
  ASSERT_TRUE(b);
  auto outer = b->FindSymbol(std::string(kWork) + "Outer");
  ASSERT_TRUE(outer.has_value());
  std::vector<uint64_t> pcs;
  for (uint64_t pc = outer->vaddr; pc < outer->vaddr + outer->size; ++pc) pcs.push_back(pc);
  auto r = b->Symbolize(pcs);
  bool found = false;
  for (size_t k = 0; k < r.size(); ++k) {
    const auto& s = r[k];
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s.frames.back().function, std::string(kWork) + "Outer");
    EXPECT_EQ(b->FunctionContaining(pcs[k])->name, std::string(kWork) + "Outer");
    EXPECT_FALSE(s.frames.back().inlined);
    EXPECT_EQ(s.frames.back().start_line, 21);
    if (s.frames.size() == 3) {
      found = true;
      EXPECT_EQ(s.frames[0].function, std::string(kWork) + "inl2");
      EXPECT_EQ(s.frames[0].line, 17);
      EXPECT_EQ(s.frames[0].start_line, 17);
      EXPECT_TRUE(s.frames[0].inlined);
      EXPECT_EQ(s.frames[1].function, std::string(kWork) + "inl1");
      EXPECT_EQ(s.frames[1].line, 18);
      EXPECT_EQ(s.frames[2].line, 24);
      EXPECT_NE(s.frames[0].file.find("internal/work/work.go"), std::string::npos);
    }
  }
  EXPECT_TRUE(found) << "no pc of work.Outer has the inl2 <- inl1 <- Outer chain";

  auto generic = b->FindSymbolsWithPrefix("example.com/golens/testprog/internal/shapes.Map[");
  ASSERT_FALSE(generic.empty());
  auto g = b->Symbolize(std::vector<uint64_t>{generic[0].vaddr});
  ASSERT_TRUE(g[0].ok());
  // The full symbol name, shape arguments included, as runtime/pprof writes it.
  EXPECT_EQ(g[0].frames[0].function, generic[0].name);
  EXPECT_NE(g[0].frames[0].function.find("[go.shape."), std::string::npos) << g[0].frames[0].function;
  EXPECT_TRUE(g[0].frames[0].system_name.empty() || g[0].frames[0].system_name == generic[0].name);
}

TEST(Binary, BatchKeepsInputOrderAndCount) {
  auto b = MustOpen("1_23_12_plain.stripped");
  ASSERT_TRUE(b);
  auto funcs = b->FindSymbolsWithPrefix("runtime.");
  ASSERT_GT(funcs.size(), 500u);
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < funcs.size(); i += 3) pcs.push_back(funcs[i].vaddr + funcs[i].size / 2);
  pcs.push_back(0);                      // unknown
  pcs.push_back(pcs[0]);                 // duplicate
  pcs.push_back(0xffffffffffffff00ull);  // unknown
  std::mt19937 rng(42);
  std::shuffle(pcs.begin(), pcs.end(), rng);
  auto batch = b->Symbolize(pcs);
  ASSERT_EQ(batch.size(), pcs.size());
  for (size_t i = 0; i < pcs.size(); ++i) {
    auto one = b->Symbolize(std::span<const uint64_t>(&pcs[i], 1));
    ASSERT_EQ(one.size(), 1u);
    ASSERT_EQ(batch[i].frames.size(), one[0].frames.size()) << i;
    for (size_t k = 0; k < one[0].frames.size(); ++k) {
      EXPECT_EQ(batch[i].frames[k].function, one[0].frames[k].function);
      EXPECT_EQ(batch[i].frames[k].line, one[0].frames[k].line);
    }
    if (pcs[i] == 0 || pcs[i] == 0xffffffffffffff00ull) {
      EXPECT_FALSE(batch[i].ok());
      EXPECT_FALSE(batch[i].error.empty());
    } else {
      EXPECT_TRUE(batch[i].ok()) << std::hex << pcs[i];
    }
  }
  EXPECT_TRUE(b->Symbolize({}).empty());

  // The zero-copy visitor: every input exactly once, ascending addresses,
  // same frames as the vector API.
  std::vector<int> visits(pcs.size(), 0);
  uint64_t last = 0;
  b->SymbolizeVisit(pcs, [&](size_t i, std::span<const FrameView> frames, std::string_view error) {
    ASSERT_LT(i, pcs.size());
    ++visits[i];
    EXPECT_GE(pcs[i], last);
    last = pcs[i];
    ASSERT_EQ(frames.size(), batch[i].frames.size());
    for (size_t k = 0; k < frames.size(); ++k) {
      EXPECT_EQ(frames[k].function, batch[i].frames[k].function);
      EXPECT_EQ(frames[k].file, batch[i].frames[k].file);
      EXPECT_EQ(frames[k].line, batch[i].frames[k].line);
      EXPECT_EQ(frames[k].inlined, batch[i].frames[k].inlined);
    }
    EXPECT_EQ(error, batch[i].error);
  });
  for (int v : visits) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace golens::symbolizer

namespace golens::symbolizer {
namespace {

// Hand-built binaries (tests/symbolizer/make_fuzz_seeds.py): every way of
// finding the pclntab, textStart and the inline tree, down to a file without
// section headers where only the magic search can find the table.
TEST(Binary, SyntheticLayouts) {
  for (const char* seed : {"go120_sections.elf", "go126_textstart_from_moduledata.elf", "go118_format.elf",
                           "go116_format.elf", "go124_no_symtab.elf", "go120_no_section_headers.elf"}) {
    SCOPED_TRACE(seed);
    auto b = Binary::Open(std::string(GOLENS_SYM_TESTDATA) + "/fuzz_corpus/" + seed);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_TRUE((*b)->is_go());
    EXPECT_EQ((*b)->build_id(), "seed-go-build-id");
    auto r = (*b)->Symbolize(std::vector<uint64_t>{0x40100a, 0x401000, 0x401021, 0x401040});
    ASSERT_TRUE(r[0].ok()) << r[0].error;
    ASSERT_EQ(r[0].frames.size(), 2u);
    EXPECT_EQ(r[0].frames[0].function, "main.inl");
    EXPECT_EQ(r[0].frames[0].line, 3);
    EXPECT_TRUE(r[0].frames[0].inlined);
    EXPECT_EQ(r[0].frames[1].function, "main.main");
    EXPECT_EQ(r[0].frames[1].file, "/src/main.go");
    EXPECT_EQ(r[0].frames[1].line, 10);
    ASSERT_TRUE(r[1].ok());
    EXPECT_EQ(r[1].frames.size(), 1u);
    ASSERT_TRUE(r[2].ok());
    EXPECT_EQ(r[2].frames[0].function, "main.inl");
    if (std::string(seed) == "go124_no_symtab.elf" || std::string(seed) == "go120_no_section_headers.elf") {
      EXPECT_FALSE(r[3].ok());
    } else {
      ASSERT_TRUE(r[3].ok());
      EXPECT_EQ(r[3].frames[0].function, "c_helper");  // past the pclntab: ELF symbols
    }
  }
}


// A batch shares decoding work between addresses of the same function (runs
// decoded once, call sites found by binary search, galloping function search):
// every answer must equal the one a fresh lookup of that address alone gives,
// whatever the batch order, duplicates included.
TEST(Binary, BatchAnswersEqualSingleLookups) {
  for (const char* name : {"local_plain.stripped", "1_23_12_cgo", "1_21_13_plain.stripped"}) {
    auto b = MustOpen(name);
    ASSERT_TRUE(b);
    auto funcs = b->FindSymbolsWithPrefix("");
    ASSERT_GT(funcs.size(), 100u);
    std::mt19937_64 rng(7);
    std::vector<uint64_t> addrs;
    while (addrs.size() < 6000) {
      const Symbol& f = funcs[rng() % funcs.size()];
      if (f.size == 0) continue;
      addrs.push_back(f.vaddr + rng() % f.size);
      if (rng() % 8 == 0) addrs.push_back(addrs.back());  // duplicate
      if (rng() % 8 == 0) addrs.push_back(f.vaddr + f.size - 1);  // last byte
    }
    addrs.push_back(0x10);
    std::vector<uint64_t> descending = addrs;
    std::sort(descending.rbegin(), descending.rend());
    for (const auto* batch : {&addrs, &descending}) {
      auto all = b->Symbolize(*batch);
      ASSERT_EQ(all.size(), batch->size());
      size_t inlined = 0;
      for (size_t i = 0; i < batch->size(); ++i) {
        auto one = b->Symbolize(std::span<const uint64_t>(&(*batch)[i], 1));
        ASSERT_EQ(one.size(), 1u);
        const auto& x = all[i].frames;
        const auto& y = one[0].frames;
        ASSERT_EQ(x.size(), y.size()) << name << " 0x" << std::hex << (*batch)[i];
        for (size_t k = 0; k < x.size(); ++k) {
          EXPECT_EQ(x[k].function, y[k].function);
          EXPECT_EQ(x[k].file, y[k].file);
          EXPECT_EQ(x[k].line, y[k].line) << name << " 0x" << std::hex << (*batch)[i];
          EXPECT_EQ(x[k].start_line, y[k].start_line);
          EXPECT_EQ(x[k].inlined, y[k].inlined);
        }
        inlined += x.size() > 1;
      }
      EXPECT_GT(inlined, 100u) << name << ": the batch must exercise inline call sites";
    }
  }
}

}  // namespace
}  // namespace golens::symbolizer
