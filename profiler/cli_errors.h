// The one place where library errors become process exit codes (the CLI
// contract: 0 ok, 1 failure, 2 usage error or missing privilege).
#pragma once

#include "profiler/base/result.h"

namespace golens::cli {

inline int ExitCodeFor(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kPermissionDenied:
      return 2;
    default:
      return 1;
  }
}

}  // namespace golens::cli
