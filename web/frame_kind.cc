#include "web/frame_kind.h"

namespace golens::web {
namespace {

bool LooksLikeGoSymbol(std::string_view name) {
  size_t slash = name.rfind('/');
  size_t start = slash == std::string_view::npos ? 0 : slash + 1;
  // The package path part may contain anything but spaces.
  if (name.substr(0, start).find(' ') != std::string_view::npos) return false;
  size_t dot = name.find('.', start);
  if (dot == std::string_view::npos || dot == start || dot + 1 >= name.size()) return false;
  if (name.find("::") != std::string_view::npos) return false;
  for (size_t i = start; i < dot; ++i) {
    char c = name[i];
    if (c == ' ' || c == '(' || c == ')' || c == '<' || c == '[' || c == '@') return false;
  }
  return name[0] != '[' && name[0] != '_' ;
}

}  // namespace

FrameKind ClassifyFrameName(std::string_view name, std::string_view filename, bool kernel) {
  if (kernel) return FrameKind::kKernel;
  if (name.starts_with("runtime.mapaccess") || name.starts_with("runtime.mapassign") ||
      name.starts_with("runtime.mapdelete") || name.starts_with("internal/runtime/maps.")) {
    return FrameKind::kMapLookup;
  }
  if (name.starts_with("runtime.") || name.starts_with("runtime/") ||
      name.starts_with("internal/")) {
    return FrameKind::kGoRuntime;
  }
  if (!filename.empty()) {
    if (filename.ends_with(".go")) return FrameKind::kGoUser;
    // Only the Go pclntab yields ".s" file names (native frames come from ELF
    // symbols, without files), so this is Go assembly: the runtime's own
    // (aeshashbody, memeqbody: runtime/*.s, internal/bytealg/*.s) or a
    // package's (crypto, math/big). Paths are absolute or -trimpath relative.
    if (filename.ends_with(".s")) {
      const bool runtime = filename.starts_with("runtime/") || filename.starts_with("internal/") ||
                           filename.find("/src/runtime/") != std::string_view::npos ||
                           filename.find("/src/internal/") != std::string_view::npos;
      return runtime ? FrameKind::kGoRuntime : FrameKind::kGoUser;
    }
    return FrameKind::kNative;
  }
  return LooksLikeGoSymbol(name) ? FrameKind::kGoUser : FrameKind::kNative;
}

FrameKind ClassifyFrame(const pprof::StackFrame& frame) {
  return ClassifyFrameName(frame.name, frame.filename, frame.kernel);
}

const char* FrameKindClass(FrameKind kind) {
  switch (kind) {
    case FrameKind::kRoot: return "root";
    case FrameKind::kGoUser: return "go";
    case FrameKind::kGoRuntime: return "rt";
    case FrameKind::kMapLookup: return "map";
    case FrameKind::kNative: return "nat";
    case FrameKind::kKernel: return "k";
  }
  return "nat";
}

}  // namespace golens::web
