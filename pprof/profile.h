// The one profile model every input becomes (our samples, Go runtime/pprof
// files, folded stacks, stored profiles), so flame, fold, diff, merge and
// serve work on any of them. Strings are held directly; the string table
// exists only in the proto encoding (pprof/proto_codec.*).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "profiler/base/result.h"

namespace golens::pprof {

struct ValueType {
  std::string type;  // "samples", "cpu"
  std::string unit;  // "count", "nanoseconds"
  bool operator==(const ValueType&) const = default;
};

struct Label {
  std::string key;
  std::string str;        // string label when non-empty
  int64_t num = 0;        // numeric label when str is empty
  std::string num_unit;   // only with num
  bool operator==(const Label&) const = default;
};

struct Line {
  uint64_t function_id = 0;
  int64_t line = 0;
  int64_t column = 0;
  bool operator==(const Line&) const = default;
};

struct Function {
  uint64_t id = 0;
  std::string name;         // human readable (demangled)
  std::string system_name;  // as in the symbol table (mangled)
  std::string filename;
  int64_t start_line = 0;
};

struct Location {
  uint64_t id = 0;
  uint64_t mapping_id = 0;  // 0 = none
  uint64_t address = 0;
  std::vector<Line> lines;  // lines[0] = innermost inlined callee, last = physical function
  bool is_folded = false;
};

struct Mapping {
  uint64_t id = 0;
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string filename;
  std::string build_id;
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
};

struct Sample {
  std::vector<uint64_t> location_ids;  // leaf first
  std::vector<int64_t> values;         // one per sample_type
  std::vector<Label> labels;
};

struct Profile {
  std::vector<ValueType> sample_types;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;    // mappings[0] is the main binary
  std::vector<Location> locations;
  std::vector<Function> functions;
  std::string drop_frames;
  std::string keep_frames;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  ValueType period_type;
  int64_t period = 0;
  std::vector<std::string> comments;
  std::string default_sample_type;
  std::string doc_url;
};

// Lookups by id for profiles whose ids are not dense (any pprof file).
// Build once, use many times; pointers stay valid while the profile is unchanged.
class ProfileIndex {
 public:
  explicit ProfileIndex(const Profile& profile);
  const Location* location(uint64_t id) const;
  const Function* function(uint64_t id) const;
  const Mapping* mapping(uint64_t id) const;
  const Profile& profile() const { return *profile_; }

 private:
  std::vector<const Location*> locations_;  // by id when dense, else sorted fallback
  std::vector<const Function*> functions_;
  std::vector<const Mapping*> mappings_;
  const Profile* profile_;
  unsigned dense_ = 0;  // bit 0 locations, 1 functions, 2 mappings: indexed by id
};

// Index of the sample type called `name` (type string), or -1.
int SampleTypeIndex(const Profile& profile, const std::string& name);
// The sample type consumers show by default: default_sample_type if it names
// one, else the last (as `go tool pprof`). -1 when there are none.
int DefaultSampleTypeIndex(const Profile& profile);
// "samples, cpu": for error messages that list the available sample types.
std::string SampleTypeNames(const Profile& profile);
// Resolves a --sample-type flag: "" = the default type; an unknown name is a
// usage error that lists the available ones.
Result<int> ResolveSampleIndex(const Profile& profile, const std::string& sample_type);

}  // namespace golens::pprof
