// libFuzzer target over the ELF, build-info and pclntab parsers: parse the
// input as a binary, then symbolize a few addresses derived from it.
#include <cstdint>
#include <cstring>
#include <vector>

#include "symbolizer/symbolizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using golens::symbolizer::Binary;
  auto binary = Binary::FromBytes(std::vector<uint8_t>(data, data + size), "fuzz");
  if (!binary.ok()) return 0;
  const Binary& b = **binary;
  std::vector<uint64_t> pcs = {0, 0x401000, 0x400000 + size / 2, ~uint64_t{0}};
  // Addresses taken from the input itself reach deeper into the tables.
  for (size_t off = 0; off + 8 <= size && pcs.size() < 16; off += size / 8 + 8) {
    uint64_t v;
    std::memcpy(&v, data + off, 8);
    pcs.push_back(v);
  }
  if (auto f = b.FindSymbol("main.main")) {
    pcs.push_back(f->vaddr);
    pcs.push_back(f->vaddr + f->size / 2);
  }
  auto results = b.Symbolize(pcs);
  if (results.size() != pcs.size()) __builtin_trap();
  b.FindSymbolsWithPrefix("runtime.mapaccess");
  b.ReadVaddr(0x401000, 32);
  b.FileOffsetToVaddr(size / 3);
  return 0;
}
