// Output files (profiles, SVGs, folded text): where the bytes go and how.
//
// A regular file (or a path that does not exist yet) is replaced atomically:
// temporary file in the same directory, fsync, rename. A symlink is followed
// and its target replaced that way (the link stays a link), and an existing
// file keeps its mode. Anything that is not a regular file is written
// directly, never replaced: "-" is stdout, /dev/stdout, /dev/fd/N and
// /proc/self/fd/N are that descriptor, and devices (/dev/null), FIFOs and
// sockets are opened and written in place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "profiler/base/result.h"

namespace golens::pprof {

// "-" as an output path: standard output.
inline constexpr char kStdoutPath[] = "-";

// Writes `bytes` to `path` as described above. On error nothing at `path`
// has changed (for atomic writes) and the temporary file is removed.
Result<void> WriteOutputFile(const std::string& path, std::string_view bytes);
// The old name, same behaviour.
inline Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes) {
  return WriteOutputFile(path, bytes);
}

// Checks, before long work starts, that WriteOutputFile(path) can succeed:
// the directory accepts a new file (atomic case) or the file opens for
// writing (direct case). "-" is always fine.
Result<void> CheckWritable(const std::string& path);

// Error (kInvalidArgument) when two of `paths` name the same file: the same
// existing file (device + inode, symlinks followed), the same new file
// (realpath of its directory + name), "-" twice, or "-" and the file stdout
// is redirected to. Character devices (/dev/null) may repeat. Empty paths
// are skipped (an option that was not given).
Result<void> CheckOutputsDistinct(const std::vector<std::string>& paths);

}  // namespace golens::pprof
