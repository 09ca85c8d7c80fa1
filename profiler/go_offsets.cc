#include "profiler/go_offsets.h"

#include <array>
#include <cctype>

namespace golens::profiler {
namespace {

struct Row {
  int minor;  // Go 1.<minor>
  GoRuntimeOffsets offsets;
};

// g: m, goid, labels; m: g0, curg, gsignal. go-runtime.md 3.4.
constexpr std::array<Row, 11> kRows = {{
    {17, {48, 152, 360, 0, 192, 80}},
    {18, {48, 152, 360, 0, 192, 80}},
    {19, {48, 152, 360, 0, 192, 80}},
    {20, {48, 152, 360, 0, 192, 80}},
    {21, {48, 152, 344, 0, 192, 80}},
    {22, {48, 152, 344, 0, 192, 80}},
    {23, {48, 160, 352, 0, 192, 80}},  // syscallbp added: goid moves to 160
    {24, {48, 160, 352, 0, 192, 80}},
    {25, {48, 152, 344, 0, 184, 72}},  // gobuf.ret removed; m.procid shrinks the m prefix
    {26, {48, 152, 352, 0, 184, 72}},
    {27, {48, 152, 352, 0, 184, 72}},
}};

bool ReadInt(std::string_view& s, int* out) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  int v = 0;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    v = v * 10 + (s[0] - '0');
    if (v > 100000) return false;
    s.remove_prefix(1);
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<GoVersion> ParseGoVersion(std::string_view text) {
  size_t at = text.find("go1.");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view s = text.substr(at + 2);
  GoVersion v;
  if (!ReadInt(s, &v.major) || s.empty() || s[0] != '.') return std::nullopt;
  s.remove_prefix(1);
  if (!ReadInt(s, &v.minor)) return std::nullopt;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (!ReadInt(s, &v.patch)) v.patch = 0;
  }
  return v;
}

std::optional<GoOffsetsLookup> LookupGoRuntimeOffsets(const GoVersion& version) {
  if (version.major != 1) return std::nullopt;
  for (const Row& row : kRows) {
    if (row.minor == version.minor) return GoOffsetsLookup{row.offsets, true};
  }
  if (version.minor > kRows.back().minor) return GoOffsetsLookup{kRows.back().offsets, false};
  return std::nullopt;
}

}  // namespace golens::profiler
