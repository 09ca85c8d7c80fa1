#include "profiler/capabilities.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

namespace golens::profiler {
namespace {

bool Has(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

}  // namespace

Result<void> CheckSamplingCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return ErrnoError("capget");
  if (Has(data, CAP_SYS_ADMIN)) return Ok();
  std::vector<std::string> missing;
  if (!Has(data, CAP_BPF)) missing.push_back("CAP_BPF");
  if (!Has(data, CAP_PERFMON)) missing.push_back("CAP_PERFMON");
  if (missing.empty()) return Ok();
  std::string names = missing[0];
  if (missing.size() > 1) names += " and " + missing[1];
  return MakeError("missing capability " + names +
                       ": recording loads BPF programs and opens system-wide perf events; "
                       "run as root (or grant CAP_BPF and CAP_PERFMON)",
                   ErrorKind::kPermissionDenied);
}

}  // namespace golens::profiler
