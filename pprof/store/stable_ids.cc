#include "pprof/store/stable_ids.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace golens::store {
namespace {

uint64_t Fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h ^ 0xff;  // field separator
}

// Addresses of user code sit far below this; kernel addresses far above
// it; ids for locations without a usable address start here.
constexpr uint64_t kFallbackLocationBase = uint64_t{1} << 56;

}  // namespace

Result<pprof::Profile> WithStableIds(const pprof::Profile& in) {
  auto dangling = [](const char* what, uint64_t id) {
    return MakeError(std::string("malformed profile: refers to ") + what + " " + std::to_string(id) +
                         ", which is not there",
                     ErrorKind::kInvalidArgument);
  };
  pprof::Profile p = in;
  std::unordered_map<uint64_t, uint64_t> fn_map, loc_map, map_map;
  for (size_t i = 0; i < p.mappings.size(); ++i) {
    map_map[p.mappings[i].id] = i + 1;
    p.mappings[i].id = i + 1;
  }

  std::unordered_set<uint64_t> used;
  // Probing depends on order: go by content so the same functions get the
  // same ids in every profile.
  std::vector<size_t> order(p.functions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto fn_less = [&](size_t a, size_t b) {
    const pprof::Function& x = p.functions[a];
    const pprof::Function& y = p.functions[b];
    return std::tie(x.name, x.system_name, x.filename, x.start_line) <
           std::tie(y.name, y.system_name, y.filename, y.start_line);
  };
  std::sort(order.begin(), order.end(), fn_less);
  for (size_t i : order) {
    pprof::Function& f = p.functions[i];
    uint64_t h = Fnv(Fnv(Fnv(Fnv(1469598103934665603ULL, f.name), f.system_name), f.filename),
                     std::to_string(f.start_line));
    uint64_t id = ((h >> 32) ^ h) & 0xffffffffu;
    if (id == 0) id = 1;
    while (!used.insert(id).second) id = id == 0xffffffffu ? 1 : id + 1;
    fn_map[f.id] = id;
    f.id = id;
  }

  std::unordered_map<uint64_t, int> address_count;
  for (const pprof::Location& l : p.locations) ++address_count[l.address];
  used.clear();
  std::vector<pprof::Location*> fallback;
  for (pprof::Location& l : p.locations) {
    for (pprof::Line& line : l.lines) {
      if (line.function_id == 0) continue;
      auto it = fn_map.find(line.function_id);
      if (it == fn_map.end()) return dangling("function", line.function_id);
      line.function_id = it->second;
    }
    if (l.mapping_id != 0) {
      auto m = map_map.find(l.mapping_id);
      if (m == map_map.end()) return dangling("mapping", l.mapping_id);
      l.mapping_id = m->second;
    }
    if (l.address != 0 && l.address < kFallbackLocationBase && address_count[l.address] == 1) {
      loc_map[l.id] = l.address;
      l.id = l.address;
      used.insert(l.id);
    } else {
      fallback.push_back(&l);
    }
  }
  // Shared or zero addresses (kernel placeholders, truncation markers):
  // numbered after the others, in content order.
  std::sort(fallback.begin(), fallback.end(), [](const pprof::Location* a, const pprof::Location* b) {
    if (a->address != b->address) return a->address < b->address;
    if (a->mapping_id != b->mapping_id) return a->mapping_id < b->mapping_id;
    if (a->lines.size() != b->lines.size()) return a->lines.size() < b->lines.size();
    for (size_t i = 0; i < a->lines.size(); ++i) {
      const pprof::Line& x = a->lines[i];
      const pprof::Line& y = b->lines[i];
      if (x.function_id != y.function_id) return x.function_id < y.function_id;
      if (x.line != y.line) return x.line < y.line;
    }
    return false;
  });
  uint64_t next = kFallbackLocationBase;
  for (pprof::Location* l : fallback) {
    while (used.count(next)) ++next;
    loc_map[l->id] = next;
    l->id = next;
    used.insert(next++);
  }
  for (pprof::Sample& s : p.samples) {
    for (uint64_t& id : s.location_ids) {
      auto it = loc_map.find(id);
      if (it == loc_map.end()) return dangling("location", id);
      id = it->second;
    }
  }
  std::sort(p.functions.begin(), p.functions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(p.locations.begin(), p.locations.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::stable_sort(p.samples.begin(), p.samples.end(),
                   [](const auto& a, const auto& b) { return a.location_ids < b.location_ids; });
  return p;
}

}  // namespace golens::store
