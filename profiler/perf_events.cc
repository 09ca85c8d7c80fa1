#include "profiler/perf_events.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace golens::profiler {

Result<std::vector<int>> ParseCpuList(const char* text) {
  // The kernel caps CPU ids far below this; it also bounds the vector.
  constexpr long kMaxCpuId = 1 << 16;
  std::vector<int> cpus;
  const char* p = text;
  auto bad = [&] { return MakeError(std::string("bad CPU list: ") + text); };
  while (*p && *p != '\n') {
    char* end = nullptr;
    errno = 0;
    long first = std::strtol(p, &end, 10);
    if (end == p || errno != 0 || first < 0 || first > kMaxCpuId) return bad();
    long last = first;
    p = end;
    if (*p == '-') {
      ++p;
      errno = 0;
      last = std::strtol(p, &end, 10);
      if (end == p || errno != 0 || last < first || last > kMaxCpuId) return bad();
      p = end;
    }
    if (cpus.size() + static_cast<size_t>(last - first) > static_cast<size_t>(kMaxCpuId)) return bad();
    for (long c = first; c <= last; ++c) cpus.push_back(static_cast<int>(c));
    if (*p == ',') {
      ++p;
    } else if (*p && *p != '\n') {
      return bad();
    }
  }
  if (cpus.empty()) return MakeError(std::string("empty CPU list: ") + text);
  return cpus;
}

Result<std::vector<int>> OnlineCpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string line;
  if (!in || !std::getline(in, line)) return ErrnoError("read /sys/devices/system/cpu/online");
  return ParseCpuList(line.c_str());
}

Result<std::vector<CpuClockEvent>> OpenCpuClockEvents(int hz) {
  GOLENS_TRY(auto cpus, OnlineCpus());
  std::vector<CpuClockEvent> events;
  events.reserve(cpus.size());
  for (int cpu : cpus) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.freq = 1;  // for cpu-clock the kernel turns this into a fixed period of 1e9/hz ns
    attr.sample_freq = static_cast<__u64>(hz);
    long fd = syscall(SYS_perf_event_open, &attr, /*pid=*/-1, cpu, /*group_fd=*/-1,
                      PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENODEV || err == ENXIO) continue;  // CPU went offline meanwhile
      std::ostringstream what;
      what << "perf_event_open(cpu-clock, cpu " << cpu << ")";
      Error error = ErrnoError(what.str(), err);
      if (err == EACCES || err == EPERM) {
        error.message += " (needs CAP_PERFMON or CAP_SYS_ADMIN; run as root)";
      } else if (err == EINVAL) {
        std::ifstream max_rate("/proc/sys/kernel/perf_event_max_sample_rate");
        std::string rate;
        if (max_rate >> rate) {
          error.message += " (--hz " + std::to_string(hz) +
                           " may exceed kernel.perf_event_max_sample_rate = " + rate + ")";
        }
      }
      return error;
    }
    events.push_back(CpuClockEvent{cpu, ScopedFd(static_cast<int>(fd))});
  }
  if (events.empty()) return MakeError("perf_event_open: no online CPU accepted a cpu-clock event");
  return events;
}

}  // namespace golens::profiler
