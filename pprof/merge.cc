// ProfileMerger: every input (a Profile, or pprof bytes read in place) is
// first seen as a View (string_views, flat arrays), so merging never copies
// a string it has seen before.
//
// Speed comes from memos keyed by the input's own ids. Consecutive profiles
// of one build carry the same ids for the same content (the store writes
// content-derived ids), so after the first profile a function or location is
// recognized by comparing it with its memo -- no hashing of names, no
// allocation -- and its merged id is reused. Content under a known id that
// differs (another build, another writer) resets that memo entry, and the
// content is interned through ProfileBuilder as usual: ids are a shortcut,
// never trusted for identity.
#include "pprof/merge.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "pprof/builder.h"
#include "pprof/profile_view.h"

namespace golens::pprof {
namespace {

// ---- memos --------------------------------------------------------------

struct MapMemo {
  uint64_t start = 0, limit = 0, offset = 0;
  std::string filename, build_id;
  uint8_t flags = 0;
  uint64_t version = 0, merged = 0, seen = 0;
};
struct FnMemo {
  std::string name, system_name, filename;
  int64_t start_line = 0;
  uint64_t version = 0, merged = 0, seen = 0;
};
struct LineMemo {
  uint64_t function_id, function_version;
  int64_t line, column;
};
struct LocMemo {
  uint64_t mapping_id = 0, mapping_version = 0, address = 0;
  bool is_folded = false;
  std::vector<LineMemo> lines;
  uint64_t epoch = 0, merged = 0, seen = 0;
};

inline void HashMix(size_t* seed, size_t value) {
  *seed ^= value + 0x9e3779b97f4a7c15ULL + (*seed << 6) + (*seed >> 2);
}
struct SampleKey {
  std::vector<uint64_t> locations;
  uint32_t labels = 0;  // label set id
  bool operator==(const SampleKey&) const = default;
};
struct SampleKeyHash {
  size_t operator()(const SampleKey& k) const {
    size_t h = k.labels;
    for (uint64_t id : k.locations) HashMix(&h, id);
    return h;
  }
};

bool LabelLess(const VLabel& a, const VLabel& b) {
  if (a.key != b.key) return a.key < b.key;
  if (a.str != b.str) return a.str < b.str;
  if (a.num != b.num) return a.num < b.num;
  return a.unit < b.unit;
}

void AppendSized(std::string* out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(s);
}

}  // namespace

struct ProfileMerger::State {
  ProfileBuilder builder{std::vector<ValueType>{}};
  std::vector<ValueType> types;    // union so far, first-seen order
  std::vector<int64_t> type_seen;  // profiles that had each type
  int64_t profiles = 0;
  int64_t start = std::numeric_limits<int64_t>::max();
  int64_t end = std::numeric_limits<int64_t>::min();
  Profile first;  // header fields of the first profile (no samples)
  std::vector<std::string> comments;
  std::unordered_set<std::string> comment_set;
  int64_t comments_dropped = 0;

  std::unordered_map<uint64_t, MapMemo> maps;
  std::unordered_map<uint64_t, FnMemo> fns;
  std::unordered_map<uint64_t, LocMemo> locs;
  uint64_t next_version = 1;
  uint64_t epoch = 1;  // bumped whenever a function or mapping memo changes content
  uint64_t generation = 0;  // per Add, for "seen in this profile"

  std::unordered_map<std::string, uint32_t> label_set_ids;
  std::vector<std::vector<Label>> label_sets{{}};  // id 0 = no labels
  std::unordered_map<SampleKey, uint32_t, SampleKeyHash> sample_index;
  std::vector<const SampleKey*> sample_keys;
  std::vector<std::vector<int64_t>> sample_values;

  // Scratch, reused per Add.
  View view;
  StringTable strings;
  SampleKey key;
  std::vector<const VLabel*> sorted_labels;
  std::string label_key;
  std::vector<LocMemo*> frames;  // resolved frames of the kept samples, in order
  std::vector<const VSample*> kept;

  Result<void> AddView(const std::vector<TagFilter>& filters);
  uint64_t MergedMapping(MapMemo& m);
  uint64_t MergedFunction(FnMemo& f);
  uint64_t MergedLocation(LocMemo& l);
  uint32_t LabelSet(const VSample& s);
};

uint64_t ProfileMerger::State::MergedMapping(MapMemo& m) {
  if (m.merged == 0) {
    Mapping mapping;
    mapping.memory_start = m.start;
    mapping.memory_limit = m.limit;
    mapping.file_offset = m.offset;
    mapping.filename = m.filename;
    mapping.build_id = m.build_id;
    mapping.has_functions = m.flags & 1;
    mapping.has_filenames = m.flags & 2;
    mapping.has_line_numbers = m.flags & 4;
    mapping.has_inline_frames = m.flags & 8;
    m.merged = builder.AddMapping(mapping);
  }
  return m.merged;
}

uint64_t ProfileMerger::State::MergedFunction(FnMemo& f) {
  if (f.merged == 0) f.merged = builder.AddFunction(f.name, f.system_name, f.filename, f.start_line);
  return f.merged;
}

uint64_t ProfileMerger::State::MergedLocation(LocMemo& l) {
  if (l.merged == 0) {
    uint64_t mapping = 0;
    if (l.mapping_id != 0) mapping = MergedMapping(maps.find(l.mapping_id)->second);
    std::vector<Line> lines;
    lines.reserve(l.lines.size());
    for (const LineMemo& line : l.lines) {
      uint64_t fn = line.function_id ? MergedFunction(fns.find(line.function_id)->second) : 0;
      lines.push_back(Line{fn, line.line, line.column});
    }
    l.merged = builder.AddLocation(mapping, l.address, std::move(lines));
  }
  return l.merged;
}

uint32_t ProfileMerger::State::LabelSet(const VSample& s) {
  if (s.label_count == 0) return 0;
  // Labels are a set in pprof: one order makes equal sets one key.
  sorted_labels.clear();
  for (uint32_t i = 0; i < s.label_count; ++i) sorted_labels.push_back(&view.labels[s.label_begin + i]);
  std::sort(sorted_labels.begin(), sorted_labels.end(), [](const VLabel* a, const VLabel* b) { return LabelLess(*a, *b); });
  label_key.clear();
  for (const VLabel* l : sorted_labels) {
    AppendSized(&label_key, l->key);
    AppendSized(&label_key, l->str);
    label_key.append(reinterpret_cast<const char*>(&l->num), sizeof l->num);
    AppendSized(&label_key, l->unit);
  }
  auto [it, inserted] = label_set_ids.try_emplace(label_key, static_cast<uint32_t>(label_sets.size()));
  if (inserted) {
    std::vector<Label> labels;
    for (const VLabel* l : sorted_labels) {
      labels.push_back(Label{std::string(l->key), std::string(l->str), l->num, std::string(l->unit)});
    }
    label_sets.push_back(std::move(labels));
  }
  return it->second;
}

Result<void> ProfileMerger::State::AddView(const std::vector<TagFilter>& filters) {
  const View& v = view;
  // Columns first, so a unit mismatch changes nothing.
  std::vector<size_t> column(v.types.size());
  size_t added_types = 0;
  for (size_t j = 0; j < v.types.size(); ++j) {
    auto it = std::find_if(types.begin(), types.end(), [&](const ValueType& u) { return u.type == v.types[j].first; });
    if (it != types.end()) {
      if (it->unit != v.types[j].second) {
        return MakeError("cannot merge sample type " + std::string(v.types[j].first) + ": unit " +
                             std::string(v.types[j].second) + " here, " + it->unit + " in earlier profiles",
                         ErrorKind::kInvalidArgument);
      }
      column[j] = static_cast<size_t>(it - types.begin());
    } else {
      column[j] = types.size() + added_types++;
    }
  }
  // Ids must be unique within a profile (as pprof checks).
  ++generation;
  for (const VMapping& m : v.mappings) {
    if (m.id == 0) return MalformedProfile("mapping with reserved id 0");
    MapMemo& memo = maps[m.id];
    if (memo.seen == generation) return MalformedProfile("two mappings with id " + std::to_string(m.id));
    memo.seen = generation;
    if (memo.version != 0 && memo.start == m.start && memo.limit == m.limit && memo.offset == m.offset &&
        memo.filename == m.filename && memo.build_id == m.build_id && memo.flags == m.flags) {
      continue;
    }
    if (memo.version != 0) ++epoch;
    memo.start = m.start;
    memo.limit = m.limit;
    memo.offset = m.offset;
    memo.filename = m.filename;
    memo.build_id = m.build_id;
    memo.flags = m.flags;
    memo.version = next_version++;
    memo.merged = 0;
  }
  for (const VFunction& f : v.functions) {
    if (f.id == 0) return MalformedProfile("function with reserved id 0");
    FnMemo& memo = fns[f.id];
    if (memo.seen == generation) return MalformedProfile("two functions with id " + std::to_string(f.id));
    memo.seen = generation;
    if (memo.version != 0 && memo.start_line == f.start_line && memo.name == f.name &&
        memo.system_name == f.system_name && memo.filename == f.filename) {
      continue;
    }
    if (memo.version != 0) ++epoch;
    memo.name = f.name;
    memo.system_name = f.system_name;
    memo.filename = f.filename;
    memo.start_line = f.start_line;
    memo.version = next_version++;
    memo.merged = 0;
  }
  for (const VLocation& l : v.locations) {
    if (l.id == 0) return MalformedProfile("location with reserved id 0");
    LocMemo& memo = locs[l.id];
    if (memo.seen == generation) return MalformedProfile("two locations with id " + std::to_string(l.id));
    memo.seen = generation;
    bool same = memo.merged != 0 && memo.address == l.address && memo.mapping_id == l.mapping_id &&
                memo.is_folded == l.is_folded && memo.lines.size() == l.line_count;
    for (uint32_t i = 0; same && i < l.line_count; ++i) {
      const VLine& line = v.lines[l.line_begin + i];
      const LineMemo& m = memo.lines[i];
      same = m.function_id == line.function_id && m.line == line.line && m.column == line.column;
    }
    if (same && memo.epoch != epoch) {
      // Some function or mapping changed content since: same ids may now
      // mean other things.
      auto version_of_map = [&](uint64_t id) { return id ? maps.find(id)->second.version : 0; };
      same = version_of_map(memo.mapping_id) == memo.mapping_version;
      for (const LineMemo& m : memo.lines) {
        if (!same) break;
        same = (m.function_id ? fns.find(m.function_id)->second.version : 0) == m.function_version;
      }
    }
    memo.epoch = epoch;
    if (same) continue;
    // New or changed: check its references against this profile, then remember it.
    memo.address = l.address;
    memo.is_folded = l.is_folded;
    memo.mapping_id = l.mapping_id;
    memo.mapping_version = 0;
    if (l.mapping_id != 0) {
      auto it = maps.find(l.mapping_id);
      if (it == maps.end() || it->second.seen != generation) {
        return MalformedProfile("location " + std::to_string(l.id) + " refers to mapping " + std::to_string(l.mapping_id) +
                         ", which is not there");
      }
      memo.mapping_version = it->second.version;
    }
    memo.lines.clear();
    for (uint32_t i = 0; i < l.line_count; ++i) {
      const VLine& line = v.lines[l.line_begin + i];
      uint64_t version = 0;
      if (line.function_id != 0) {
        auto it = fns.find(line.function_id);
        if (it == fns.end() || it->second.seen != generation) {
          return MalformedProfile("location " + std::to_string(l.id) + " refers to function " +
                           std::to_string(line.function_id) + ", which is not there");
        }
        version = it->second.version;
      }
      memo.lines.push_back(LineMemo{line.function_id, version, line.line, line.column});
    }
    memo.merged = 0;
  }

  // Every frame of every kept sample must resolve before anything changes.
  frames.clear();
  kept.clear();
  for (const VSample& s : v.samples) {
    if (!filters.empty() && !ViewSampleMatches(v, s, filters)) continue;
    kept.push_back(&s);
    for (uint32_t i = 0; i < s.loc_count; ++i) {
      uint64_t id = v.sample_locs[s.loc_begin + i];
      auto it = locs.find(id);
      if (it == locs.end() || it->second.seen != generation) {
        return MalformedProfile("a sample refers to location " + std::to_string(id) + ", which is not there");
      }
      frames.push_back(&it->second);
    }
  }

  // Validated: from here on the merger changes.
  for (size_t j = 0; j < v.types.size(); ++j) {
    if (column[j] == types.size()) {
      types.push_back(ValueType{std::string(v.types[j].first), std::string(v.types[j].second)});
      type_seen.push_back(0);
    }
    ++type_seen[column[j]];
  }
  if (profiles++ == 0) {
    first.period_type = ValueType{std::string(v.period_type.first), std::string(v.period_type.second)};
    first.period = v.period;
    first.drop_frames = v.drop_frames;
    first.keep_frames = v.keep_frames;
    first.default_sample_type = v.default_sample_type;
    first.doc_url = v.doc_url;
  }
  if (v.time_nanos != 0) {
    start = std::min(start, v.time_nanos);
    int64_t e = v.time_nanos;
    if (__builtin_add_overflow(e, std::max<int64_t>(v.duration_nanos, 0), &e)) e = std::numeric_limits<int64_t>::max();
    end = std::max(end, e);
  }
  for (std::string_view c : v.comments) {
    std::string comment(c);
    if (comment_set.count(comment)) continue;
    if (comments.size() >= kMaxMergedComments) {
      ++comments_dropped;
      continue;
    }
    comment_set.insert(comment);
    comments.push_back(std::move(comment));
  }

  size_t frame = 0;
  for (const VSample* sp : kept) {
    const VSample& s = *sp;
    key.locations.clear();
    for (uint32_t i = 0; i < s.loc_count; ++i) key.locations.push_back(MergedLocation(*frames[frame++]));
    key.labels = LabelSet(s);
    auto it = sample_index.find(key);
    if (it == sample_index.end()) {
      it = sample_index.emplace(std::move(key), static_cast<uint32_t>(sample_values.size())).first;
      key = SampleKey{};
      sample_keys.push_back(&it->first);
      sample_values.emplace_back(types.size(), 0);
    }
    std::vector<int64_t>& sum = sample_values[it->second];
    if (sum.size() < types.size()) sum.resize(types.size(), 0);
    for (uint32_t j = 0; j < s.val_count && j < column.size(); ++j) {
      int64_t& slot = sum[column[j]];
      int64_t value = v.sample_vals[s.val_begin + j];
      // Values are user input: saturate rather than wrap (UB) to the other sign.
      if (__builtin_add_overflow(slot, value, &slot)) slot = value > 0 ? INT64_MAX : INT64_MIN;
    }
  }
  return Ok();
}

ProfileMerger::ProfileMerger() : state_(std::make_unique<State>()) {}
ProfileMerger::~ProfileMerger() = default;
int64_t ProfileMerger::profiles() const { return state_->profiles; }

Result<void> ProfileMerger::Add(const Profile& profile, const std::vector<TagFilter>& filters) {
  ViewOf(profile, &state_->view);
  return state_->AddView(filters);
}

Result<void> ProfileMerger::AddSerialized(std::span<const uint8_t> pprof_bytes, const std::vector<TagFilter>& filters) {
  if (pprof_bytes.empty()) return MakeError("empty profile (0 bytes)", ErrorKind::kCorrupt);
  GOLENS_TRY_VOID(ViewOfWire(pprof_bytes, &state_->view, &state_->strings));
  return state_->AddView(filters);
}

Result<Profile> ProfileMerger::Finish() {
  State& s = *state_;
  if (s.profiles == 0) return Profile{};
  std::vector<size_t> keep;
  for (size_t i = 0; i < s.types.size(); ++i) {
    if (s.type_seen[i] == s.profiles) keep.push_back(i);
  }
  if (keep.empty()) {
    std::string names;
    for (const ValueType& t : s.types) names += (names.empty() ? "" : ", ") + t.type;
    return MakeError("cannot merge: no sample type is in every profile (seen: " + names + ")",
                     ErrorKind::kInvalidArgument);
  }
  Profile out = s.builder.Build();
  const bool projected = keep.size() != s.types.size();
  for (size_t k : keep) out.sample_types.push_back(s.types[k]);
  out.samples.reserve(s.sample_values.size());
  for (size_t i = 0; i < s.sample_values.size(); ++i) {
    const std::vector<int64_t>& sum = s.sample_values[i];
    Sample sample;
    sample.values.resize(keep.size(), 0);
    bool any = false;
    for (size_t k = 0; k < keep.size(); ++k) {
      if (keep[k] < sum.size()) sample.values[k] = sum[keep[k]];
      any |= sample.values[k] != 0;
    }
    // A sample that only had values in dropped types carries nothing now.
    if (projected && !any) continue;
    sample.location_ids = s.sample_keys[i]->locations;
    sample.labels = s.label_sets[s.sample_keys[i]->labels];
    out.samples.push_back(std::move(sample));
  }
  out.period_type = s.first.period_type;
  out.period = s.first.period;
  out.drop_frames = s.first.drop_frames;
  out.keep_frames = s.first.keep_frames;
  out.doc_url = s.first.doc_url;
  for (const ValueType& t : out.sample_types) {
    if (t.type == s.first.default_sample_type) out.default_sample_type = t.type;
  }
  if (s.start != std::numeric_limits<int64_t>::max()) {
    out.time_nanos = s.start;
    out.duration_nanos = s.end - s.start;
  }
  out.comments = s.comments;
  if (s.comments_dropped > 0) {
    out.comments.push_back("golens merge: " + std::to_string(s.comments_dropped) + " more distinct comments dropped");
  }
  state_ = std::make_unique<State>();
  return out;
}

Result<Profile> MergeProfiles(std::span<const Profile> profiles) {
  ProfileMerger merger;
  for (const Profile& p : profiles) GOLENS_TRY_VOID(merger.Add(p));
  return merger.Finish();
}

}  // namespace golens::pprof
