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

int64_t MapLoadPercent(const golens_map_stats& st) {
  if (st.flags & GOLENS_MAP_SWISS) {
    if (st.capacity == 0) return -1;
    if (st.dir_len == 0) return static_cast<int64_t>(st.count * 100 / 8);
    return static_cast<int64_t>(st.count * 800 / (st.capacity * 7));
  }
  if (st.buckets == 0) return -1;
  if (st.flags & GOLENS_MAP_LOAD_6) return static_cast<int64_t>(st.count * 100 / (6 * st.buckets));
  return static_cast<int64_t>(st.count * 200 / (13 * st.buckets));
}

void CollectAttributes(const SampleView& sample, const AttributeOptions& options, AttributeSet* out,
                       AttributeCounts* counts, int map_site_frame) {
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
  if (options.maps) {
    if (const SampleSection* section = sample.section(GOLENS_SECTION_MAP);
        section && section->payload.size() >= sizeof(golens_map_stats)) {
      golens_map_stats st;
      std::memcpy(&st, section->payload.data(), sizeof(st));
      out->push_back(Attribute{kMapLenKey, "", static_cast<int64_t>(st.count), ""});
      out->push_back(Attribute{kMapBucketsKey, "", static_cast<int64_t>(st.buckets), ""});
      if (int64_t load = MapLoadPercent(st); load >= 0) out->push_back(Attribute{kMapLoadKey, "", load, "percent"});
    }
    if (map_site_frame >= 0) out->push_back(Attribute{kMapSiteKey, "", map_site_frame, "", true});
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
    h = h * 31 + a.from_frame;
  }
  return h;
}

AttributeSetId AttributeTable::Intern(AttributeSet set) {
  if (set.empty()) return 0;
  std::sort(set.begin(), set.end(), [](const Attribute& a, const Attribute& b) {
    return std::tie(a.key, a.str, a.num, a.unit, a.from_frame) < std::tie(b.key, b.str, b.num, b.unit, b.from_frame);
  });
  auto it = ids_.find(set);
  if (it != ids_.end()) return it->second;
  auto id = static_cast<AttributeSetId>(sets_.size());
  sets_.push_back(set);
  ids_.emplace(std::move(set), id);
  return id;
}

std::vector<pprof::Label> ToPprofLabels(const AttributeSet& set, const FrameLabeler& frame_labels) {
  std::vector<pprof::Label> labels;
  labels.reserve(set.size());
  for (const Attribute& a : set) {
    if (a.from_frame) {
      if (frame_labels && a.num >= 0) frame_labels(a, static_cast<size_t>(a.num), &labels);
    } else if (!a.str.empty()) {
      labels.push_back(pprof::Label{a.key, a.str, 0, ""});
    } else {
      labels.push_back(pprof::Label{a.key, "", a.num, a.unit});
    }
  }
  return labels;
}

}  // namespace golens::profiler
