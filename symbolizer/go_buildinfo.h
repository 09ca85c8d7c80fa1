// Go version and main module from the .go.buildinfo blob (debug/buildinfo).
#pragma once

#include <optional>
#include <string>

namespace golens::symbolizer {

class ElfFile;

struct GoBuildInfo {
  std::string version;       // "go1.26.8": experiments stripped
  std::string full_version;  // as stored, e.g. "go1.24.4 X:noswissmap"
  std::string main_module;   // "example.com/app", "" when unknown
};

std::optional<GoBuildInfo> ReadGoBuildInfo(const ElfFile& elf);

// "go1.21.13" -> {1, 21}; nullopt when unparseable.
std::optional<std::pair<int, int>> ParseGoVersion(const std::string& version);

}  // namespace golens::symbolizer
