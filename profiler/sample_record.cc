#include "profiler/sample_record.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace golens::profiler {
namespace {

Error Malformed(const std::string& what) { return MakeError("malformed BPF record: " + what, ErrorKind::kCorrupt); }

size_t Pad8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

Result<uint16_t> RecordKind(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(golens_record_header)) return Malformed("shorter than its header");
  golens_record_header header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  if (header.version != GOLENS_ABI_VERSION) {
    return Malformed("ABI version " + std::to_string(header.version) + ", expected " +
                     std::to_string(GOLENS_ABI_VERSION));
  }
  if (header.size > bytes.size()) return Malformed("size field past the end of the record");
  return header.kind;
}

Result<SampleView> DecodeSample(std::span<const uint8_t> bytes) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return Malformed("not 8-byte aligned");
  if (bytes.size() < sizeof(golens_sample)) return Malformed("sample shorter than its fixed part");
  SampleView view;
  view.head = reinterpret_cast<const golens_sample*>(bytes.data());
  const golens_sample& h = *view.head;
  if (h.header.kind != GOLENS_RECORD_SAMPLE) return Malformed("not a sample");
  if (h.header.size > bytes.size() || h.header.size < sizeof(golens_sample)) return Malformed("bad sample size");
  if (h.user_frames > GOLENS_MAX_FRAMES || h.kernel_frames > GOLENS_MAX_FRAMES) return Malformed("too many frames");
  size_t end = h.header.size;
  size_t offset = sizeof(golens_sample);
  size_t stack_bytes = (size_t{h.user_frames} + h.kernel_frames) * 8;
  if (offset + stack_bytes > end) return Malformed("stacks past the end of the sample");
  const auto* words = reinterpret_cast<const uint64_t*>(bytes.data() + offset);
  view.user = {words, h.user_frames};
  view.kernel = {words + h.user_frames, h.kernel_frames};
  offset += stack_bytes;
  for (uint16_t kind = 0; kind < GOLENS_SECTION_COUNT; ++kind) {
    if (!(h.sections & (1u << kind))) continue;
    if (offset + sizeof(golens_section) > end) return Malformed("section header past the end");
    golens_section section;
    std::memcpy(&section, bytes.data() + offset, sizeof(section));
    if (section.kind != kind) return Malformed("sections out of order");
    offset += sizeof(section);
    if (section.size > end - offset) return Malformed("section payload past the end");
    view.sections.push_back({section.kind, section.flags, bytes.subspan(offset, section.size)});
    offset += Pad8(section.size);
  }
  if (h.sections >> GOLENS_SECTION_COUNT) return Malformed("unknown section bits");
  return view;
}

Result<golens_proc_event> DecodeProcEvent(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(golens_proc_event)) return Malformed("process event too short");
  golens_proc_event event;
  std::memcpy(&event, bytes.data(), sizeof(event));
  if (event.header.kind != GOLENS_RECORD_PROC_EVENT || event.header.size != sizeof(event)) {
    return Malformed("bad process event header");
  }
  if (event.kind < GOLENS_PROC_EVENT_FORK || event.kind > GOLENS_PROC_EVENT_EXEC_UNTRACKED) {
    return Malformed("unknown process event " + std::to_string(event.kind));
  }
  return event;
}

Result<golens_span_end> DecodeSpanEnd(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(golens_span_end)) return Malformed("span record too short");
  golens_span_end end;
  std::memcpy(&end, bytes.data(), sizeof(end));
  if (end.header.kind != GOLENS_RECORD_SPAN || end.header.size != sizeof(end)) return Malformed("bad span header");
  return end;
}

Result<golens_map_probe> DecodeMapProbe(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(golens_map_probe)) return Malformed("map probe record too short");
  golens_map_probe probe;
  std::memcpy(&probe, bytes.data(), sizeof(probe));
  if (probe.header.kind != GOLENS_RECORD_MAP_PROBE || probe.header.size != sizeof(probe)) {
    return Malformed("bad map probe header");
  }
  return probe;
}

SampleRecordBuilder::SampleRecordBuilder() {
  head_.header.kind = GOLENS_RECORD_SAMPLE;
  head_.header.version = GOLENS_ABI_VERSION;
}

SampleRecordBuilder& SampleRecordBuilder::User(std::vector<uint64_t> frames) {
  if (frames.size() > GOLENS_MAX_FRAMES) frames.resize(GOLENS_MAX_FRAMES);
  user_ = std::move(frames);
  return *this;
}

SampleRecordBuilder& SampleRecordBuilder::Kernel(std::vector<uint64_t> frames) {
  if (frames.size() > GOLENS_MAX_FRAMES) frames.resize(GOLENS_MAX_FRAMES);
  kernel_ = std::move(frames);
  return *this;
}

SampleRecordBuilder& SampleRecordBuilder::Section(uint16_t kind, uint16_t flags, std::span<const uint8_t> payload) {
  golens_section header{kind, flags, static_cast<uint32_t>(payload.size())};
  sections_.emplace_back(header, std::vector<uint8_t>(payload.begin(), payload.end()));
  return *this;
}

std::span<const uint8_t> SampleRecordBuilder::bytes() {
  std::sort(sections_.begin(), sections_.end(), [](const auto& a, const auto& b) { return a.first.kind < b.first.kind; });
  golens_sample head = head_;
  head.user_frames = static_cast<uint16_t>(user_.size());
  head.kernel_frames = static_cast<uint16_t>(kernel_.size());
  head.sections = 0;
  size_t size = sizeof(head) + 8 * (user_.size() + kernel_.size());
  for (const auto& [section, payload] : sections_) {
    head.sections |= 1u << section.kind;
    size += sizeof(section) + Pad8(payload.size());
  }
  head.header.size = static_cast<uint32_t>(size);
  storage_.assign(size / 8, 0);
  auto* out = reinterpret_cast<uint8_t*>(storage_.data());
  std::memcpy(out, &head, sizeof(head));
  size_t offset = sizeof(head);
  std::memcpy(out + offset, user_.data(), 8 * user_.size());
  offset += 8 * user_.size();
  std::memcpy(out + offset, kernel_.data(), 8 * kernel_.size());
  offset += 8 * kernel_.size();
  for (const auto& [section, payload] : sections_) {
    std::memcpy(out + offset, &section, sizeof(section));
    offset += sizeof(section);
    if (!payload.empty()) std::memcpy(out + offset, payload.data(), payload.size());
    offset += Pad8(payload.size());
  }
  return {out, size};
}

golens_proc_event MakeProcEvent(uint32_t kind, uint32_t tgid, uint64_t start_ns) {
  golens_proc_event e{};
  e.header.kind = GOLENS_RECORD_PROC_EVENT;
  e.header.version = GOLENS_ABI_VERSION;
  e.header.size = sizeof(e);
  e.kind = kind;
  e.tgid = tgid;
  e.start_ns = start_ns;
  return e;
}

}  // namespace golens::profiler
