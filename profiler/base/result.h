// Errors as values: every fallible call across a module boundary returns
// Result<T>. No exceptions cross folders, and nothing aborts on user input.
//
// An Error has a kind that callers branch on (a vanished process is
// kNotFound, a missing privilege kPermissionDenied), the errno it came from
// when there was one, and a message that already carries its context. Only
// the CLI (profiler/cli_errors.h) turns kinds into exit codes; libraries never
// name flags or exit codes.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace golens {

enum class ErrorKind {
  kFailed,             // anything else
  kInvalidArgument,    // the caller (ultimately the user) passed something unusable
  kNotFound,           // no such process / file (ESRCH, ENOENT)
  kPermissionDenied,   // a privilege or capability is missing (EPERM, EACCES, EROFS)
  kUnsupported,        // this kernel / binary / Go release cannot do it
  kCorrupt,            // malformed input data (a file, a record)
  kResourceExhausted,  // disk full, limit reached (ENOSPC, EDQUOT, EFBIG, ENOMEM)
  kIo,                 // other I/O errors
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kFailed;
  int err = 0;  // errno behind it, 0 when none

  // Prefixes context: Error{"no such file"}.Context("open x") -> "open x: no such file".
  Error Context(const std::string& what) const { return Error{what + ": " + message, kind, err}; }
  bool Is(ErrorKind k) const { return kind == k; }
};

inline Error MakeError(std::string message, ErrorKind kind = ErrorKind::kFailed) {
  return Error{std::move(message), kind, 0};
}

// The kind an errno value stands for.
inline ErrorKind KindForErrno(int err) {
  switch (err) {
    case ESRCH:
    case ENOENT:
      return ErrorKind::kNotFound;
    case EPERM:
    case EACCES:
    case EROFS:
      return ErrorKind::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENOMEM:
      return ErrorKind::kResourceExhausted;
    case EINVAL:
      return ErrorKind::kInvalidArgument;
    case ENOSYS:
    case EOPNOTSUPP:
      return ErrorKind::kUnsupported;
    default:
      return ErrorKind::kIo;
  }
}

// "what: strerror(errno)" for the errno captured at the call site.
inline Error ErrnoError(const std::string& what, int err = errno) {
  return Error{what + ": " + std::strerror(err), KindForErrno(err), err};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}        // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> Ok() { return Result<void>(); }

}  // namespace golens

// GOLENS_TRY(auto x, Expr()) : binds the value or returns the error upward.
#define GOLENS_CONCAT_INNER(a, b) a##b
#define GOLENS_CONCAT(a, b) GOLENS_CONCAT_INNER(a, b)
#define GOLENS_TRY(decl, expr)                                   \
  auto GOLENS_CONCAT(golens_try_, __LINE__) = (expr);            \
  if (!GOLENS_CONCAT(golens_try_, __LINE__).ok())                \
    return GOLENS_CONCAT(golens_try_, __LINE__).error();         \
  decl = std::move(GOLENS_CONCAT(golens_try_, __LINE__)).value()
#define GOLENS_TRY_VOID(expr)                                    \
  do {                                                           \
    auto golens_try_void_ = (expr);                              \
    if (!golens_try_void_.ok()) return golens_try_void_.error(); \
  } while (0)
