// Profile files: bounded reads, format sniffing, pprof on write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <vector>

#include "pprof/gzip.h"
#include "pprof/profile_io.h"
#include "profiler/base/scoped_fd.h"

namespace golens::pprof {

// Folded text is printable; raw protobuf almost always carries small control
// bytes (lengths, ids, field tags).
bool LooksLikeFoldedText(std::string_view data) {
  if (data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f && static_cast<uint8_t>(data[1]) == 0x8b) {
    return false;
  }
  std::string_view head = data.substr(0, 64 * 1024);
  for (unsigned char c : head) {
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f) return false;
  }
  return true;
}

namespace {

std::string FormatSize(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30) && bytes % (uint64_t{1} << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (uint64_t{1} << 20) && bytes % (uint64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (uint64_t{1} << 10) && bytes % (uint64_t{1} << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Error TooLarge(const std::string& name, uint64_t max_size, const char* what) {
  return MakeError(name + ": " + what + " larger than the input size limit (" + FormatSize(max_size) +
                       "); refusing",
                   ErrorKind::kResourceExhausted);
}

}  // namespace

Result<std::string> ReadFileBytes(const std::string& path, uint64_t max_size) {
  const bool is_stdin = path == "-";
  ScopedFd owned(is_stdin ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!is_stdin && !owned) return ErrnoError("open " + path);
  const int fd = is_stdin ? 0 : owned.get();
  const std::string name = is_stdin ? "stdin" : path;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("stat " + name);
  if (S_ISDIR(st.st_mode)) return MakeError("read " + name + ": is a directory", ErrorKind::kInvalidArgument);
  const bool regular = S_ISREG(st.st_mode);
  if (regular && static_cast<uint64_t>(st.st_size) > max_size) return TooLarge(name, max_size, "file is");
  // Never hold more than the limit plus one byte (which proves "too large"):
  // pipes and devices (/dev/zero) never end, and must not grow memory.
  const uint64_t cap = max_size + 1;
  std::string data;
  size_t used = 0;
  data.resize(static_cast<size_t>(std::min<uint64_t>(regular ? static_cast<uint64_t>(st.st_size) + 1 : 1 << 16, cap)));
  while (true) {
    if (used == data.size()) {
      if (used >= cap) return TooLarge(name, max_size, "input is");
      data.resize(static_cast<size_t>(std::min<uint64_t>(uint64_t{data.size()} * 2, cap)));
    }
    ssize_t n = ::read(fd, data.data() + used, data.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + name);
    }
    if (n == 0) break;
    // No profile format starts with a zero byte (protobuf field 0 does not
    // exist, gzip starts 1f 8b, folded text is printable): a stream of zeros
    // such as /dev/zero is refused at once instead of read up to the limit.
    if (used == 0 && data[0] == '\0') {
      return MakeError(name + ": not a profile (starts with a zero byte)", ErrorKind::kCorrupt);
    }
    used += static_cast<size_t>(n);
  }
  data.resize(used);
  return data;
}

Result<std::string> ReadInputBytes(const std::string& path, uint64_t max_size) {
  GOLENS_TRY(std::string data, ReadFileBytes(path, max_size));
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (!IsGzip(bytes)) return data;
  const std::string name = path == "-" ? std::string("stdin") : path;
  auto inflated = GzipDecompress(bytes, static_cast<size_t>(max_size));
  if (!inflated.ok()) {
    if (inflated.error().Is(ErrorKind::kResourceExhausted)) return TooLarge(name, max_size, "decompressed input is");
    return inflated.error().Context(name);
  }
  if (inflated->empty()) return MakeError(name + ": empty after decompression, not a profile", ErrorKind::kCorrupt);
  return inflated;
}

Result<Profile> ParseProfileBytes(std::string_view data, const std::string& name, uint64_t max_size) {
  if (data.empty()) return MakeError(name + ": empty file (0 bytes), not a profile", ErrorKind::kCorrupt);
  if (data.size() > max_size) return TooLarge(name, max_size, "input is");
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  std::string raw;
  if (IsGzip(bytes)) {
    // Decompressed once, with the cap (a gzip bomb stops at the limit);
    // gzipped folded stacks (stacks.folded.gz) are common too.
    auto inflated = GzipDecompress(bytes, static_cast<size_t>(max_size));
    if (!inflated.ok()) {
      if (inflated.error().Is(ErrorKind::kResourceExhausted)) {
        return TooLarge(name, max_size, "decompressed input is");
      }
      return inflated.error().Context(name);
    }
    raw = std::move(*inflated);
    data = raw;
    bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    if (data.empty()) return MakeError(name + ": empty after decompression, not a profile", ErrorKind::kCorrupt);
  }
  if (LooksLikeFoldedText(data)) {
    auto folded = ParseFolded(data);
    if (!folded.ok()) return folded.error().Context(name);
    return folded;
  }
  auto profile = ParsePprof(bytes, max_size);
  if (!profile.ok()) return profile.error().Context(name);
  return profile;
}

Result<Profile> ReadProfileFile(const std::string& path, uint64_t max_size) {
  GOLENS_TRY(std::string data, ReadFileBytes(path, max_size));
  return ParseProfileBytes(data, path == "-" ? std::string("stdin") : path, max_size);
}

Result<void> WritePprofFile(const Profile& profile, const std::string& path) {
  GOLENS_TRY(std::string bytes, SerializePprof(profile, true));
  return WriteOutputFile(path, bytes);
}

}  // namespace golens::pprof
