#include "profiler/attributes.h"

#include "profiler/spans.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <tuple>

namespace golens::profiler {

namespace {

// GOLENS_SECTION_LABELS (bpf/abi.h) -> string attributes, as Go's own CPU
// profile shows pprof labels. Returns false when the payload is malformed.
bool DecodeLabels(std::span<const uint8_t> payload, AttributeSet* out, AttributeCounts* counts) {
  golens_labels head;
  if (payload.size() < sizeof(head)) return false;
  std::memcpy(&head, payload.data(), sizeof(head));
  size_t at = sizeof(head);
  for (uint16_t i = 0; i < head.kept; ++i) {
    golens_label label;
    if (payload.size() - at < sizeof(label)) return false;
    std::memcpy(&label, payload.data() + at, sizeof(label));
    at += sizeof(label);
    if (payload.size() - at < size_t{label.key_len} + label.value_len) return false;
    Attribute a;
    a.key.assign(reinterpret_cast<const char*>(payload.data() + at), label.key_len);
    at += label.key_len;
    a.str.assign(reinterpret_cast<const char*>(payload.data() + at), label.value_len);
    at += label.value_len;
    if (label.flags & GOLENS_LABEL_KEY_CUT) a.key += kCutMarker;
    if (label.flags & GOLENS_LABEL_VALUE_CUT) a.str += kCutMarker;
    if (counts && (label.flags & (GOLENS_LABEL_KEY_CUT | GOLENS_LABEL_VALUE_CUT))) ++counts->labels_cut;
    // An empty value is written as Go writes it: string index 0, which
    // readers take for the number 0.
    out->push_back(std::move(a));
  }
  if (head.total > head.kept) {
    out->push_back(Attribute{kLabelsDroppedKey, "", head.total - head.kept, ""});
    if (counts) counts->labels_dropped += head.total - head.kept;
  }
  return true;
}

}  // namespace

void CollectAttributes(const SampleView& sample, const AttributeOptions& options, AttributeSet* out,
                       AttributeCounts* counts) {
  const golens_sample& h = *sample.head;
  if (options.goroutine && (h.flags & GOLENS_SAMPLE_GOID_VALID) && h.goid != 0) {
    out->push_back(Attribute{"goroutine", "", static_cast<int64_t>(h.goid), ""});
  }
  if (options.spans) {
    if (const SampleSection* section = sample.section(GOLENS_SECTION_SPAN);
        section && section->payload.size() >= sizeof(golens_span)) {
      golens_span span;
      std::memcpy(&span, section->payload.data(), sizeof(span));
      SpanIds ids = DecodeSpanIds(span);
      out->push_back(Attribute{"trace_id", ids.trace_id, 0, ""});
      out->push_back(Attribute{"span_id", ids.span_id, 0, ""});
      out->push_back(Attribute{"http.method", SpanMethod(span), 0, ""});
      out->push_back(Attribute{"http.path", SpanPath(span), 0, ""});
    }
  }
  if (options.labels) {
    if (const SampleSection* labels = sample.section(GOLENS_SECTION_LABELS)) {
      size_t before = out->size();
      if (!DecodeLabels(labels->payload, out, counts)) {
        out->resize(before);
        if (counts) ++counts->labels_malformed;
      }
    }
  }
}

AttributeTable::AttributeTable() {
  sets_.emplace_back();
  ids_.emplace(AttributeSet{}, 0);
}

size_t AttributeTable::Hash::operator()(const AttributeSet& set) const {
  size_t h = set.size();
  for (const Attribute& a : set) {
    h = h * 31 + std::hash<std::string>{}(a.key);
    h = h * 31 + std::hash<std::string>{}(a.str);
    h = h * 31 + std::hash<int64_t>{}(a.num);
  }
  return h;
}

AttributeSetId AttributeTable::Intern(AttributeSet set) {
  if (set.empty()) return 0;
  std::sort(set.begin(), set.end(), [](const Attribute& a, const Attribute& b) {
    return std::tie(a.key, a.str, a.num, a.unit) < std::tie(b.key, b.str, b.num, b.unit);
  });
  auto it = ids_.find(set);
  if (it != ids_.end()) return it->second;
  auto id = static_cast<AttributeSetId>(sets_.size());
  sets_.push_back(set);
  ids_.emplace(std::move(set), id);
  return id;
}

std::vector<pprof::Label> ToPprofLabels(const AttributeSet& set) {
  std::vector<pprof::Label> labels;
  labels.reserve(set.size());
  for (const Attribute& a : set) {
    if (!a.str.empty()) {
      labels.push_back(pprof::Label{a.key, a.str, 0, ""});
    } else {
      labels.push_back(pprof::Label{a.key, "", a.num, a.unit});
    }
  }
  return labels;
}

}  // namespace golens::profiler
