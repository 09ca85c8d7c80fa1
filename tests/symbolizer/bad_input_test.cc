// Truncated, corrupt and non-ELF input must give errors or "unknown" results:
// never a crash, a hang or an out-of-bounds read (the fuzz target runs the
// same paths under ASan/UBSan).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "symbolizer/elf_file.h"
#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_util.h"

namespace golens::symbolizer {
namespace {

using testing::Fixture;
using testing::ReadFile;

// Addresses spread over a typical Go text range.
std::vector<uint64_t> Probes() {
  std::vector<uint64_t> pcs;
  for (uint64_t pc = 0x401000; pc < 0x500000; pc += 0x1f3) pcs.push_back(pc);
  pcs.push_back(0);
  pcs.push_back(~uint64_t{0});
  return pcs;
}

void Exercise(std::vector<uint8_t> bytes) {
  auto b = Binary::FromBytes(std::move(bytes), "input");
  if (!b.ok()) {
    EXPECT_FALSE(b.error().message.empty());
    return;
  }
  auto pcs = Probes();
  auto r = (*b)->Symbolize(pcs);
  ASSERT_EQ(r.size(), pcs.size());
  for (const auto& s : r) EXPECT_TRUE(s.ok() || !s.error.empty());
  (*b)->FindSymbol("runtime.main");
  (*b)->FindSymbolsWithPrefix("runtime.map");
  (*b)->ReadVaddr(0x401000, 64);
  (*b)->FileOffsetToVaddr(0x1000);
}

TEST(BadInput, NonElfAndEmptyFiles) {
  auto r = Binary::FromBytes({}, "empty");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "empty: not an ELF file");
  r = Binary::FromBytes(std::vector<uint8_t>(4096, 0x41), "text");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not an ELF file"), std::string::npos);
  auto dir = Binary::Open("/tmp");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("/tmp"), std::string::npos);
  auto missing = Binary::Open("/nonexistent/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
  // A 32-bit ELF header is refused with a reason.
  std::vector<uint8_t> elf32(64, 0);
  std::memcpy(elf32.data(), "\x7f" "ELF\x01\x01\x01", 7);
  r = Binary::FromBytes(elf32, "elf32");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("64-bit"), std::string::npos);
}

TEST(BadInput, TruncatedBinariesAtManyLengths) {
  for (const char* name : {"local_plain.stripped", "1_23_12_cgopie.stripped", "1_21_13_pie.stripped"}) {
    SCOPED_TRACE(name);
    auto full = ReadFile(Fixture(name));
    ASSERT_GT(full.size(), 100000u);
    std::vector<size_t> lengths;
    for (size_t n = 0; n < 8192; n += 61) lengths.push_back(n);
    for (size_t k = 1; k < 64; ++k) lengths.push_back(full.size() * k / 64);
    lengths.push_back(full.size() - 1);
    for (size_t n : lengths) Exercise(std::vector<uint8_t>(full.begin(), full.begin() + n));
  }
}

TEST(BadInput, CorruptPclntabAndHeaders) {
  auto full = ReadFile(Fixture("local_plain.stripped"));
  auto elf = ElfFile::Parse(full);
  ASSERT_TRUE(elf.ok());
  const ElfSection* pcln = elf->FindSection(".gopclntab");
  ASSERT_NE(pcln, nullptr);
  const uint64_t base = pcln->offset;
  std::mt19937_64 rng(7);
  // Random byte flips focused on the pclntab header, functab and records.
  for (int iter = 0; iter < 150; ++iter) {
    auto bytes = full;
    int flips = 1 + static_cast<int>(rng() % 16);
    for (int i = 0; i < flips; ++i) {
      uint64_t region = rng() % 3;
      uint64_t span = region == 0 ? 72 : region == 1 ? 65536 : pcln->size;
      uint64_t off = base + rng() % span;
      bytes[off] = static_cast<uint8_t>(rng());
    }
    Exercise(std::move(bytes));
  }
  // Targeted: absurd counts and offsets in every header word.
  for (int word = 1; word < 9; ++word) {
    for (uint64_t value : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}, uint64_t{1} << 31, uint64_t{pcln->size}}) {
      auto bytes = full;
      std::memcpy(bytes.data() + base + 8 * word, &value, 8);
      Exercise(std::move(bytes));
    }
  }
  // Garbage ELF: section and program header tables pointing anywhere.
  for (int iter = 0; iter < 100; ++iter) {
    auto bytes = full;
    for (int i = 0; i < 8; ++i) bytes[16 + rng() % 48] = static_cast<uint8_t>(rng());
    Exercise(std::move(bytes));
  }
  // Random noise behind a valid ELF identification.
  for (int iter = 0; iter < 50; ++iter) {
    std::vector<uint8_t> noise(4096 + rng() % 65536);
    for (auto& b : noise) b = static_cast<uint8_t>(rng());
    std::memcpy(noise.data(), "\x7f" "ELF\x02\x01\x01", 7);
    Exercise(std::move(noise));
  }
}

}  // namespace
}  // namespace golens::symbolizer
