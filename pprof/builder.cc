// ProfileBuilder: content interning with dense ids and sample aggregation.
#include "pprof/builder.h"

#include <string_view>
#include <unordered_map>
#include <utility>

namespace golens::pprof {
namespace {

inline void HashMix(size_t* seed, size_t value) {
  *seed ^= value + 0x9e3779b97f4a7c15ULL + (*seed << 6) + (*seed >> 2);
}
inline size_t HashStr(const std::string& s) { return std::hash<std::string_view>{}(s); }

struct MappingKey {
  uint64_t memory_start, memory_limit, file_offset;
  std::string filename, build_id;
  bool operator==(const MappingKey&) const = default;
};
struct MappingKeyHash {
  size_t operator()(const MappingKey& k) const {
    size_t h = k.memory_start;
    HashMix(&h, k.memory_limit);
    HashMix(&h, k.file_offset);
    HashMix(&h, HashStr(k.filename));
    HashMix(&h, HashStr(k.build_id));
    return h;
  }
};

struct FunctionKey {
  std::string name, system_name, filename;
  int64_t start_line;
  bool operator==(const FunctionKey&) const = default;
};
struct FunctionKeyHash {
  size_t operator()(const FunctionKey& k) const {
    size_t h = HashStr(k.name);
    HashMix(&h, HashStr(k.system_name));
    HashMix(&h, HashStr(k.filename));
    HashMix(&h, static_cast<size_t>(k.start_line));
    return h;
  }
};

struct LocationKey {
  uint64_t mapping_id, address;
  std::vector<Line> lines;
  bool operator==(const LocationKey&) const = default;
};
struct LocationKeyHash {
  size_t operator()(const LocationKey& k) const {
    size_t h = k.mapping_id;
    HashMix(&h, k.address);
    for (const Line& line : k.lines) {
      HashMix(&h, line.function_id);
      HashMix(&h, static_cast<size_t>(line.line));
      HashMix(&h, static_cast<size_t>(line.column));
    }
    return h;
  }
};

struct SampleKey {
  std::vector<uint64_t> location_ids;
  std::vector<Label> labels;
  bool operator==(const SampleKey&) const = default;
};
struct SampleKeyHash {
  size_t operator()(const SampleKey& k) const {
    size_t h = k.location_ids.size();
    for (uint64_t id : k.location_ids) HashMix(&h, id);
    for (const Label& label : k.labels) {
      HashMix(&h, HashStr(label.key));
      HashMix(&h, HashStr(label.str));
      HashMix(&h, static_cast<size_t>(label.num));
    }
    return h;
  }
};

}  // namespace

struct ProfileBuilder::Interner {
  std::unordered_map<MappingKey, uint64_t, MappingKeyHash> mappings;
  std::unordered_map<FunctionKey, uint64_t, FunctionKeyHash> functions;
  std::unordered_map<LocationKey, uint64_t, LocationKeyHash> locations;
  std::unordered_map<SampleKey, size_t, SampleKeyHash> samples;  // -> index in profile.samples
};

ProfileBuilder::ProfileBuilder(std::vector<ValueType> sample_types)
    : interner_(std::make_unique<Interner>()) {
  profile_.sample_types = std::move(sample_types);
}
ProfileBuilder::~ProfileBuilder() = default;
ProfileBuilder::ProfileBuilder(ProfileBuilder&&) noexcept = default;
ProfileBuilder& ProfileBuilder::operator=(ProfileBuilder&&) noexcept = default;

uint64_t ProfileBuilder::AddMapping(const Mapping& mapping) {
  MappingKey key{mapping.memory_start, mapping.memory_limit, mapping.file_offset,
                 mapping.filename, mapping.build_id};
  auto [it, inserted] = interner_->mappings.try_emplace(std::move(key), 0);
  if (inserted) {
    Mapping copy = mapping;
    copy.id = profile_.mappings.size() + 1;
    profile_.mappings.push_back(std::move(copy));
    it->second = profile_.mappings.back().id;
  } else {
    // The same binary seen again may come with more symbol information.
    Mapping& existing = profile_.mappings[it->second - 1];
    existing.has_functions |= mapping.has_functions;
    existing.has_filenames |= mapping.has_filenames;
    existing.has_line_numbers |= mapping.has_line_numbers;
    existing.has_inline_frames |= mapping.has_inline_frames;
  }
  return it->second;
}

uint64_t ProfileBuilder::AddFunction(const std::string& name, const std::string& system_name,
                                     const std::string& filename, int64_t start_line) {
  FunctionKey key{name, system_name, filename, start_line};
  auto [it, inserted] = interner_->functions.try_emplace(std::move(key), 0);
  if (inserted) {
    Function function;
    function.id = profile_.functions.size() + 1;
    function.name = name;
    function.system_name = system_name;
    function.filename = filename;
    function.start_line = start_line;
    profile_.functions.push_back(std::move(function));
    it->second = profile_.functions.back().id;
  }
  return it->second;
}

uint64_t ProfileBuilder::AddLocation(uint64_t mapping_id, uint64_t address,
                                     std::vector<Line> lines) {
  LocationKey key{mapping_id, address, std::move(lines)};
  auto it = interner_->locations.find(key);
  if (it != interner_->locations.end()) return it->second;
  Location location;
  location.id = profile_.locations.size() + 1;
  location.mapping_id = mapping_id;
  location.address = address;
  location.lines = key.lines;
  profile_.locations.push_back(std::move(location));
  interner_->locations.emplace(std::move(key), profile_.locations.back().id);
  return profile_.locations.back().id;
}

void ProfileBuilder::AddSample(std::span<const uint64_t> location_ids,
                               std::span<const int64_t> values, const std::vector<Label>& labels) {
  SampleKey key{std::vector<uint64_t>(location_ids.begin(), location_ids.end()), labels};
  auto it = interner_->samples.find(key);
  if (it != interner_->samples.end()) {
    std::vector<int64_t>& sum = profile_.samples[it->second].values;
    if (sum.size() < values.size()) sum.resize(values.size(), 0);
    // Values are user input: saturate rather than wrap (UB) to the other sign.
    for (size_t i = 0; i < values.size(); ++i) {
      if (__builtin_add_overflow(sum[i], values[i], &sum[i])) sum[i] = values[i] > 0 ? INT64_MAX : INT64_MIN;
    }
    return;
  }
  Sample sample;
  sample.location_ids = key.location_ids;
  sample.values.assign(values.begin(), values.end());
  // pprof requires one value per sample type; pad short inputs with zeros.
  if (sample.values.size() < profile_.sample_types.size()) {
    sample.values.resize(profile_.sample_types.size(), 0);
  }
  sample.labels = labels;
  profile_.samples.push_back(std::move(sample));
  interner_->samples.emplace(std::move(key), profile_.samples.size() - 1);
}

Profile ProfileBuilder::Build() {
  Profile out = std::move(profile_);
  profile_ = Profile{};
  profile_.sample_types = out.sample_types;
  interner_ = std::make_unique<Interner>();
  return out;
}

}  // namespace golens::pprof
