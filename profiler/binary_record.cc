#include "profiler/binary_record.h"

#include <algorithm>
#include <cstdio>

namespace golens::profiler {

namespace {

// FNV-1a, 64 bits: stable across runs (std::hash need not be).
uint64_t Fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

BinaryRecord::BinaryRecord(uint64_t id, std::shared_ptr<const symbolizer::Binary> binary)
    : id_(id),
      // Bit 63 set keeps build-ID keys apart from small record ids.
      cache_key_(binary->build_id().empty() ? id : (Fnv1a(binary->build_id()) | (1ull << 63))),
      binary_(std::move(binary)) {}

const GoBinaryInfo& BinaryRecord::go_info() const {
  std::call_once(go_once_, [this] { go_info_ = AnalyzeGoBinary(*binary_); });
  return go_info_;
}

const MapCode& BinaryRecord::map_code() const {
  std::call_once(map_once_, [this] { map_code_ = AnalyzeMapCode(*binary_, go_info()); });
  return map_code_;
}

const FunctionFrameInfo* BinaryRecord::FrameInfoAt(uint64_t vaddr) const {
  std::lock_guard<std::mutex> lock(frames_mu_);
  auto cached = frame_by_pc_.find(vaddr);
  if (cached != frame_by_pc_.end()) return cached->second;
  if (frame_by_pc_.size() >= kMaxFrameInfos * 4) frame_by_pc_.clear();  // PCs are cheap to look up again

  const FunctionFrameInfo* result = nullptr;
  std::optional<symbolizer::Symbol> fn = binary_->FunctionContaining(vaddr);
  if (fn && fn->size > 0 && vaddr >= fn->vaddr && vaddr < fn->vaddr + fn->size) {
    auto it = frame_by_entry_.find(fn->vaddr);
    if (it == frame_by_entry_.end()) {
      if (frame_by_entry_.size() >= kMaxFrameInfos) {
        frame_by_pc_.clear();  // it points into the analyses dropped now
        frame_by_entry_.clear();
      }
      size_t size = static_cast<size_t>(std::min<uint64_t>(fn->size, 1 << 16));
      std::span<const uint8_t> code = binary_->ReadVaddr(fn->vaddr, size);
      auto info = std::make_unique<FunctionFrameInfo>(
          code.size() == size ? AnalyzeFunctionFrame(code.data(), code.size(), fn->vaddr) : FunctionFrameInfo{});
      it = frame_by_entry_.emplace(fn->vaddr, std::move(info)).first;
    }
    result = it->second.get();
  }
  frame_by_pc_.emplace(vaddr, result);
  return result;
}

std::shared_ptr<BinaryRecord> BinaryRegistry::Get(const std::shared_ptr<const symbolizer::Binary>& binary) {
  char identity[64];
  std::snprintf(identity, sizeof identity, "file:%p", static_cast<const void*>(binary.get()));
  std::string key = binary->build_id().empty() ? identity : "id:" + binary->build_id();
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = by_key_[key];
  if (auto live = slot.lock()) return live;
  auto record = std::make_shared<BinaryRecord>(next_id_++, binary);
  slot = record;
  // Forget the records nobody uses any more (amortized: only when growing).
  if (by_key_.size() > 64 && by_key_.size() % 64 == 0) {
    std::erase_if(by_key_, [](const auto& entry) { return entry.second.expired(); });
  }
  return record;
}

size_t BinaryRegistry::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [key, weak] : by_key_) n += weak.expired() ? 0 : 1;
  return n;
}

}  // namespace golens::profiler
