// Reading and writing profiles: pprof protobuf (gzip or raw) and folded stacks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pprof/output_file.h"
#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::pprof {

// Inputs larger than this (the file, or its content once decompressed) are
// refused with a kResourceExhausted error instead of filling memory: a
// pipe that never ends, /dev/zero, a gzip bomb. CPU profiles are far
// smaller; the CLI's --max-input-size changes it.
inline constexpr uint64_t kDefaultMaxInputSize = uint64_t{1} << 30;  // 1 GiB

// Raw or gzip-compressed profile.proto bytes -> model. Corrupt -> clear error.
Result<Profile> ParsePprof(std::span<const uint8_t> data, uint64_t max_decompressed = kDefaultMaxInputSize);
// Model -> profile.proto bytes, gzip level 1 (as Go's runtime) when `gzip`.
Result<std::string> SerializePprof(const Profile& profile, bool gzip = true);

// Folded stacks ("root;child;leaf 42" per line) -> model with one sample type
// samples/count and one function per distinct frame name.
Result<Profile> ParseFolded(std::string_view text);
// Model -> folded text, root first, for sample type index `sample_index`
// (-1 = default sample type). Inlined frames become frames of their own.
std::string ToFolded(const Profile& profile, int sample_index = -1);

// A file in any supported format (pprof gz, pprof raw, folded, gzipped
// folded): sniffed by content. "-" reads stdin.
Result<Profile> ReadProfileFile(const std::string& path, uint64_t max_size = kDefaultMaxInputSize);
// The same for bytes already read; `name` prefixes error messages. Gzip is
// decompressed once, stopping as soon as the output passes `max_size`.
Result<Profile> ParseProfileBytes(std::string_view data, const std::string& name,
                                  uint64_t max_size = kDefaultMaxInputSize);
// ReadFileBytes, then gunzip (same limit on the output) when it is gzip:
// raw pprof or folded text, ready for ParseProfileBytes or folded fast paths.
Result<std::string> ReadInputBytes(const std::string& path, uint64_t max_size = kDefaultMaxInputSize);
// Whole file contents ("-" = stdin; "open X: ..." / "read X: ..." errors).
// Never holds more than `max_size` + 1 bytes: a longer pipe or device is
// refused as soon as the limit is passed, a regular file by its size, and
// input starting with a zero byte (/dev/zero; no profile format does) at once.
Result<std::string> ReadFileBytes(const std::string& path, uint64_t max_size = kDefaultMaxInputSize);
// True for folded-stack text: not gzip, and no control bytes (raw protobuf
// practically always has some) in the first 64 KiB.
bool LooksLikeFoldedText(std::string_view data);
// Writes gzip pprof with WriteOutputFile (pprof/output_file.h): atomic for
// regular files, never leaves a torn file; "-" = stdout; devices and FIFOs
// written in place. Errors say which path failed ("rename to X: ...").
Result<void> WritePprofFile(const Profile& profile, const std::string& path);

}  // namespace golens::pprof
