// A pprof profile seen in place: string_views and flat arrays over either a
// Profile or the serialized profile.proto bytes themselves, so that readers
// that only walk samples (the merger, counting tagged samples) never build a
// Profile or copy a string. A view is valid as long as what it was made from.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pprof/profile.h"
#include "pprof/sample_filter.h"
#include "profiler/base/result.h"

namespace golens::pprof {

struct VLabel {
  std::string_view key, str;
  int64_t num = 0;
  std::string_view unit;
};
struct VLine {
  uint64_t function_id = 0;
  int64_t line = 0, column = 0;
};
struct VLocation {
  uint64_t id = 0, mapping_id = 0, address = 0;
  uint32_t line_begin = 0, line_count = 0;
  bool is_folded = false;
};
struct VFunction {
  uint64_t id = 0;
  std::string_view name, system_name, filename;
  int64_t start_line = 0;
};
struct VMapping {
  uint64_t id = 0, start = 0, limit = 0, offset = 0;
  std::string_view filename, build_id;
  uint8_t flags = 0;  // has_functions | filenames << 1 | line_numbers << 2 | inline_frames << 3
};
struct VSample {
  uint32_t loc_begin = 0, loc_count = 0, val_begin = 0, val_count = 0, label_begin = 0, label_count = 0;
};

struct View {
  std::vector<std::pair<std::string_view, std::string_view>> types;
  std::vector<VSample> samples;
  std::vector<uint64_t> sample_locs;
  std::vector<int64_t> sample_vals;
  std::vector<VLabel> labels;
  std::vector<VMapping> mappings;
  std::vector<VLocation> locations;
  std::vector<VLine> lines;
  std::vector<VFunction> functions;
  std::vector<std::string_view> comments;
  std::string_view drop_frames, keep_frames, default_sample_type, doc_url;
  std::pair<std::string_view, std::string_view> period_type;
  int64_t time_nanos = 0, duration_nanos = 0, period = 0;

  void Clear() {
    types.clear();
    samples.clear();
    sample_locs.clear();
    sample_vals.clear();
    labels.clear();
    mappings.clear();
    locations.clear();
    lines.clear();
    functions.clear();
    comments.clear();
    drop_frames = keep_frames = default_sample_type = doc_url = {};
    period_type = {};
    time_nanos = duration_nanos = period = 0;
  }
};

// The string table of a view read from bytes (its strings point into them).
class StringTable {
 public:
  std::vector<std::string_view> strings;
  std::string error;
  std::string_view Get(uint64_t index, const char* what) {
    if (index < strings.size()) return strings[index];
    if (error.empty()) {
      error = std::string(what) + " refers to string " + std::to_string(static_cast<int64_t>(index)) +
              " of " + std::to_string(strings.size());
    }
    return {};
  }
};

// kCorrupt "malformed profile: <what>", for readers of views.
Error MalformedProfile(const std::string& what);

void ViewOf(const Profile& p, View* v);
// kCorrupt for bytes that are not a well-formed profile.proto (dangling
// string indexes included); `strings` holds the table the view points into.
Result<void> ViewOfWire(std::span<const uint8_t> data, View* v, StringTable* strings);
// sample_filter.h's SampleMatches on a view's sample.
bool ViewSampleMatches(const View& v, const VSample& s, const std::vector<TagFilter>& filters);

}  // namespace golens::pprof
