// Profile files: format sniffing on read, atomic gzip pprof on write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "pprof/gzip.h"
#include "pprof/profile_io.h"
#include "profiler/base/scoped_fd.h"

namespace golens::pprof {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

}  // namespace

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

Result<std::string> ReadFileBytes(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path);
  if (S_ISDIR(st.st_mode)) return MakeError("read " + path + ": is a directory");
  std::string data;
  size_t used = 0;
  // Regular files: one read of the known size; pipes and /proc grow as needed.
  data.resize(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : 1 << 16);
  while (true) {
    if (used == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(fd.get(), data.data() + used, data.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  data.resize(used);
  return data;
}

Result<Profile> ParseProfileBytes(std::string_view data, const std::string& name) {
  if (data.empty()) return MakeError(name + ": empty file (0 bytes), not a profile");
  if (LooksLikeFoldedText(data)) {
    auto folded = ParseFolded(data);
    if (!folded.ok()) return folded.error().Context(name);
    return folded;
  }
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (IsGzip(bytes)) {
    // Gzipped folded stacks (stacks.folded.gz) are common too.
    auto raw = GzipDecompress(bytes);
    if (!raw.ok()) return raw.error().Context(name);
    if (!raw->empty() && LooksLikeFoldedText(*raw)) {
      auto folded = ParseFolded(*raw);
      if (!folded.ok()) return folded.error().Context(name);
      return folded;
    }
  }
  auto profile = ParsePprof(bytes);
  if (!profile.ok()) return profile.error().Context(name);
  return profile;
}

Result<Profile> ReadProfileFile(const std::string& path) {
  GOLENS_TRY(std::string data, ReadFileBytes(path));
  return ParseProfileBytes(data, path);
}

Result<void> WritePprofFile(const Profile& profile, const std::string& path) {
  GOLENS_TRY(std::string bytes, SerializePprof(profile, true));
  return WriteFileAtomically(path, bytes);
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes) {
  if (path.empty()) return MakeError("write: empty output path", 2);
  // Same directory, so rename() is atomic and never crosses filesystems.
  std::string tmp_path = path + ".tmp.XXXXXX";
  std::vector<char> tmpl(tmp_path.begin(), tmp_path.end());
  tmpl.push_back('\0');
  ScopedFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return ErrnoError("create temporary file in " + DirName(path));
  tmp_path.assign(tmpl.data());
  auto fail = [&](Error error) -> Result<void> {
    fd.Reset();
    ::unlink(tmp_path.c_str());
    return error;
  };
  // mkostemp makes 0600; a profile is an ordinary output file (0666 & ~umask).
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd.get(), 0666 & ~mask) != 0) return fail(ErrnoError("chmod " + tmp_path));
  auto written = WriteAll(fd.get(), bytes, path);
  if (!written.ok()) return fail(written.error());
  if (::fsync(fd.get()) != 0) return fail(ErrnoError("fsync " + path));
  if (::close(fd.Release()) != 0) return fail(ErrnoError("close " + path));
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) return fail(ErrnoError("rename to " + path));
  // Make the rename itself durable.
  ScopedFd dir(::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return Ok();
}

Result<void> CheckWritable(const std::string& path) {
  if (path.empty()) return MakeError("output path is empty", 2);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return MakeError("cannot write " + path + ": is a directory", 2);
  }
  // The file is replaced by rename, so what matters is creating a file in its
  // directory: try exactly that.
  std::string dir = DirName(path);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return ErrnoError("cannot write " + path + ": directory " + dir);
  if (!S_ISDIR(dst.st_mode)) return MakeError("cannot write " + path + ": " + dir + " is not a directory", 2);
  std::string probe = path + ".probe.XXXXXX";
  std::vector<char> tmpl(probe.begin(), probe.end());
  tmpl.push_back('\0');
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    Error error = ErrnoError("cannot write " + path, err);
    if (err == EACCES || err == EPERM || err == EROFS) error.exit_code = 2;  // permission
    return error;
  }
  ::close(fd);
  ::unlink(tmpl.data());
  return Ok();
}

}  // namespace golens::pprof
