// Detached debug symbols, found where gdb and perf look for them: by build ID
// (ROOT/.build-id/xx/rest.debug) and by .gnu_debuglink (ROOT/DIR/NAME,
// DIR/.debug/NAME, DIR/NAME), ROOT being /usr/lib/debug. Debian's -dbg and
// -dbgsym packages install them there (libc6-dbg gives libc's local
// functions, such as msort_with_tmp, that .dynsym does not have).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace golens::symbolizer {

class ElfFile;

inline constexpr const char* kDefaultDebugRoot = "/usr/lib/debug";

// The path of the debug file of `elf` (opened from `path`, GNU build ID
// `build_id` in hex, "" if none), or nullopt. A build-ID file must carry the
// same build ID, and a debuglink file the CRC the link names: a stale debug
// file would give wrong names.
std::optional<std::string> FindDebugFile(const ElfFile& elf, std::string_view build_id, const std::string& path,
                                         const std::string& debug_root = kDefaultDebugRoot);

// The debug root in use: $GOLENS_DEBUG_ROOT when set (tests), else kDefaultDebugRoot.
std::string DebugRoot();

}  // namespace golens::symbolizer
