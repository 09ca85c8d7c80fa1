// libFuzzer target over the profile parsers: ParsePprof (raw and gzip) and
// ParseFolded on the same bytes; whatever parses must also survive
// ToFolded, a serialize/parse round trip with the same sample count, and
// rendering (ordinary, folded fast path, diff against itself).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "pprof/profile_io.h"
#include "web/flamegraph.h"
#include "profiler/base/log.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  golens::log::SetLevel(golens::log::Level::kQuiet);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace golens::pprof;
  std::span<const uint8_t> bytes(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fast = golens::web::RenderFoldedFlameGraph(text, {});
  if (fast.ok() && fast->find("</svg>") == std::string::npos) std::abort();
  for (auto parsed : {ParsePprof(bytes), ParseFolded(std::string_view(reinterpret_cast<const char*>(data), size))}) {
    if (!parsed.ok()) {
      if (parsed.error().message.empty()) std::abort();  // errors must say something
      continue;
    }
    (void)ToFolded(*parsed);
    golens::web::FlameOptions options;
    options.min_width = 0;
    auto svg = golens::web::RenderFlameGraph(*parsed, options);
    if (svg.ok() && svg->find("</svg>") == std::string::npos) std::abort();
    (void)golens::web::RenderDiffFlameGraph(*parsed, *parsed, {});
    auto encoded = SerializePprof(*parsed, size % 2 == 0);
    if (!encoded.ok()) continue;
    auto again = ParsePprof(std::span(reinterpret_cast<const uint8_t*>(encoded->data()), encoded->size()));
    if (!again.ok() || again->samples.size() != parsed->samples.size()) std::abort();
  }
  return 0;
}
