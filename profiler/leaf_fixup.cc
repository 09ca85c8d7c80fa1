#include "profiler/leaf_fixup.h"

#include <algorithm>

#include "profiler/target_process.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

const FunctionFrameInfo* LeafFixup::FrameInfo(const std::shared_ptr<const symbolizer::Binary>& binary,
                                              uint64_t vaddr) {
  PerBinary& per = binaries_[binary.get()];
  if (!per.binary) per.binary = binary;
  auto cached = per.by_pc.find(vaddr);
  if (cached != per.by_pc.end()) return cached->second;

  const FunctionFrameInfo* result = nullptr;
  std::optional<symbolizer::Symbol> fn = binary->FunctionContaining(vaddr);
  if (fn && fn->size > 0 && vaddr >= fn->vaddr && vaddr < fn->vaddr + fn->size) {
    auto it = per.by_entry.find(fn->vaddr);
    if (it == per.by_entry.end()) {
      size_t size = static_cast<size_t>(std::min<uint64_t>(fn->size, 1 << 16));
      std::span<const uint8_t> code = binary->ReadVaddr(fn->vaddr, size);
      auto info = std::make_unique<FunctionFrameInfo>(
          code.size() == size ? AnalyzeFunctionFrame(code.data(), code.size(), fn->vaddr)
                              : FunctionFrameInfo{});
      it = per.by_entry.emplace(fn->vaddr, std::move(info)).first;
    }
    result = it->second.get();
  }
  per.by_pc.emplace(vaddr, result);
  return result;
}

namespace {

// Frame-pointer walks through code built without frame pointers (native
// libraries, not Go) run into garbage: small integers, stack addresses. A
// return address must point into executable memory of the process; the
// stack is cut at the first one that does not.
bool InExecutableMapping(uint64_t address, const symbolizer::ProcessSymbolizer& symbolizer) {
  auto index = symbolizer.MappingIndex(address);
  return index && symbolizer.mappings()[*index].executable();
}

size_t PlausibleDepth(const std::vector<uint64_t>& stack, const symbolizer::ProcessSymbolizer& symbolizer) {
  for (size_t i = 1; i < stack.size(); ++i) {
    if (!InExecutableMapping(stack[i], symbolizer)) return i;
  }
  return stack.size();
}

}  // namespace

std::vector<uint64_t> LeafFixup::UserStack(const golens_sample& sample, TargetProcess& target) {
  std::vector<uint64_t> stack = RestoreLeafCaller(sample, target);
  size_t depth = PlausibleDepth(stack, target.symbolizer());
  if (depth < stack.size()) {
    stack.resize(depth);
    ++trimmed_;
  }
  return stack;
}

std::vector<uint64_t> LeafFixup::RestoreLeafCaller(const golens_sample& sample, TargetProcess& target) {
  int n = std::clamp(sample.user_frames, 0, GOLENS_MAX_FRAMES);
  std::vector<uint64_t> stack(sample.user_stack, sample.user_stack + n);
  if (stack.empty() || !(sample.flags & GOLENS_SAMPLE_USER_SP_VALID)) return stack;

  symbolizer::ProcessSymbolizer& symbolizer = target.symbolizer();
  auto leaf = symbolizer.Normalize(stack[0]);
  if (!leaf) return stack;
  std::shared_ptr<const symbolizer::Binary> binary = symbolizer.BinaryFor(leaf->mapping_index);
  if (!binary) return stack;
  const FunctionFrameInfo* info = FrameInfo(binary, leaf->vaddr);
  if (!info) return stack;
  ReturnAddressAt at = info->At(leaf->vaddr);
  if (at == ReturnAddressAt::kFramePointer) return stack;
  uint64_t ret = sample.user_sp_words[at == ReturnAddressAt::kSp ? 0 : 1];
  if (stack.size() >= 2 && stack[1] == ret) return stack;  // the FP walk already has it
  if (!InExecutableMapping(ret, symbolizer)) return stack;
  stack.insert(stack.begin() + 1, ret);
  if (stack.size() > GOLENS_MAX_FRAMES) stack.pop_back();
  ++restored_;
  return stack;
}

}  // namespace golens::profiler
