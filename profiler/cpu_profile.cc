#include "profiler/cpu_profile.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "pprof/builder.h"
#include "profiler/map_site_probes.h"
#include "profiler/native_unwind.h"

namespace golens::profiler {
namespace {

// The address to look up and to store: the executing PC for the leaf, the
// call instruction (return address - 1) for every caller, as pprof expects.
inline uint64_t LookupAddress(uint64_t pc, bool executing) { return executing || pc == 0 ? pc : pc - 1; }

struct PairHash {
  size_t operator()(const std::pair<uint32_t, uint64_t>& p) const {
    return std::hash<uint64_t>{}(p.second * 31 + p.first);
  }
};

class ProfileAssembler {
 public:
  ProfileAssembler(const Interval& interval, const CpuProfileOptions& options, FrameCache* frames)
      : interval_(interval), options_(options), frames_(frames),
        builder_({{"samples", "count"}, {"cpu", "nanoseconds"}}) {}

  pprof::Profile Run() {
    auto& header = builder_.header();
    header.period_type = {"cpu", "nanoseconds"};
    header.period = 1000000000LL / std::max(1, options_.hz);
    header.time_nanos = interval_.start_wall_ns();
    header.duration_nanos = std::max<int64_t>(0, interval_.end_wall_ns() - interval_.start_wall_ns());
    const IntervalProcess* first = nullptr;
    for (const IntervalProcess& p : interval_.processes()) {
      // A process with only probed map lookups (deep mode) has no samples here.
      if (!Included(p.key) || p.samples == 0) continue;
      if (!first) first = &p;
      header.comments.push_back(ProcessComment(options_.comment_prefix, p));
    }
    // mapping[0] must be the main binary of the first process.
    if (first && first->main_mapping != kNoMapping) MappingId(first->main_mapping);
    SymbolizeUser();
    SymbolizeKernel();
    AddSamples();
    return builder_.Build();
  }

 private:
  bool Included(uint32_t process) const { return !options_.only_process || *options_.only_process == process; }

  uint64_t MappingId(uint32_t index) {
    auto it = mapping_ids_.find(index);
    if (it != mapping_ids_.end()) return it->second;
    const MappingRecord& m = *interval_.mappings()[index];
    pprof::Mapping pm;
    pm.memory_start = m.start;
    pm.memory_limit = m.end;
    pm.file_offset = m.file_offset;
    // Anonymous memory gets a bracketed name: pprof then does not look for
    // a binary (and warn) for it.
    pm.filename = m.path.empty() ? "[anon]" : m.path;
    if (m.binary) {
      const symbolizer::Binary& binary = m.binary->binary();
      pm.build_id = binary.build_id();
      pm.has_functions = true;
      pm.has_filenames = binary.is_go();
      pm.has_line_numbers = binary.is_go();
      pm.has_inline_frames = binary.is_go();
    }
    uint64_t id = builder_.AddMapping(pm);
    mapping_ids_.emplace(index, id);
    return id;
  }

  std::vector<pprof::Line> Lines(const symbolizer::SymbolizedAddress& result) {
    std::vector<pprof::Line> lines;
    for (const symbolizer::Frame& frame : result.frames) {
      const std::string& system = frame.system_name.empty() ? frame.function : frame.system_name;
      uint64_t fn = builder_.AddFunction(frame.function, system, frame.file, frame.start_line);
      lines.push_back(pprof::Line{fn, frame.line, 0});
    }
    return lines;
  }

  // Every distinct (mapping, lookup address) becomes one location; the
  // addresses of one binary are symbolized in one batch.
  void SymbolizeUser() {
    std::vector<std::vector<uint64_t>> by_mapping(interval_.mappings().size());
    std::vector<uint64_t> unmapped;
    for (const auto& [key, count] : interval_.stacks()) {
      if (!Included(key.process)) continue;
      for (size_t i = 0; i < key.user.size(); ++i) {
        uint64_t address = LookupAddress(key.user[i], i == 0 && !key.kernel_mode);
        uint32_t m = key.user_mapping[i];
        (m == kNoMapping ? unmapped : by_mapping[m]).push_back(address);
      }
    }
    for (uint32_t m = 0; m < by_mapping.size(); ++m) {
      auto& addresses = by_mapping[m];
      if (addresses.empty()) continue;
      std::sort(addresses.begin(), addresses.end());
      addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
      const MappingRecord& record = *interval_.mappings()[m];
      uint64_t mapping_id = MappingId(m);
      std::vector<FrameCache::Frames> frames;
      if (record.binary) {
        std::vector<uint64_t> vaddrs;
        vaddrs.reserve(addresses.size());
        for (uint64_t a : addresses) vaddrs.push_back(record.Vaddr(a).value_or(0));
        frames = frames_->Symbolize(*record.binary, vaddrs);
      }
      for (size_t i = 0; i < addresses.size(); ++i) {
        std::vector<pprof::Line> lines;
        if (i < frames.size() && frames[i]) {
          lines = Lines(*frames[i]);
          user_frames_[{m, addresses[i]}] = frames[i];
        }
        user_locations_[{m, addresses[i]}] = builder_.AddLocation(mapping_id, addresses[i], std::move(lines));
      }
    }
    for (uint64_t address : unmapped) {
      user_locations_[{kNoMapping, address}] = builder_.AddLocation(0, address, {});
    }
  }

  void SymbolizeKernel() {
    std::vector<uint64_t> addresses;
    for (const auto& [key, count] : interval_.stacks()) {
      if (!Included(key.process)) continue;
      for (size_t i = 0; i < key.kernel.size(); ++i) addresses.push_back(LookupAddress(key.kernel[i], i == 0));
    }
    if (addresses.empty()) return;
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    pprof::Mapping kernel;
    kernel.memory_start = addresses.front();
    kernel.memory_limit = addresses.back() + 1;
    kernel.filename = "[kernel]";
    kernel.has_functions = options_.kallsyms != nullptr;
    uint64_t mapping_id = builder_.AddMapping(kernel);
    for (uint64_t address : addresses) {
      std::vector<pprof::Line> lines;
      if (options_.kallsyms) lines = Lines(options_.kallsyms->Symbolize(address));
      kernel_locations_[address] = builder_.AddLocation(mapping_id, address, std::move(lines));
    }
  }

  uint64_t TruncatedLocation() {
    if (truncated_location_ == 0) {
      uint64_t fn = builder_.AddFunction(kTruncatedFrame, kTruncatedFrame, "", 0);
      truncated_location_ = builder_.AddLocation(0, 0, {pprof::Line{fn, 0, 0}});
    }
    return truncated_location_;
  }

  // A root frame saying why native unwinding stopped: the stack above it is
  // unknown, not absent.
  uint64_t NativeCutLocation(uint8_t cut) {
    uint64_t& id = native_cut_locations_[cut];
    if (id == 0) {
      std::string name(NativeCutName(static_cast<NativeCut>(cut)));
      uint64_t fn = builder_.AddFunction(name, name, "", 0);
      id = builder_.AddLocation(0, 0, {pprof::Line{fn, 0, 0}});
    }
    return id;
  }

  void AddSamples() {
    const int64_t period = 1000000000LL / std::max(1, options_.hz);
    std::vector<uint64_t> ids;
    for (const auto& [key, count] : interval_.stacks()) {
      if (!Included(key.process)) continue;
      ids.clear();
      for (size_t i = 0; i < key.kernel.size(); ++i) {
        ids.push_back(kernel_locations_[LookupAddress(key.kernel[i], i == 0)]);
      }
      if (key.kernel_truncated) ids.push_back(TruncatedLocation());
      for (size_t i = 0; i < key.user.size(); ++i) {
        auto it = user_locations_.find({key.user_mapping[i], LookupAddress(key.user[i], i == 0 && !key.kernel_mode)});
        if (it != user_locations_.end()) ids.push_back(it->second);
      }
      if (key.user_truncated) ids.push_back(TruncatedLocation());
      if (key.native_cut) ids.push_back(NativeCutLocation(key.native_cut));
      if (ids.empty()) continue;  // unreachable in practice: BPF always records the user PC
      int64_t values[2] = {static_cast<int64_t>(count), static_cast<int64_t>(count) * period};
      const StackKey& stack = key;
      auto frame_labels = [&](const Attribute& a, size_t frame, std::vector<pprof::Label>* out) {
        if (a.key != kMapSiteKey || frame >= stack.user.size()) return;
        std::string name = FrameName(stack, frame);
        if (!name.empty()) out->push_back(pprof::Label{a.key, std::move(name), 0, ""});
        const MapProbeHistogram* probes =
            interval_.MapProbes(stack.process, stack.user_mapping[frame], stack.user[frame]);
        if (probes) {
          probes->AppendLabels(out);
        }
      };
      builder_.AddSample(ids, values, ToPprofLabels(interval_.attributes().Get(key.attributes), frame_labels));
    }
  }

  // "function file:line" of a user frame (the innermost of its inline
  // chain: the code that made the call), for labels naming a call site.
  std::string FrameName(const StackKey& key, size_t frame) const {
    if (frame >= key.user.size()) return "";
    auto it = user_frames_.find({key.user_mapping[frame], LookupAddress(key.user[frame], frame == 0 && !key.kernel_mode)});
    if (it == user_frames_.end() || !it->second) return "";
    return MapSiteName(*it->second);
  }

  const Interval& interval_;
  const CpuProfileOptions& options_;
  FrameCache* frames_;
  pprof::ProfileBuilder builder_;
  std::unordered_map<uint32_t, uint64_t> mapping_ids_;
  std::unordered_map<std::pair<uint32_t, uint64_t>, uint64_t, PairHash> user_locations_;
  std::unordered_map<uint64_t, uint64_t> kernel_locations_;
  std::unordered_map<std::pair<uint32_t, uint64_t>, FrameCache::Frames, PairHash> user_frames_;
  uint64_t truncated_location_ = 0;
  std::unordered_map<uint8_t, uint64_t> native_cut_locations_;
};

}  // namespace

std::string ProcessComment(const std::string& prefix, const IntervalProcess& p) {
  std::string line = prefix + ": pid " + std::to_string(p.id.pid) + " start " + std::to_string(p.id.start_ticks) +
                     " exe " + (p.exe_path.empty() ? "?" : p.exe_path);
  if (!p.go_version.empty()) line += " go " + p.go_version;
  line += " samples " + std::to_string(p.samples);
  return line;
}

pprof::Profile BuildCpuProfile(const Interval& interval, const CpuProfileOptions& options) {
  FrameCache local(1 << 12);
  ProfileAssembler assembler(interval, options, options.frames ? options.frames : &local);
  return assembler.Run();
}

}  // namespace golens::profiler
