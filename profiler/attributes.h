// The one attribute seam from BPF to pprof. Everything a sample carries
// besides its stacks (goroutine id, and next pprof labels, span ids, map
// statistics) becomes one Attribute here, in exactly one decoder, and the
// sample's attribute set is part of the aggregation key. ToPprofLabels is
// the only place where attributes turn into pprof labels.
//
// Adding an attribute: decode it in CollectAttributes (from the sample's
// fixed part or its section), and that is all.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pprof/profile.h"
#include "profiler/sample_record.h"

namespace golens::profiler {

struct Attribute {
  std::string key;
  std::string str;   // a string attribute when non-empty
  int64_t num = 0;   // a numeric attribute when str is empty
  std::string unit;  // for numeric attributes ("bytes", "percent"); may be ""
  // A string attribute known only once the profile is built: the
  // symbolized user frame number `num` of the sample's stack (map_site).
  bool from_frame = false;
  bool operator==(const Attribute&) const = default;
};

using AttributeSet = std::vector<Attribute>;  // sorted by key, then value
using AttributeSetId = uint32_t;              // 0 = the empty set

// What to collect; each switch is a feature's flag.
struct AttributeOptions {
  bool goroutine = false;  // numeric "goroutine" (record --per-goroutine)
  bool labels = true;      // the goroutine's pprof labels, as string labels
  bool spans = true;       // trace_id, span_id, http.method, http.path of the request served
  bool maps = true;        // map_len, map_buckets, map_load_pct, map_site of map operations
};

// Go map statistics labels (GOLENS_SECTION_MAP and the recorder's site).
inline constexpr const char* kMapLenKey = "map_len";
inline constexpr const char* kMapBucketsKey = "map_buckets";
inline constexpr const char* kMapLoadKey = "map_load_pct";
inline constexpr const char* kMapSiteKey = "map_site";

// A key or value cut at GOLENS_LABEL_BYTES ends with this marker.
inline constexpr const char* kCutMarker = "\u2026[cut]";
// Numeric label: how many labels a goroutine had beyond GOLENS_MAX_LABELS.
inline constexpr const char* kLabelsDroppedKey = "golens_labels_dropped";

struct AttributeCounts {
  uint64_t labels_cut = 0;        // keys or values cut
  uint64_t labels_dropped = 0;    // labels not kept
  uint64_t labels_malformed = 0;  // sections that did not decode
};

// Appends the sample's attributes to `out` (sorted afterwards by the table).
// `map_site_frame`: the user frame (leaf = 0) that called the map operation
// the sample is in, or -1 (the recorder finds it: profiler/map_code.h).
void CollectAttributes(const SampleView& sample, const AttributeOptions& options, AttributeSet* out,
                       AttributeCounts* counts = nullptr, int map_site_frame = -1);

// The load of a map as percent of what its implementation allows before it
// grows: 6.5 entries per bucket (Go 1.22, 1.23; 6 up to 1.21), 7/8 of the
// slots (Swiss tables), 8 entries in a small Swiss map. -1 when unknown.
int64_t MapLoadPercent(const golens_map_stats& stats);

// Interns attribute sets so a key holds a small id. One table per interval:
// sets that never recur (span ids) do not pile up over hours.
class AttributeTable {
 public:
  AttributeTable();
  // Sorts `set` and returns its id (0 for the empty set).
  AttributeSetId Intern(AttributeSet set);
  const AttributeSet& Get(AttributeSetId id) const { return sets_.at(id); }
  size_t size() const { return sets_.size(); }

 private:
  struct Hash {
    size_t operator()(const AttributeSet& set) const;
  };
  std::vector<AttributeSet> sets_;
  std::unordered_map<AttributeSet, AttributeSetId, Hash> ids_;
};

// The pprof labels of an attribute set, in its order. `frame_labels` makes
// the labels of a from_frame attribute from the stack's user frame it names
// (map_site: the frame's "function file:line", and deep mode's statistics
// of that call site); without it such attributes give no labels.
using FrameLabeler = std::function<void(const Attribute&, size_t frame, std::vector<pprof::Label>* out)>;
std::vector<pprof::Label> ToPprofLabels(const AttributeSet& set, const FrameLabeler& frame_labels = nullptr);

}  // namespace golens::profiler
