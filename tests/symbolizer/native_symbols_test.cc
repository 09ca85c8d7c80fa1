// Native frames: libc, a cgo C function, C++ (demangled) through /proc/self.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens_symbolizer_probe {
// Lives in this test binary; its mangled name is in .symtab.
__attribute__((noinline)) int MangledProbe(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}
}  // namespace golens_symbolizer_probe

namespace golens::symbolizer {
namespace {

using testing::Fixture;

TEST(NativeSymbols, LibcAndCxxInOwnProcess) {
  BinaryCache cache;
  auto ps = ProcessSymbolizer::Create(getpid(), &cache);
  ASSERT_TRUE(ps.ok()) << ps.error().message;
  void* getpid_addr = dlsym(RTLD_DEFAULT, "getpid");
  void* qsort_addr = dlsym(RTLD_DEFAULT, "qsort");
  ASSERT_NE(getpid_addr, nullptr);
  const uint64_t probe = reinterpret_cast<uint64_t>(&golens_symbolizer_probe::MangledProbe);
  std::vector<uint64_t> addrs = {reinterpret_cast<uint64_t>(getpid_addr) + 1,
                                 reinterpret_cast<uint64_t>(qsort_addr) + 2, probe + 1};
  auto r = (*ps)->Symbolize(addrs);
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[0].ok()) << r[0].error;
  EXPECT_EQ(r[0].frames[0].function, "getpid");
  ASSERT_TRUE(r[1].ok()) << r[1].error;
  EXPECT_EQ(r[1].frames[0].function, "qsort");
  ASSERT_TRUE(r[2].ok()) << r[2].error;
  EXPECT_EQ(r[2].frames[0].function, "golens_symbolizer_probe::MangledProbe(int)");
  EXPECT_EQ(r[2].frames[0].system_name, "_ZN23golens_symbolizer_probe12MangledProbeEi");

  // Normalization: libc is a shared object, its load bias is applied.
  auto n = (*ps)->Normalize(reinterpret_cast<uint64_t>(getpid_addr));
  ASSERT_TRUE(n.has_value());
  const Mapping& m = (*ps)->mappings()[n->mapping_index];
  EXPECT_NE(m.path.find("libc"), std::string::npos) << m.path;
  auto libc = (*ps)->BinaryFor(n->mapping_index);
  ASSERT_TRUE(libc);
  EXPECT_FALSE(libc->is_go());
  EXPECT_TRUE(libc->is_pie());
  EXPECT_FALSE(libc->build_id().empty());
  auto sym = libc->FindSymbol("getpid");
  ASSERT_TRUE(sym.has_value());
  EXPECT_EQ(n->vaddr, sym->vaddr);
}

TEST(NativeSymbols, CgoCFunctionResolvesByName) {
  for (const char* name : {"local_cgo", "1_23_12_cgo", "1_23_12_cgopie"}) {
    SCOPED_TRACE(name);
    auto b = Binary::Open(Fixture(name));
    ASSERT_TRUE(b.ok()) << b.error().message;
    auto sym = (*b)->FindSymbol("golens_c_work");
    ASSERT_TRUE(sym.has_value());
    EXPECT_GT(sym->size, 8u);
    auto r = (*b)->Symbolize(std::vector<uint64_t>{sym->vaddr + 4, sym->vaddr + sym->size - 1});
    for (const auto& s : r) {
      ASSERT_TRUE(s.ok()) << s.error;
      ASSERT_EQ(s.frames.size(), 1u);
      EXPECT_EQ(s.frames[0].function, "golens_c_work");
    }
    auto containing = (*b)->FunctionContaining(sym->vaddr + 4);
    ASSERT_TRUE(containing.has_value());
    EXPECT_EQ(containing->name, "golens_c_work");
    EXPECT_EQ(containing->vaddr, sym->vaddr);
    // Go code of the same binary still goes through the pclntab.
    auto go = (*b)->FindSymbol("main._Cfunc_golens_c_work");
    ASSERT_TRUE(go.has_value());
    auto g = (*b)->Symbolize(std::vector<uint64_t>{go->vaddr});
    ASSERT_TRUE(g[0].ok());
    EXPECT_EQ(g[0].frames.back().function, "main._Cfunc_golens_c_work");
    EXPECT_GT(g[0].frames.back().line, 0);
  }
}

}  // namespace
}  // namespace golens::symbolizer
