#include "web/palette.h"

#include <algorithm>
#include <cmath>

namespace golens::web {
namespace {

struct HashVector {
  double v1, v2, v3;  // each in [0, 1)
};

HashVector NameHash(std::string_view name) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 29;
  return {static_cast<double>(h & 0xffff) / 65536.0, static_cast<double>((h >> 16) & 0xffff) / 65536.0,
          static_cast<double>((h >> 32) & 0xffff) / 65536.0};
}

uint8_t U8(double v) { return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)); }

Rgb Lighten(Rgb c, double amount) {
  return {U8(c.r + (255 - c.r) * amount), U8(c.g + (255 - c.g) * amount),
          U8(c.b + (255 - c.b) * amount)};
}

Rgb GoColor(FrameKind kind, const HashVector& v, double intensity) {
  switch (kind) {
    case FrameKind::kRoot: return {U8(200 + 30 * v.v1), U8(200 + 30 * v.v1), U8(200 + 30 * v.v1)};
    case FrameKind::kGoUser: return {U8(50 + 60 * v.v1), U8(165 + 55 * v.v2), U8(165 + 55 * v.v2)};
    case FrameKind::kGoRuntime: return {U8(175 + 55 * v.v1), U8(175 + 55 * v.v1), U8(50 + 20 * v.v2)};
    case FrameKind::kMapLookup: {
      // Known intensity wins over the hash: 0 = pale green, 1 = deep green.
      double i = intensity >= 0 ? std::min(intensity, 1.0) : 0.35 + 0.3 * v.v1;
      return {U8(170 - 150 * i), U8(235 - 85 * i), U8(130 - 110 * i)};
    }
    case FrameKind::kNative: return {U8(200 + 55 * v.v1), U8(50 + 80 * v.v2), U8(50 + 80 * v.v2)};
    case FrameKind::kKernel: return {U8(190 + 65 * v.v1), U8(90 + 65 * v.v1), 0};
  }
  return {200, 200, 200};
}

}  // namespace

Result<Palette> ParsePalette(const std::string& name) {
  if (name == "go" || name.empty()) return Palette::kGo;
  if (name == "hot") return Palette::kHot;
  if (name == "mono") return Palette::kMono;
  return MakeError("unknown palette '" + name + "'; available: go, hot, mono", ErrorKind::kInvalidArgument);
}

Rgb FrameColor(const FlameFrame& frame, Palette palette, double intensity) {
  HashVector v = NameHash(frame.name);
  Rgb color;
  switch (palette) {
    case Palette::kGo: color = GoColor(frame.kind, v, intensity); break;
    case Palette::kHot: color = {U8(205 + 50 * v.v3), U8(230 * v.v1), U8(55 * v.v2)}; break;
    case Palette::kMono: {
      uint8_t grey = U8(150 + 80 * v.v1);
      color = {grey, grey, grey};
      break;
    }
  }
  return frame.inlined ? Lighten(color, 0.35) : color;
}

Rgb DiffColor(double delta, double max_delta) {
  if (max_delta <= 0 || delta == 0) return {250, 250, 250};
  double c = 210.0 * (max_delta - std::min(std::fabs(delta), max_delta)) / max_delta;
  // Keep a hint of color for any nonzero change.
  c = std::min(c, 235.0);
  return delta > 0 ? Rgb{255, U8(c), U8(c)} : Rgb{U8(c), U8(c), 255};
}

std::vector<LegendEntry> GoLegend() {
  HashVector mid{0.5, 0.5, 0.5};
  return {{"go", "Go", GoColor(FrameKind::kGoUser, mid, -1)},
          {"rt", "Go runtime", GoColor(FrameKind::kGoRuntime, mid, -1)},
          {"map", "map lookup", GoColor(FrameKind::kMapLookup, mid, 0.6)},
          {"nat", "native/cgo", GoColor(FrameKind::kNative, mid, -1)},
          {"k", "kernel", GoColor(FrameKind::kKernel, mid, -1)}};
}

}  // namespace golens::web
