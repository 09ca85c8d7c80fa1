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
  bool operator==(const Attribute&) const = default;
};

using AttributeSet = std::vector<Attribute>;  // sorted by key, then value
using AttributeSetId = uint32_t;              // 0 = the empty set

// What to collect; each switch is a feature's flag.
struct AttributeOptions {
  bool goroutine = false;  // numeric "goroutine" (record --per-goroutine)
  bool labels = true;      // the goroutine's pprof labels, as string labels
  bool spans = true;       // trace_id, span_id, http.method, http.path of the request served
};

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
void CollectAttributes(const SampleView& sample, const AttributeOptions& options, AttributeSet* out,
                       AttributeCounts* counts = nullptr);

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

// The pprof labels of an attribute set, in its order.
std::vector<pprof::Label> ToPprofLabels(const AttributeSet& set);

}  // namespace golens::profiler
