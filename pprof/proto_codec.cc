// profile.proto <-> model. The string table exists only here: built in
// first-use order with "" at index 0 on the way out, resolved and
// bounds-checked on the way in. Validation mirrors what `go tool pprof`
// rejects (CheckValid), so a file we accept is one pprof accepts.
#include <google/protobuf/io/coded_stream.h>

#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "pprof/gzip.h"
#include "pprof/profile.pb.h"
#include "pprof/profile_io.h"

namespace golens::pprof {
namespace pb = perftools::profiles;

namespace {

Error Malformed(const std::string& what) { return MakeError("malformed profile: " + what); }

class StringTableReader {
 public:
  explicit StringTableReader(const pb::Profile& p) : p_(p) {}
  // Resolves index `i` for `field`, recording the first out-of-range index.
  const std::string& Get(int64_t i, const char* field) {
    if (i < 0 || i >= p_.string_table_size()) {
      if (error_.empty()) {
        error_ = std::string(field) + " refers to string " + std::to_string(i) +
                 " but the string table has " + std::to_string(p_.string_table_size()) +
                 " entries";
      }
      return empty_;
    }
    return p_.string_table(static_cast<int>(i));
  }
  const std::string& error() const { return error_; }

 private:
  const pb::Profile& p_;
  std::string error_;
  const std::string empty_;
};

template <typename T>
Result<void> CheckUniqueIds(const std::vector<T>& items, const char* what) {
  std::unordered_set<uint64_t> seen;
  seen.reserve(items.size());
  for (const T& item : items) {
    if (item.id == 0) return Malformed(std::string("found ") + what + " with reserved id=0");
    if (!seen.insert(item.id).second) {
      return Malformed(std::string("multiple ") + what + "s with same id: " +
                       std::to_string(item.id));
    }
  }
  return Ok();
}

Result<void> Validate(const Profile& profile) {
  if (!profile.samples.empty() && profile.sample_types.empty()) {
    return Malformed("missing sample type information");
  }
  GOLENS_TRY_VOID(CheckUniqueIds(profile.mappings, "mapping"));
  GOLENS_TRY_VOID(CheckUniqueIds(profile.functions, "function"));
  GOLENS_TRY_VOID(CheckUniqueIds(profile.locations, "location"));
  ProfileIndex index(profile);
  for (const Location& location : profile.locations) {
    for (const Line& line : location.lines) {
      if (index.function(line.function_id) == nullptr) {
        return Malformed("location id: " + std::to_string(location.id) +
                         " has a line with nil function");
      }
    }
  }
  for (size_t i = 0; i < profile.samples.size(); ++i) {
    const Sample& sample = profile.samples[i];
    if (sample.values.size() != profile.sample_types.size()) {
      return Malformed("mismatch: sample has " + std::to_string(sample.values.size()) +
                       " values vs. " + std::to_string(profile.sample_types.size()) + " types");
    }
    for (uint64_t id : sample.location_ids) {
      if (index.location(id) == nullptr) {
        return Malformed("sample " + std::to_string(i) + " has nil location (id " +
                         std::to_string(id) + ")");
      }
    }
  }
  return Ok();
}

Result<Profile> Decode(std::span<const uint8_t> bytes) {
  pb::Profile p;
  google::protobuf::io::CodedInputStream input(bytes.data(), static_cast<int>(bytes.size()));
  input.SetRecursionLimit(16);
  if (!p.ParseFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    return MakeError("not a pprof profile: protobuf decoding failed (corrupt or truncated data)");
  }
  if (p.string_table_size() == 0 || !p.string_table(0).empty()) {
    return Malformed(p.string_table_size() == 0 ? "empty string table"
                                                : "string_table[0] must be ''");
  }
  StringTableReader strings(p);
  Profile out;
  auto value_type = [&](const pb::ValueType& v, const char* field) {
    return ValueType{strings.Get(v.type(), field), strings.Get(v.unit(), field)};
  };
  out.sample_types.reserve(p.sample_type_size());
  for (const pb::ValueType& v : p.sample_type()) out.sample_types.push_back(value_type(v, "sample_type"));
  out.samples.resize(p.sample_size());
  for (int i = 0; i < p.sample_size(); ++i) {
    const pb::Sample& s = p.sample(i);
    Sample& sample = out.samples[i];
    sample.location_ids.assign(s.location_id().begin(), s.location_id().end());
    sample.values.assign(s.value().begin(), s.value().end());
    for (const pb::Label& l : s.label()) {
      Label label;
      label.key = strings.Get(l.key(), "label.key");
      // pprof's decoder: string if str != 0, numeric if num or unit is set,
      // otherwise the label is dropped.
      if (l.str() != 0) {
        label.str = strings.Get(l.str(), "label.str");
      } else if (l.num() != 0 || l.num_unit() != 0) {
        label.num = l.num();
        label.num_unit = strings.Get(l.num_unit(), "label.num_unit");
      } else {
        continue;
      }
      sample.labels.push_back(std::move(label));
    }
  }
  out.mappings.resize(p.mapping_size());
  for (int i = 0; i < p.mapping_size(); ++i) {
    const pb::Mapping& m = p.mapping(i);
    Mapping& mapping = out.mappings[i];
    mapping.id = m.id();
    mapping.memory_start = m.memory_start();
    mapping.memory_limit = m.memory_limit();
    mapping.file_offset = m.file_offset();
    mapping.filename = strings.Get(m.filename(), "mapping.filename");
    mapping.build_id = strings.Get(m.build_id(), "mapping.build_id");
    mapping.has_functions = m.has_functions();
    mapping.has_filenames = m.has_filenames();
    mapping.has_line_numbers = m.has_line_numbers();
    mapping.has_inline_frames = m.has_inline_frames();
  }
  out.locations.resize(p.location_size());
  for (int i = 0; i < p.location_size(); ++i) {
    const pb::Location& l = p.location(i);
    Location& location = out.locations[i];
    location.id = l.id();
    location.mapping_id = l.mapping_id();
    location.address = l.address();
    location.is_folded = l.is_folded();
    location.lines.reserve(l.line_size());
    for (const pb::Line& line : l.line()) {
      location.lines.push_back(Line{line.function_id(), line.line(), line.column()});
    }
  }
  out.functions.resize(p.function_size());
  for (int i = 0; i < p.function_size(); ++i) {
    const pb::Function& f = p.function(i);
    Function& function = out.functions[i];
    function.id = f.id();
    function.name = strings.Get(f.name(), "function.name");
    function.system_name = strings.Get(f.system_name(), "function.system_name");
    function.filename = strings.Get(f.filename(), "function.filename");
    function.start_line = f.start_line();
  }
  out.drop_frames = strings.Get(p.drop_frames(), "drop_frames");
  out.keep_frames = strings.Get(p.keep_frames(), "keep_frames");
  out.time_nanos = p.time_nanos();
  out.duration_nanos = p.duration_nanos();
  if (p.has_period_type()) out.period_type = value_type(p.period_type(), "period_type");
  out.period = p.period();
  for (int64_t c : p.comment()) out.comments.push_back(strings.Get(c, "comment"));
  out.default_sample_type = strings.Get(p.default_sample_type(), "default_sample_type");
  out.doc_url = strings.Get(p.doc_url(), "doc_url");
  if (!strings.error().empty()) return Malformed(strings.error());
  GOLENS_TRY_VOID(Validate(out));
  return out;
}

// First-use order string table, "" at 0 (as pprof's encoder).
class StringTableWriter {
 public:
  explicit StringTableWriter(pb::Profile* p) : p_(p) { Add(""); }
  int64_t Add(const std::string& s) {
    auto [it, inserted] = index_.try_emplace(s, static_cast<int64_t>(index_.size()));
    if (inserted) p_->add_string_table(s);
    return it->second;
  }

 private:
  pb::Profile* p_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace

Result<Profile> ParsePprof(std::span<const uint8_t> data, uint64_t max_decompressed) {
  if (data.empty()) return MakeError("empty profile (0 bytes)", ErrorKind::kCorrupt);
  try {
    if (IsGzip(data)) {
      GOLENS_TRY(std::string raw, GzipDecompress(data, static_cast<size_t>(max_decompressed)));
      if (raw.empty()) return MakeError("empty profile (gzip stream holds 0 bytes)");
      return Decode(std::span(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
    }
    if (data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return MakeError("profile too large for protobuf decoding (over 2 GiB)");
    }
    return Decode(data);
  } catch (const std::exception& e) {  // allocation failure and the like
    return MakeError(std::string("decoding profile: ") + e.what());
  }
}

Result<std::string> SerializePprof(const Profile& profile, bool gzip) {
  try {
    pb::Profile p;
    StringTableWriter strings(&p);
    auto set_value_type = [&](pb::ValueType* v, const ValueType& from) {
      v->set_type(strings.Add(from.type));
      v->set_unit(strings.Add(from.unit));
    };
    for (const ValueType& v : profile.sample_types) set_value_type(p.add_sample_type(), v);
    p.mutable_sample()->Reserve(static_cast<int>(profile.samples.size()));
    for (const Sample& sample : profile.samples) {
      pb::Sample* s = p.add_sample();
      s->mutable_location_id()->Add(sample.location_ids.begin(), sample.location_ids.end());
      s->mutable_value()->Add(sample.values.begin(), sample.values.end());
      for (const Label& label : sample.labels) {
        pb::Label* l = s->add_label();
        l->set_key(strings.Add(label.key));
        if (!label.str.empty()) {
          l->set_str(strings.Add(label.str));
        } else {
          l->set_num(label.num);
          if (!label.num_unit.empty()) l->set_num_unit(strings.Add(label.num_unit));
        }
      }
    }
    for (const Mapping& mapping : profile.mappings) {
      pb::Mapping* m = p.add_mapping();
      m->set_id(mapping.id);
      m->set_memory_start(mapping.memory_start);
      m->set_memory_limit(mapping.memory_limit);
      m->set_file_offset(mapping.file_offset);
      m->set_filename(strings.Add(mapping.filename));
      m->set_build_id(strings.Add(mapping.build_id));
      m->set_has_functions(mapping.has_functions);
      m->set_has_filenames(mapping.has_filenames);
      m->set_has_line_numbers(mapping.has_line_numbers);
      m->set_has_inline_frames(mapping.has_inline_frames);
    }
    p.mutable_location()->Reserve(static_cast<int>(profile.locations.size()));
    for (const Location& location : profile.locations) {
      pb::Location* l = p.add_location();
      l->set_id(location.id);
      l->set_mapping_id(location.mapping_id);
      l->set_address(location.address);
      l->set_is_folded(location.is_folded);
      for (const Line& line : location.lines) {
        pb::Line* out = l->add_line();
        out->set_function_id(line.function_id);
        out->set_line(line.line);
        out->set_column(line.column);
      }
    }
    p.mutable_function()->Reserve(static_cast<int>(profile.functions.size()));
    for (const Function& function : profile.functions) {
      pb::Function* f = p.add_function();
      f->set_id(function.id);
      f->set_name(strings.Add(function.name));
      f->set_system_name(strings.Add(function.system_name));
      f->set_filename(strings.Add(function.filename));
      f->set_start_line(function.start_line);
    }
    if (!profile.drop_frames.empty()) p.set_drop_frames(strings.Add(profile.drop_frames));
    if (!profile.keep_frames.empty()) p.set_keep_frames(strings.Add(profile.keep_frames));
    p.set_time_nanos(profile.time_nanos);
    p.set_duration_nanos(profile.duration_nanos);
    if (!profile.period_type.type.empty() || !profile.period_type.unit.empty()) {
      set_value_type(p.mutable_period_type(), profile.period_type);
    }
    p.set_period(profile.period);
    for (const std::string& comment : profile.comments) p.add_comment(strings.Add(comment));
    if (!profile.default_sample_type.empty()) {
      p.set_default_sample_type(strings.Add(profile.default_sample_type));
    }
    if (!profile.doc_url.empty()) p.set_doc_url(strings.Add(profile.doc_url));

    std::string raw;
    if (!p.SerializeToString(&raw)) return MakeError("encoding profile: protobuf serialization failed");
    if (!gzip) return raw;
    return GzipCompress(std::span(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()), 1);
  } catch (const std::exception& e) {
    return MakeError(std::string("encoding profile: ") + e.what());
  }
}

}  // namespace golens::pprof
