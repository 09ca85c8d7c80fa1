// Re-symbolizes a runtime/pprof CPU profile through golens: every location's
// address goes through symbolizer::Binary as it is (runtime/pprof writes
// Frame.PC, which runtime.CallersFrames already moved into the call), and the functions are written the way golens' recorder writes them
// (name = Frame.function, system_name = Frame.system_name or the name,
// start_line). Prints every frame where golens and runtime/pprof disagree on
// name, system_name, start_line, file or line, and exits 1 if any does, or
// if the profile has no generic (go.shape) frame to compare. Writes the
// re-symbolized profile to OUT (for `go tool preprofile`).
//
// usage: pgo_resymbolize BINARY RUNTIME_PPROF OUT
#include <cstdio>
#include <string>
#include <vector>

#include "pprof/builder.h"
#include "pprof/profile_io.h"
#include "symbolizer/symbolizer.h"

using namespace golens;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pgo_resymbolize BINARY RUNTIME_PPROF OUT\n");
    return 2;
  }
  auto binary = symbolizer::Binary::Open(argv[1]);
  if (!binary.ok()) {
    std::fprintf(stderr, "pgo_resymbolize: %s\n", binary.error().message.c_str());
    return 1;
  }
  auto in = pprof::ReadProfileFile(argv[2]);
  if (!in.ok()) {
    std::fprintf(stderr, "pgo_resymbolize: %s\n", in.error().message.c_str());
    return 1;
  }
  const pprof::Profile& ref = *in;
  pprof::ProfileIndex index(ref);
  pprof::ProfileBuilder builder(ref.sample_types);
  builder.header().period_type = ref.period_type;
  builder.header().period = ref.period;
  builder.header().time_nanos = ref.time_nanos;
  builder.header().duration_nanos = ref.duration_nanos;
  size_t compared = 0, generic = 0, mismatches = 0;
  std::vector<uint64_t> new_location(ref.locations.size() + 1, 0);
  std::vector<std::pair<uint64_t, uint64_t>> ids;  // ref location id -> ours
  for (const pprof::Location& location : ref.locations) {
    const pprof::Mapping* mapping = index.mapping(location.mapping_id);
    uint64_t mapping_id = mapping != nullptr ? builder.AddMapping(*mapping) : 0;
    std::vector<pprof::Line> lines;
    if (location.address != 0) {
      uint64_t pc = location.address;
      auto result = (*binary)->Symbolize(std::span<const uint64_t>(&pc, 1));
      const auto& frames = result[0].frames;
      for (size_t i = 0; i < frames.size(); ++i) {
        const symbolizer::Frame& f = frames[i];
        const std::string& system = f.system_name.empty() ? f.function : f.system_name;
        lines.push_back(pprof::Line{builder.AddFunction(f.function, system, f.file, f.start_line), f.line, 0});
      }
      // Compare with what runtime/pprof wrote, frame by frame (innermost first).
      if (frames.size() != location.lines.size()) {
        std::printf("MISMATCH %#lx: %zu frames, runtime/pprof has %zu\n", static_cast<unsigned long>(location.address),
                    frames.size(), location.lines.size());
        ++mismatches;
      }
      for (size_t i = 0; i < frames.size() && i < location.lines.size(); ++i) {
        const pprof::Function* fn = index.function(location.lines[i].function_id);
        if (fn == nullptr) continue;
        const symbolizer::Frame& f = frames[i];
        const std::string& system = f.system_name.empty() ? f.function : f.system_name;
        ++compared;
        if (fn->name.find("go.shape.") != std::string::npos) ++generic;
        if (fn->name != f.function || fn->system_name != system || fn->start_line != f.start_line ||
            fn->filename != f.file || location.lines[i].line != f.line) {
          std::printf("MISMATCH %#lx frame %zu:\n  runtime/pprof: %s (system %s) start %ld %s:%ld\n"
                      "  golens:        %s (system %s) start %ld %s:%ld\n",
                      static_cast<unsigned long>(location.address), i, fn->name.c_str(), fn->system_name.c_str(),
                      static_cast<long>(fn->start_line), fn->filename.c_str(),
                      static_cast<long>(location.lines[i].line), f.function.c_str(), system.c_str(),
                      static_cast<long>(f.start_line), f.file.c_str(), static_cast<long>(f.line));
          ++mismatches;
        }
      }
    }
    ids.emplace_back(location.id, builder.AddLocation(mapping_id, location.address, std::move(lines)));
  }
  std::unordered_map<uint64_t, uint64_t> remap(ids.begin(), ids.end());
  for (const pprof::Sample& sample : ref.samples) {
    std::vector<uint64_t> stack;
    for (uint64_t id : sample.location_ids) stack.push_back(remap[id]);
    builder.AddSample(stack, sample.values, sample.labels);
  }
  auto written = pprof::WritePprofFile(builder.Build(), argv[3]);
  if (!written.ok()) {
    std::fprintf(stderr, "pgo_resymbolize: %s\n", written.error().message.c_str());
    return 1;
  }
  std::printf("compared %zu frames (%zu generic), %zu mismatches\n", compared, generic, mismatches);
  if (generic == 0) {
    std::printf("FAIL: no generic frame in the profile; the fixture did not exercise generics\n");
    return 1;
  }
  return mismatches == 0 ? 0 : 1;
}
