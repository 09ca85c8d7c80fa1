// Reading and writing profiles: pprof protobuf (gzip or raw) and folded stacks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::pprof {

// Raw or gzip-compressed profile.proto bytes -> model. Corrupt -> clear error.
Result<Profile> ParsePprof(std::span<const uint8_t> data);
// Model -> profile.proto bytes, gzip level 1 (as Go's runtime) when `gzip`.
Result<std::string> SerializePprof(const Profile& profile, bool gzip = true);

// Folded stacks ("root;child;leaf 42" per line) -> model with one sample type
// samples/count and one function per distinct frame name.
Result<Profile> ParseFolded(std::string_view text);
// Model -> folded text, root first, for sample type index `sample_index`
// (-1 = default sample type). Inlined frames become frames of their own.
std::string ToFolded(const Profile& profile, int sample_index = -1);

// A file in any supported format (pprof gz, pprof raw, folded): sniffed by content.
Result<Profile> ReadProfileFile(const std::string& path);
// The same for bytes already read; `name` prefixes error messages.
Result<Profile> ParseProfileBytes(std::string_view data, const std::string& name);
// Whole file contents (any size; "open X: ..." / "read X: ..." errors).
Result<std::string> ReadFileBytes(const std::string& path);
// True for folded-stack text: not gzip, and no control bytes (raw protobuf
// practically always has some) in the first 64 KiB.
bool LooksLikeFoldedText(std::string_view data);
// Writes gzip pprof atomically (temp file + rename); never leaves a torn file.
Result<void> WritePprofFile(const Profile& profile, const std::string& path);
// Checks that `path` can be created/written, before long work starts.
Result<void> CheckWritable(const std::string& path);
// Any output file (SVG, folded text) written the same atomic way: temp file in
// the same directory, fsync, rename. On error the temp file is removed.
Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace golens::pprof
