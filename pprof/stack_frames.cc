#include "pprof/stack_frames.h"

#include <algorithm>

#include <cstdio>

namespace golens::pprof {
namespace {

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ';' separates frames in folded text and '\n' ends a line: neither may
// appear inside a name (pprof-to-folded converters use ':' too).
std::string FoldSafe(std::string name) {
  for (char& c : name) {
    if (c == ';') c = ':';
    else if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return name;
}

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

bool IsKernelMappingName(const std::string& filename) {
  return filename == "[kernel]" || filename == "[kernel.kallsyms]" ||
         filename.starts_with("[kernel.kallsyms]");
}

std::vector<StackFrame> LocationFrames(const Location& location, const ProfileIndex& index) {
  const Mapping* mapping = index.mapping(location.mapping_id);
  std::string mapping_name = mapping != nullptr ? mapping->filename : "";
  bool kernel = IsKernelMappingName(mapping_name);
  std::vector<StackFrame> frames;
  if (location.lines.empty()) {
    StackFrame frame;
    frame.name = mapping_name.empty() ? Hex(location.address)
                                      : "[" + Basename(mapping_name) + "] " + Hex(location.address);
    frame.name = FoldSafe(std::move(frame.name));
    frame.mapping = mapping_name;
    frame.kernel = kernel;
    frames.push_back(std::move(frame));
    return frames;
  }
  frames.reserve(location.lines.size());
  for (size_t i = location.lines.size(); i-- > 0;) {
    const Function* function = index.function(location.lines[i].function_id);
    StackFrame frame;
    if (function != nullptr) {
      frame.name = !function->name.empty() ? function->name : function->system_name;
      frame.filename = function->filename;
    }
    if (frame.name.empty()) {
      frame.name = mapping_name.empty() ? Hex(location.address) : "[" + Basename(mapping_name) + "]";
    }
    frame.name = FoldSafe(std::move(frame.name));
    frame.mapping = mapping_name;
    frame.kernel = kernel;
    frames.push_back(std::move(frame));
  }
  // lines[0] is the innermost callee; every line but the last (the physical
  // function, now frames[0]) was inlined.
  for (size_t i = 1; i < frames.size(); ++i) frames[i].inlined = true;
  return frames;
}

std::vector<uint64_t> GoMappingIds(const Profile& profile, const ProfileIndex& index) {
  std::vector<uint64_t> ids;
  for (const Location& location : profile.locations) {
    if (location.mapping_id == 0) continue;
    if (!ids.empty() && ids.back() == location.mapping_id) continue;  // runs of one mapping are common
    for (const Line& line : location.lines) {
      const Function* function = index.function(line.function_id);
      if (function != nullptr && function->filename.ends_with(".go")) {
        ids.push_back(location.mapping_id);
        break;
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace golens::pprof
