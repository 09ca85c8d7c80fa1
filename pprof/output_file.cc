// Output files: atomic replacement for regular files, direct writes for
// stdout, devices and FIFOs (replacing /dev/null by a regular file, or
// /dev/stdout by a file named like it, would hurt the whole machine).
#include "pprof/output_file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "profiler/base/scoped_fd.h"

namespace golens::pprof {
namespace {

constexpr int kMaxSymlinkHops = 40;  // as the kernel's MAXSYMLINKS

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The descriptor a path names when it is one of the aliases of an fd of this
// process; -1 otherwise. Writing the fd itself keeps the shell's redirection
// (its offset, O_APPEND) instead of reopening or replacing the file.
int FdAlias(std::string_view path) {
  if (path == kStdoutPath || path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (std::string_view prefix : {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/")}) {
    if (!path.starts_with(prefix)) continue;
    std::string_view digits = path.substr(prefix.size());
    int fd = -1;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
    if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty()) return fd;
  }
  return -1;
}

struct OutputTarget {
  enum class Kind { kFd, kDirect, kAtomic } kind = Kind::kAtomic;
  int fd = -1;           // kFd
  std::string path;      // kDirect: as given; kAtomic: the final (symlinks resolved) file
  bool exists = false;   // kAtomic: a regular file is there now
  struct stat st {};     // kAtomic && exists
};

// Follows the symlink chain of the last path component by hand (so a
// dangling link still names the file to create) and classifies the end.
Result<OutputTarget> ResolveOutput(const std::string& path) {
  if (path.empty()) return MakeError("output path is empty", ErrorKind::kInvalidArgument);
  OutputTarget target;
  std::string current = path;
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    if (int fd = FdAlias(current); fd >= 0) {
      target.kind = OutputTarget::Kind::kFd;
      target.fd = fd;
      target.path = path;
      return target;
    }
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0) {
      if (errno != ENOENT) return ErrnoError("cannot write " + path);
      target.path = current;  // to be created
      return target;
    }
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> buf(PATH_MAX + 1);
      ssize_t n = ::readlink(current.c_str(), buf.data(), buf.size() - 1);
      if (n < 0) return ErrnoError("cannot write " + path + ": readlink " + current);
      std::string link(buf.data(), static_cast<size_t>(n));
      current = link.starts_with('/') ? link : DirName(current) + "/" + link;
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      return MakeError("cannot write " + path + ": is a directory", ErrorKind::kInvalidArgument);
    }
    if (S_ISREG(st.st_mode)) {
      target.path = current;
      target.exists = true;
      target.st = st;
      return target;
    }
    // Character/block device, FIFO, socket: write in place.
    target.kind = OutputTarget::Kind::kDirect;
    target.path = path;
    return target;
  }
  return Error{"cannot write " + path + ": too many levels of symbolic links", ErrorKind::kInvalidArgument,
               ELOOP};
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

Result<void> WriteReplacing(const OutputTarget& target, const std::string& shown, std::string_view bytes) {
  const std::string& path = target.path;
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
  // mkostemp makes 0600. A replaced file keeps its mode (and, when we may,
  // its owner); a new one is an ordinary output file (0666 & ~umask).
  mode_t mode;
  if (target.exists) {
    mode = target.st.st_mode & 07777;
    if (target.st.st_uid != ::geteuid() || target.st.st_gid != ::getegid()) {
      (void)!::fchown(fd.get(), target.st.st_uid, target.st.st_gid);  // best effort
    }
  } else {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd.get(), mode) != 0) return fail(ErrnoError("chmod " + tmp_path));
  auto written = WriteAll(fd.get(), bytes, shown);
  if (!written.ok()) return fail(written.error());
  if (::fsync(fd.get()) != 0) return fail(ErrnoError("fsync " + shown));
  if (::close(fd.Release()) != 0) return fail(ErrnoError("close " + shown));
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) return fail(ErrnoError("rename to " + path));
  // Make the rename itself durable.
  ScopedFd dir(::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return Ok();
}

// The identity two outputs clash on; empty when the path may repeat.
Result<std::string> OutputIdentity(const std::string& path) {
  GOLENS_TRY(OutputTarget target, ResolveOutput(path));
  struct stat st {};
  bool have_stat = false;
  if (target.kind == OutputTarget::Kind::kFd) {
    have_stat = ::fstat(target.fd, &st) == 0;
  } else if (target.kind == OutputTarget::Kind::kDirect) {
    have_stat = ::stat(target.path.c_str(), &st) == 0;
  } else if (target.exists) {
    st = target.st;
    have_stat = true;
  }
  if (have_stat) {
    if (S_ISCHR(st.st_mode)) return std::string();  // /dev/null, a terminal: fine twice
    return "inode " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  if (target.kind == OutputTarget::Kind::kFd) return "fd " + std::to_string(target.fd);
  // A file still to be created: its directory, resolved, and its name.
  char resolved[PATH_MAX];
  std::string dir = DirName(target.path);
  if (::realpath(dir.c_str(), resolved) != nullptr) dir = resolved;
  return "new " + dir + "/" + BaseName(target.path);
}

}  // namespace

Result<void> WriteOutputFile(const std::string& path, std::string_view bytes) {
  GOLENS_TRY(OutputTarget target, ResolveOutput(path));
  switch (target.kind) {
    case OutputTarget::Kind::kFd:
      return WriteAll(target.fd, bytes, path == kStdoutPath ? std::string("stdout") : path);
    case OutputTarget::Kind::kDirect: {
      // A FIFO blocks here until someone reads it, as `cat > fifo` does.
      ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
      if (!fd) return ErrnoError("open " + path);
      GOLENS_TRY_VOID(WriteAll(fd.get(), bytes, path));
      if (::close(fd.Release()) != 0) return ErrnoError("close " + path);
      return Ok();
    }
    case OutputTarget::Kind::kAtomic:
      return WriteReplacing(target, path, bytes);
  }
  return Ok();
}

Result<void> CheckWritable(const std::string& path) {
  GOLENS_TRY(OutputTarget target, ResolveOutput(path));
  if (target.kind == OutputTarget::Kind::kFd) {
    if (::fcntl(target.fd, F_GETFD) < 0) return ErrnoError("cannot write " + path);
    return Ok();
  }
  if (target.kind == OutputTarget::Kind::kDirect) {
    if (::access(path.c_str(), W_OK) != 0) return ErrnoError("cannot write " + path);
    return Ok();
  }
  // The file is replaced by rename, so what matters is creating a file in its
  // directory: try exactly that.
  std::string dir = DirName(target.path);
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) return ErrnoError("cannot write " + path + ": directory " + dir);
  if (!S_ISDIR(dst.st_mode)) {
    return MakeError("cannot write " + path + ": " + dir + " is not a directory", ErrorKind::kInvalidArgument);
  }
  std::string probe = target.path + ".probe.XXXXXX";
  std::vector<char> tmpl(probe.begin(), probe.end());
  tmpl.push_back('\0');
  ScopedFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return ErrnoError("cannot write " + path);
  ::unlink(tmpl.data());
  return Ok();
}

Result<void> CheckOutputsDistinct(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> seen;  // identity, path
  size_t stdout_count = 0;
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    if (path == kStdoutPath && ++stdout_count > 1) {
      return MakeError("two outputs go to stdout (\"-\"); give at most one", ErrorKind::kInvalidArgument);
    }
    GOLENS_TRY(std::string identity, OutputIdentity(path));
    if (identity.empty()) continue;
    for (const auto& [other_identity, other_path] : seen) {
      if (other_identity == identity) {
        return MakeError("outputs " + other_path + " and " + path +
                             " are the same file; the second would overwrite the first",
                         ErrorKind::kInvalidArgument);
      }
    }
    seen.emplace_back(std::move(identity), path);
  }
  return Ok();
}

}  // namespace golens::pprof
