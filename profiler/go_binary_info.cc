#include "profiler/go_binary_info.h"

#include "profiler/function_frame.h"
#include "profiler/go_tls.h"

#include <algorithm>
#include "symbolizer/symbolizer.h"

namespace golens::profiler {

GoBinaryInfo AnalyzeGoBinary(const symbolizer::Binary& binary) {
  GoBinaryInfo info;
  info.is_go = binary.is_go();
  if (!info.is_go) {
    info.go_features_off_reason = "not a Go binary";
    return info;
  }
  info.go_version = binary.go_version();
  std::optional<GoVersion> version = ParseGoVersion(info.go_version);
  if (!version) {
    info.go_features_off_reason =
        info.go_version.empty() ? "Go release unknown (no build info)"
                                : "unrecognized Go release \"" + info.go_version + "\"";
  } else if (auto lookup = LookupGoRuntimeOffsets(*version)) {
    info.offsets = lookup->offsets;
    info.offsets_exact = lookup->exact;
  } else {
    info.go_features_off_reason = info.go_version + " is older than Go 1.17 (no runtime offsets)";
  }
  if (auto tls = DetectGoTlsOffset(binary)) {
    info.tls_offset = *tls;
    info.tls_detected = true;
  }
  // Swiss tables by their package; bucket maps otherwise (Go <= 1.23, or
  // 1.24/1.25 built with GOEXPERIMENT=noswissmap).
  info.swiss_maps = !binary.FindSymbolsWithPrefix("internal/runtime/maps.").empty();
  if (auto serve = binary.FindSymbol("net/http.serverHandler.ServeHTTP"); serve && serve->size > 0) {
    size_t size = static_cast<size_t>(std::min<uint64_t>(serve->size, 1 << 16));
    std::span<const uint8_t> code = binary.ReadVaddr(serve->vaddr, size);
    if (code.size() == size) {
      FunctionFrameInfo frame = AnalyzeFunctionFrame(code.data(), code.size(), serve->vaddr);
      // The entry probe goes on `push rbp`, after the stack check: when the
      // goroutine's stack must grow, runtime.morestack runs the function
      // again from its first instruction, which would count one request
      // twice. (The kernel also emulates `push` instead of single-stepping
      // it: a cheaper probe.) The argument registers are untouched there.
      auto entry = binary.VaddrToFileOffset(frame.push_rbp ? frame.push_rbp : serve->vaddr);
      if (entry) info.http.entry_offset = *entry;
      for (uint64_t ret : frame.returns) {
        if (auto offset = binary.VaddrToFileOffset(ret)) info.http.return_offsets.push_back(*offset);
      }
      info.http.found = entry && !info.http.return_offsets.empty();
    }
  }
  return info;
}

golens_proc_info MakeProcInfo(const GoBinaryInfo& info) {
  golens_proc_info p{};
  if (!info.go_features_on()) return p;
  std::optional<GoVersion> version = ParseGoVersion(info.go_version);
  p.flags = GOLENS_PROC_GO;
  if (version && !(*version < GoVersion{1, 17, 0})) p.flags |= GOLENS_PROC_REGABI;
  // g.labels points at a map[string]string up to Go 1.23 and at a sorted
  // slice of {key, value} from 1.24 (runtime/pprof/label.go).
  // A release newer than the tables: goroutine ids from the newest row (g.goid
  // has not moved in years), but no walking of structures that may have
  // changed (labels, requests).
  const bool known = info.offsets_exact;
  if (version && known) {
    p.flags |= *version < GoVersion{1, 24, 0} ? GOLENS_PROC_LABELS_MAP : GOLENS_PROC_LABELS_SLICE;
  }
  p.go_version = version ? version->Packed() : 0;
  p.tls_offset = info.tls_offset;
  p.g_m = info.offsets->g_m;
  p.g_goid = info.offsets->g_goid;
  p.g_labels = info.offsets->g_labels;
  p.m_g0 = info.offsets->m_g0;
  p.m_curg = info.offsets->m_curg;
  p.m_gsignal = info.offsets->m_gsignal;
  if (info.swiss_maps) p.flags |= GOLENS_PROC_SWISS_MAPS;
  if (info.http.found && known) {
    HttpOffsets http;
    p.request_method = http.request_method;
    p.request_url = http.request_url;
    p.request_header = http.request_header;
    p.url_path = http.url_path;
  }
  return p;
}

}  // namespace golens::profiler
