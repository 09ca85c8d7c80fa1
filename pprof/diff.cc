#include "pprof/diff.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "pprof/builder.h"

namespace golens::pprof {
namespace {

// Copies one profile's samples into `builder`, re-interning its mappings,
// functions and locations (ids differ between profiles).
class ProfileCopier {
 public:
  ProfileCopier(const Profile& from, ProfileBuilder* builder) : from_(from), index_(from), builder_(builder) {}

  uint64_t Location(uint64_t id) {
    auto it = locations_.find(id);
    if (it != locations_.end()) return it->second;
    const pprof::Location* location = index_.location(id);
    uint64_t mapping_id = 0;
    std::vector<Line> lines;
    uint64_t address = 0;
    if (location != nullptr) {
      if (const Mapping* mapping = index_.mapping(location->mapping_id)) {
        mapping_id = builder_->AddMapping(*mapping);
      }
      address = location->address;
      for (const Line& line : location->lines) {
        const Function* f = index_.function(line.function_id);
        if (f == nullptr) continue;
        uint64_t fid = builder_->AddFunction(f->name, f->system_name, f->filename, f->start_line);
        lines.push_back(Line{fid, line.line, line.column});
      }
    }
    uint64_t new_id = builder_->AddLocation(mapping_id, address, std::move(lines));
    locations_.emplace(id, new_id);
    return new_id;
  }

  // `columns[i]` = index in `from` of output column i; values scaled by
  // `scale[i]` (1 = untouched) and multiplied by `sign`.
  void CopySamples(const std::vector<int>& columns, const std::vector<double>& scale, int64_t sign,
                   const Label* extra_label) {
    std::vector<uint64_t> ids;
    std::vector<int64_t> values(columns.size());
    for (const Sample& sample : from_.samples) {
      bool nonzero = false;
      for (size_t i = 0; i < columns.size(); ++i) {
        int64_t v = sample.values[columns[i]];
        if (scale[i] != 1.0) v = static_cast<int64_t>(std::round(static_cast<double>(v) * scale[i]));
        values[i] = v * sign;
        nonzero |= v != 0;
      }
      if (!nonzero) continue;
      ids.clear();
      for (uint64_t id : sample.location_ids) ids.push_back(Location(id));
      if (extra_label == nullptr) {
        builder_->AddSample(ids, values, sample.labels);
      } else {
        std::vector<Label> labels = sample.labels;
        labels.push_back(*extra_label);
        builder_->AddSample(ids, values, labels);
      }
    }
  }

 private:
  const Profile& from_;
  ProfileIndex index_;
  ProfileBuilder* builder_;
  std::unordered_map<uint64_t, uint64_t> locations_;
};

}  // namespace

std::vector<int64_t> SampleTotals(const Profile& profile) {
  std::vector<int64_t> totals(profile.sample_types.size(), 0);
  for (const Sample& sample : profile.samples) {
    for (size_t i = 0; i < totals.size() && i < sample.values.size(); ++i) totals[i] += sample.values[i];
  }
  return totals;
}

namespace {

// Folded stacks carry no units: no period type, counts as samples/count.
bool Unitless(const Profile& p) { return p.period_type.type.empty() && p.period_type.unit.empty(); }

std::string Describe(const Profile& p) {
  return Unitless(p) ? std::string("folded stacks (samples/count)") : p.period_type.type + "/" + p.period_type.unit;
}

}  // namespace

Result<Profile> DiffProfiles(const Profile& base, const Profile& current, bool normalize) {
  // A folded side compares by its counts against the other side's samples
  // type; two profiles of different kinds (cpu vs alloc) cannot be compared.
  if (!(base.period_type == current.period_type) && !Unitless(base) && !Unitless(current)) {
    return MakeError("BASE is a " + Describe(base) + " profile and NEW a " + Describe(current) +
                         " profile: they measure different things; compare profiles of the same kind",
                     ErrorKind::kInvalidArgument);
  }
  std::vector<ValueType> types;
  std::vector<int> new_columns, base_columns;
  for (size_t i = 0; i < current.sample_types.size(); ++i) {
    int j = SampleTypeIndex(base, current.sample_types[i].type);
    if (j < 0) continue;
    if (base.sample_types[j].unit != current.sample_types[i].unit) {
      return MakeError("sample type " + current.sample_types[i].type + " has unit " +
                       base.sample_types[j].unit + " in BASE but " +
                       current.sample_types[i].unit + " in NEW");
    }
    types.push_back(current.sample_types[i]);
    new_columns.push_back(static_cast<int>(i));
    base_columns.push_back(j);
  }
  if (types.empty()) {
    std::string hint;
    if (Unitless(base) != Unitless(current)) {
      hint = "; folded stacks carry no units and are compared as samples/count, which the " +
             std::string(Unitless(base) ? "NEW" : "BASE") +
             " profile does not have: convert both to folded stacks of the same sample type";
    }
    return MakeError("profiles have no common sample type (BASE: " + SampleTypeNames(base) +
                         "; NEW: " + SampleTypeNames(current) + ")" + hint,
                     ErrorKind::kInvalidArgument);
  }
  std::vector<double> new_scale(types.size(), 1.0), base_scale(types.size(), 1.0);
  if (normalize) {
    std::vector<int64_t> base_totals = SampleTotals(base), new_totals = SampleTotals(current);
    for (size_t i = 0; i < types.size(); ++i) {
      int64_t b = base_totals[base_columns[i]], n = new_totals[new_columns[i]];
      new_scale[i] = n == 0 ? 0.0 : static_cast<double>(b) / static_cast<double>(n);
    }
  }

  ProfileBuilder builder(types);
  Profile& header = builder.header();
  header.period_type = Unitless(current) ? base.period_type : current.period_type;
  header.period = std::max(base.period, current.period);
  header.time_nanos = base.time_nanos != 0 && (current.time_nanos == 0 || base.time_nanos < current.time_nanos)
                          ? base.time_nanos
                          : current.time_nanos;
  header.duration_nanos = base.duration_nanos + current.duration_nanos;
  header.default_sample_type =
      !current.default_sample_type.empty() ? current.default_sample_type : base.default_sample_type;
  header.doc_url = !current.doc_url.empty() ? current.doc_url : base.doc_url;
  header.drop_frames = current.drop_frames;
  header.keep_frames = current.keep_frames;
  header.comments = current.comments;
  for (const std::string& c : base.comments) {
    if (std::find(header.comments.begin(), header.comments.end(), c) == header.comments.end()) {
      header.comments.push_back(c);
    }
  }
  // NEW first so that mapping[0] is NEW's main binary.
  for (const Mapping& m : current.mappings) builder.AddMapping(m);
  for (const Mapping& m : base.mappings) builder.AddMapping(m);
  ProfileCopier new_copier(current, &builder);
  new_copier.CopySamples(new_columns, new_scale, 1, nullptr);
  ProfileCopier base_copier(base, &builder);
  Label base_label{kDiffBaseLabel, "true", 0, ""};
  base_copier.CopySamples(base_columns, base_scale, -1, &base_label);
  return builder.Build();
}

}  // namespace golens::pprof
