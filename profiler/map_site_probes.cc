#include "profiler/map_site_probes.h"

#include <cstdio>
#include <map>
#include <string_view>

namespace golens::profiler {

std::string MapSiteName(const symbolizer::SymbolizedAddress& call) {
  if (call.frames.empty()) return "";
  const symbolizer::Frame& f = call.frames.front();
  std::string_view file = f.file;
  if (size_t slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
  return f.function + " " + std::string(file) + ":" + std::to_string(f.line);
}

std::vector<MapSiteProbes> MapSiteProbesOf(const Interval& interval, uint32_t process, FrameCache* frames) {
  std::map<std::string, MapProbeHistogram> by_name;
  for (const auto& [key, lookups] : interval.map_probes()) {
    const auto& [owner, mapping_index, site] = key;
    if (owner != process || mapping_index >= interval.mappings().size()) continue;
    const MappingRecord& mapping = *interval.mappings()[mapping_index];
    std::string name;
    // The return address; the call instruction is the byte before it.
    if (mapping.binary && site > 0) {
      if (auto vaddr = mapping.Vaddr(site - 1)) {
        uint64_t address = *vaddr;
        std::vector<FrameCache::Frames> found = frames->Symbolize(*mapping.binary, {&address, 1});
        if (!found.empty() && found[0]) name = MapSiteName(*found[0]);
      }
    }
    if (name.empty()) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "0x%llx ", static_cast<unsigned long long>(site));
      name = hex + (mapping.path.empty() ? std::string("[anon]") : mapping.path);
    }
    by_name[name].Merge(lookups);
  }
  std::vector<MapSiteProbes> out;
  out.reserve(by_name.size());
  for (auto& [name, lookups] : by_name) out.push_back(MapSiteProbes{name, std::move(lookups)});
  return out;
}

}  // namespace golens::profiler
