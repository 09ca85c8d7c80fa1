#include "profiler/cpu_profile.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "pprof/builder.h"

namespace golens::profiler {
namespace {

// The address to look up and to store: the executing PC for the leaf, the
// call instruction (return address - 1) for every caller, as pprof expects.
inline uint64_t LookupAddress(uint64_t pc, bool executing) { return executing || pc == 0 ? pc : pc - 1; }

class ProfileAssembler {
 public:
  explicit ProfileAssembler(const CpuProfileInput& input)
      : input_(input), builder_({{"samples", "count"}, {"cpu", "nanoseconds"}}) {}

  pprof::Profile Run() {
    auto& header = builder_.header();
    header.period_type = {"cpu", "nanoseconds"};
    header.period = 1000000000LL / std::max(1, input_.hz);
    header.time_nanos = input_.time_nanos;
    header.duration_nanos = input_.duration_nanos;
    header.comments = input_.comments;

    AddMainMapping();
    for (TargetProcess* target : input_.targets) SymbolizeProcess(*target);
    SymbolizeKernel();
    AddSamples();
    return builder_.Build();
  }

 private:
  // mapping[0] must be the main binary of the first target.
  void AddMainMapping() {
    if (input_.targets.empty()) return;
    TargetProcess& first = *input_.targets[0];
    const auto& mappings = first.symbolizer().mappings();
    for (size_t i = 0; i < mappings.size(); ++i) {
      if (mappings[i].executable() && mappings[i].path == first.exe_path()) {
        MappingId(first, i);
        return;
      }
    }
  }

  uint64_t MappingId(TargetProcess& target, size_t index) {
    auto key = std::make_pair(target.pid(), index);
    auto it = mapping_ids_.find(key);
    if (it != mapping_ids_.end()) return it->second;
    const symbolizer::Mapping& m = target.symbolizer().mappings()[index];
    std::shared_ptr<const symbolizer::Binary> binary = target.symbolizer().BinaryFor(index);
    pprof::Mapping pm;
    pm.memory_start = m.start;
    pm.memory_limit = m.end;
    pm.file_offset = m.file_offset;
    // Anonymous memory gets a bracketed name: pprof then does not look for
    // a binary (and warn) for it.
    pm.filename = m.path.empty() ? "[anon]" : m.path;
    if (binary) {
      pm.build_id = binary->build_id();
      pm.has_functions = true;
      pm.has_filenames = binary->is_go();
      pm.has_line_numbers = binary->is_go();
      pm.has_inline_frames = binary->is_go();
    }
    uint64_t id = builder_.AddMapping(pm);
    mapping_ids_.emplace(key, id);
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

  void SymbolizeProcess(TargetProcess& target) {
    std::vector<uint64_t> addresses;
    for (const auto& [key, count] : input_.samples->stacks()) {
      if (key.tgid != static_cast<uint32_t>(target.pid())) continue;
      for (size_t i = 0; i < key.user.size(); ++i) {
        addresses.push_back(LookupAddress(key.user[i], i == 0 && !key.kernel_mode));
      }
    }
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    std::vector<symbolizer::SymbolizedAddress> results = target.symbolizer().Symbolize(addresses);
    auto& locations = user_locations_[target.pid()];
    for (size_t i = 0; i < addresses.size(); ++i) {
      uint64_t mapping_id = 0;
      if (auto norm = target.symbolizer().Normalize(addresses[i])) {
        mapping_id = MappingId(target, norm->mapping_index);
      }
      std::vector<pprof::Line> lines;
      if (i < results.size()) lines = Lines(results[i]);
      locations[addresses[i]] = builder_.AddLocation(mapping_id, addresses[i], std::move(lines));
    }
  }

  void SymbolizeKernel() {
    std::vector<uint64_t> addresses;
    for (const auto& [key, count] : input_.samples->stacks()) {
      for (size_t i = 0; i < key.kernel.size(); ++i) addresses.push_back(LookupAddress(key.kernel[i], i == 0));
    }
    if (addresses.empty()) return;
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    pprof::Mapping kernel;
    kernel.memory_start = addresses.front();
    kernel.memory_limit = addresses.back() + 1;
    kernel.filename = "[kernel]";
    kernel.has_functions = input_.kallsyms != nullptr;
    uint64_t mapping_id = builder_.AddMapping(kernel);
    for (uint64_t address : addresses) {
      std::vector<pprof::Line> lines;
      if (input_.kallsyms) lines = Lines(input_.kallsyms->Symbolize(address));
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

  void AddSamples() {
    const int64_t period = 1000000000LL / std::max(1, input_.hz);
    std::vector<uint64_t> ids;
    for (const auto& [key, count] : input_.samples->stacks()) {
      ids.clear();
      for (size_t i = 0; i < key.kernel.size(); ++i) {
        ids.push_back(kernel_locations_[LookupAddress(key.kernel[i], i == 0)]);
      }
      if (key.kernel_truncated) ids.push_back(TruncatedLocation());
      auto& locations = user_locations_[static_cast<pid_t>(key.tgid)];
      for (size_t i = 0; i < key.user.size(); ++i) {
        auto it = locations.find(LookupAddress(key.user[i], i == 0 && !key.kernel_mode));
        if (it != locations.end()) ids.push_back(it->second);
      }
      if (key.user_truncated) ids.push_back(TruncatedLocation());
      if (ids.empty()) continue;  // unreachable in practice: BPF always records the user PC
      std::vector<pprof::Label> labels;
      if (input_.per_goroutine && key.goid != 0) {
        labels.push_back(pprof::Label{"goroutine", "", static_cast<int64_t>(key.goid), ""});
      }
      int64_t values[2] = {static_cast<int64_t>(count), static_cast<int64_t>(count) * period};
      builder_.AddSample(ids, values, labels);
    }
  }

  const CpuProfileInput& input_;
  pprof::ProfileBuilder builder_;
  std::map<std::pair<pid_t, size_t>, uint64_t> mapping_ids_;
  std::unordered_map<pid_t, std::unordered_map<uint64_t, uint64_t>> user_locations_;
  std::unordered_map<uint64_t, uint64_t> kernel_locations_;
  uint64_t truncated_location_ = 0;
};

}  // namespace

Result<pprof::Profile> BuildCpuProfile(const CpuProfileInput& input) {
  if (input.samples == nullptr) return MakeError("no samples to build a profile from");
  ProfileAssembler assembler(input);
  return assembler.Run();
}

}  // namespace golens::profiler
