// libFuzzer over the native unwinder's inputs: the snapshot BPF wrote
// (registers, stack bytes, goroutine window, frame-pointer frames) and the
// unwind tables of the files it reads, in a fake process that maps real
// libc, a small library whose .eh_frame_hdr / .eh_frame the fuzzer corrupts,
// and (when built) the cgo fixture, a Go program. Whatever the input, the
// unwinder must end, stay inside the snapshot, and never report more frames
// than its limit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <elf.h>

#include "profiler/binary_record.h"
#include "profiler/native_unwind.h"
#include "symbolizer/elf_file.h"
#include "symbolizer/mapped_file.h"
#include "symbolizer/symbolizer.h"

namespace {

using namespace golens;
using profiler::MappingRecord;

// A file mapped at `base` through its executable PT_LOAD.
std::shared_ptr<const MappingRecord> MapExecutable(profiler::BinaryRegistry& registry,
                                                   std::shared_ptr<const symbolizer::Binary> binary,
                                                   std::span<const uint8_t> image, uint64_t base) {
  auto elf = symbolizer::ElfFile::Parse(image);
  if (!elf.ok()) return nullptr;
  for (const auto& seg : elf->segments()) {
    if (seg.type != PT_LOAD || !(seg.flags & PF_X)) continue;
    symbolizer::Mapping m;
    m.start = base + (seg.vaddr & ~uint64_t{4095});
    m.end = base + ((seg.vaddr + seg.memsz + 4095) & ~uint64_t{4095});
    m.file_offset = seg.offset & ~uint64_t{4095};
    m.perms = "r-xp";
    m.path = binary->path();
    return profiler::MakeMappingRecord(m, registry.Get(binary));
  }
  return nullptr;
}

class FakeProcess final : public profiler::CodeLookup {
 public:
  const MappingRecord* Find(uint64_t address) override {
    for (const auto& m : mappings)
      if (m && m->Contains(address)) return m.get();
    return nullptr;
  }
  std::vector<std::shared_ptr<const MappingRecord>> mappings;
};

struct Fixed {
  profiler::BinaryRegistry registry;
  std::shared_ptr<const MappingRecord> libc, go;
  std::vector<uint8_t> small;  // the library whose tables get corrupted
  uint64_t small_hdr = 0, small_hdr_size = 0;
};

Fixed& Setup() {
  static Fixed* f = [] {
    auto* f = new Fixed;
    if (auto libc = symbolizer::Binary::Open("/lib/x86_64-linux-gnu/libc.so.6"); libc.ok()) {
      auto image = symbolizer::FileImage::Map("/lib/x86_64-linux-gnu/libc.so.6");
      if (image.ok()) f->libc = MapExecutable(f->registry, *libc, image->bytes(), 0x7f0000000000);
    }
#ifdef GOLENS_CGO_FIXTURE
    if (auto go = symbolizer::Binary::Open(GOLENS_CGO_FIXTURE); go.ok()) {
      auto image = symbolizer::FileImage::Map(GOLENS_CGO_FIXTURE);
      if (image.ok()) f->go = MapExecutable(f->registry, *go, image->bytes(), 0);
    }
#endif
    if (auto image = symbolizer::FileImage::Map("/usr/lib/x86_64-linux-gnu/libdl.so.2"); image.ok()) {
      f->small.assign(image->bytes().begin(), image->bytes().end());
      if (auto elf = symbolizer::ElfFile::Parse(f->small); elf.ok()) {
        const auto* hdr = elf->FindSection(".eh_frame_hdr");
        const auto* frame = elf->FindSection(".eh_frame");
        if (hdr && frame) {
          f->small_hdr = hdr->offset;
          f->small_hdr_size = frame->offset + frame->size - hdr->offset;
        }
      }
    }
    return f;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixed& fixed = Setup();
  if (size < 1 + sizeof(golens_native_stack)) return 0;
  const uint8_t mode = data[0];
  golens_native_stack head;
  std::memcpy(&head, data + 1, sizeof(head));
  size_t at = 1 + sizeof(head);

  FakeProcess process;
  process.mappings.push_back(fixed.libc);
  process.mappings.push_back(fixed.go);
  // The small library, its unwind tables xor'ed with input bytes.
  std::shared_ptr<const MappingRecord> small;
  if (!fixed.small.empty() && (mode & 1)) {
    std::vector<uint8_t> copy = fixed.small;
    for (uint64_t i = 0; i < fixed.small_hdr_size && at < size; ++i) copy[fixed.small_hdr + i] ^= data[at++];
    auto binary = symbolizer::Binary::FromBytes(std::move(copy), "/fuzz/libsmall.so");
    if (binary.ok()) {
      // The copy lives in the Binary; its program headers are the original's.
      auto bytes = symbolizer::FileImage::Map("/usr/lib/x86_64-linux-gnu/libdl.so.2");
      if (bytes.ok()) small = MapExecutable(fixed.registry, *binary, bytes->bytes(), 0x7e0000000000);
    }
    process.mappings.push_back(small);
  }

  // Point the registers into mapped code when asked, so the CFI paths run.
  auto aim = [&](uint64_t v, int which) -> uint64_t {
    const auto& m = process.mappings[static_cast<size_t>(which) % process.mappings.size()];
    if (!m) return v;
    return m->start + v % (m->end - m->start);
  };
  if (mode & 2) head.ip = aim(head.ip, mode >> 4);

  size_t frames = 0;
  std::vector<uint64_t> fp;
  if (at < size) frames = data[at++] % 16;
  for (size_t i = 0; i < frames && at + 8 <= size; ++i, at += 8) {
    uint64_t v;
    std::memcpy(&v, data + at, 8);
    fp.push_back((mode & 4) ? aim(v, static_cast<int>(i)) : v);
  }
  std::span<const uint8_t> rest(data + at, size - at);
  head.stack_bytes = static_cast<uint32_t>(std::min<size_t>(rest.size(), GOLENS_NATIVE_MAX_STACK_BYTES));
  head.go_window_bytes = static_cast<uint32_t>(std::min<size_t>(
      rest.size() - head.stack_bytes, head.go_window_bytes % (GOLENS_NATIVE_GO_WINDOW_BYTES + 1)));
  if (mode & 8) head.go_window = head.sp + head.stack_bytes;  // adjacent, as a real goroutine stack can be
  std::vector<uint8_t> payload(sizeof(head) + head.stack_bytes + head.go_window_bytes);
  std::memcpy(payload.data(), &head, sizeof(head));
  std::memcpy(payload.data() + sizeof(head), rest.data(), head.stack_bytes + head.go_window_bytes);

  auto snapshot = profiler::DecodeNativeStack(payload);
  if (!snapshot.ok()) return 0;
  static profiler::NativeUnwinder unwinder;
  profiler::NativeStack stack = unwinder.Unwind(*snapshot, fp, process, 64);
  if (stack.frames.size() > 64 + 16) __builtin_trap();
  return 0;
}
