#include "profiler/bpf_sampler.h"

#include <sys/ioctl.h>

#include <fcntl.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "golens_sampler.skel.h"
#include "profiler/base/log.h"
#include "profiler/base/scoped_fd.h"
#include "profiler/perf_events.h"

namespace golens::profiler {
namespace {

// BPF_TRACE_UPROBE_MULTI (kernel 6.6+; newer than this system's headers and
// libbpf 1.1, which cannot create the link either: see AttachMapProbes).
constexpr auto kTraceUprobeMulti = static_cast<enum bpf_attach_type>(48);

// The link_create part of union bpf_attr for uprobe_multi (uapi/linux/bpf.h).
struct UprobeMultiLinkAttr {
  __u32 prog_fd;
  __u32 target_fd;
  __u32 attach_type;
  __u32 flags;
  __u64 path;
  __u64 offsets;
  __u64 ref_ctr_offsets;
  __u64 cookies;
  __u32 cnt;
  __u32 multi_flags;
  __u32 pid;
  __u32 pad;
};

// libbpf's own messages go through our logger: warnings stay visible,
// the verbose load log only with -v.
int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string message(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(message.data(), message.size(), format, args);
  message.resize(static_cast<size_t>(n));
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (message.rfind("libbpf: ", 0) == 0) message.erase(0, 8);
  if (level == LIBBPF_WARN) {
    GOLENS_LOG(kWarn) << "libbpf: " << message;
  } else {
    GOLENS_LOG(kDebug) << "libbpf: " << message;
  }
  return n;
}

// Power of two pages, as BPF_MAP_TYPE_RINGBUF requires. Half a second of
// samples with every CPU busy in a target, at a typical record size (a Go
// stack of ~40 frames): the reader drains every 50 ms and is woken at a
// quarter full, so this leaves ample headroom.
size_t RingbufSize(size_t cpus, int hz, uint32_t native_stack_bytes) {
  // A native snapshot rarely fills what it may copy (the stack above sp ends).
  const size_t typical = sizeof(golens_sample) + 48 * 8 + native_stack_bytes / 2;
  size_t want = cpus * static_cast<size_t>(hz) * typical / 2;
  size_t size = 1u << 20;
  while (size < want && size < (64u << 20)) size <<= 1;
  return size;
}

// The id of a tracepoint (events/CATEGORY/NAME/id in tracefs). When tracefs
// is not mounted where libbpf looks, it is mounted privately in a temporary
// directory just to read the id, and unmounted again.
Result<int> TracepointId(const std::string& category, const std::string& name) {
  auto read_id = [&](const std::string& root) -> int {
    std::ifstream in(root + "/events/" + category + "/" + name + "/id");
    int id = -1;
    if (in >> id) return id;
    return -1;
  };
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    int id = read_id(root);
    if (id >= 0) return id;
  }
  char dir[] = "/tmp/golens-tracefs-XXXXXX";
  if (!mkdtemp(dir)) return ErrnoError("mkdtemp for tracefs");
  int id = -1;
  int err = 0;
  if (mount("nodev", dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
    id = read_id(dir);
    umount2(dir, MNT_DETACH);
  } else {
    err = errno;
  }
  rmdir(dir);
  if (id >= 0) return id;
  if (err) return ErrnoError("mount tracefs", err);
  return MakeError("no tracepoint " + category + ":" + name, ErrorKind::kUnsupported);
}

Error LoadError(const std::string& phase, int err) {
  Error error = ErrnoError("BPF " + phase, err < 0 ? -err : err);
  if (err == -EPERM || err == EPERM) {
    error.message += " (needs CAP_BPF and CAP_PERFMON; run as root)";
    error.kind = ErrorKind::kPermissionDenied;
  } else if (err == -EACCES || err == EACCES) {
    error.message += " (rejected by the BPF verifier; run with -v for its log)";
    error.kind = ErrorKind::kFailed;
  }
  return error;
}

}  // namespace

const char* MetricName(int metric) {
  switch (metric) {
    case GOLENS_METRIC_SAMPLES: return "samples";
    case GOLENS_METRIC_RINGBUF_FULL: return "lost (ring buffer full)";
    case GOLENS_METRIC_PENDING_EXEC: return "dropped before exec";
    case GOLENS_METRIC_USER_STACK_ERROR: return "user stack errors";
    case GOLENS_METRIC_KERNEL_STACK_ERROR: return "kernel stack errors";
    case GOLENS_METRIC_TLS_READ_ERROR: return "TLS read errors";
    case GOLENS_METRIC_G_FROM_R14: return "g from R14";
    case GOLENS_METRIC_GOID_READ_ERROR: return "goroutine id read errors";
    case GOLENS_METRIC_SYSTEM_STACK: return "on system stack";
    case GOLENS_METRIC_NO_CURG: return "no user goroutine";
    case GOLENS_METRIC_USER_SP_READ_ERROR: return "user sp read errors";
    case GOLENS_METRIC_EXEC_SEEN: return "execs seen";
    case GOLENS_METRIC_FORK_FOLLOWED: return "children followed";
    case GOLENS_METRIC_EXIT_SEEN: return "exits seen";
    case GOLENS_METRIC_EVENT_LOST: return "process events lost (ring buffer full)";
    case GOLENS_METRIC_TARGETS_FULL: return "children not followed (targets map full)";
    case GOLENS_METRIC_SCRATCH_ERROR: return "scratch buffer errors";
    case GOLENS_METRIC_LABELS_READ: return "samples with pprof labels";
    case GOLENS_METRIC_LABELS_READ_ERROR: return "pprof label read errors";
    case GOLENS_METRIC_LABELS_CUT: return "samples with labels cut";
    case GOLENS_METRIC_SPAN_STARTED: return "HTTP handler entries";
    case GOLENS_METRIC_SPAN_ENDED: return "HTTP handler returns";
    case GOLENS_METRIC_SPAN_ERROR: return "span errors (request unreadable, span table full)";
    case GOLENS_METRIC_SPAN_LOST: return "finished spans lost (ring buffer full)";
    case GOLENS_METRIC_MAP_PC: return "samples in map code";
    case GOLENS_METRIC_MAP_NO_POINTER: return "map samples without a map pointer at their PC";
    case GOLENS_METRIC_MAP_READ_ERROR: return "map header read errors";
    case GOLENS_METRIC_MAP_IMPLAUSIBLE: return "map headers that did not look like one";
    case GOLENS_METRIC_MAP_STATS: return "samples with map statistics";
    case GOLENS_METRIC_MAP_PROBE: return "probed map lookups";
    case GOLENS_METRIC_MAP_PROBE_ERROR: return "probed map lookups not readable";
    case GOLENS_METRIC_MAP_PROBE_LOST: return "probed map lookups lost (ring buffer full)";
    case GOLENS_METRIC_NATIVE_SNAPSHOT: return "native stack snapshots";
    case GOLENS_METRIC_NATIVE_FROM_FP_WALK: return "native snapshots of Go code called from C";
    case GOLENS_METRIC_NATIVE_STACK_SHORT: return "native snapshots shorter than wanted (the stack ended)";
    case GOLENS_METRIC_NATIVE_NO_ROOM: return "native snapshots without room in the record";
    case GOLENS_METRIC_STAGE_MISSED: return "samples without a sampler stage (tail call failed)";
    case GOLENS_METRIC_STAGE_ERROR: return "samples dropped by a sampler stage";
    case GOLENS_METRIC_COUNT: break;
  }
  return "?";
}

Result<void> BpfSampler::SetFrequency(int hz) {
  if (hz < 1) return MakeError("sampling rate must be at least 1 Hz", ErrorKind::kInvalidArgument);
  // The kernel turned the cpu-clock events' frequency into a fixed period
  // in nanoseconds when they were opened (perf_swevent_init_hrtimer clears
  // attr.freq), so the ioctl takes a period now, not a rate.
  uint64_t value = 1000000000ull / static_cast<uint64_t>(hz);
  for (const ScopedFd& fd : cpu_event_fds_) {
    if (fd.get() >= 0 && ::ioctl(fd.get(), PERF_EVENT_IOC_PERIOD, &value) != 0) {
      return ErrnoError("set the cpu-clock sampling rate to " + std::to_string(hz) + " Hz");
    }
  }
  options_.hz = hz;
  return Ok();
}

Result<void> BpfSampler::EnableRunTimeStats() {
  if (stats_fd_.get() >= 0) return Ok();
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) return ErrnoError("BPF_ENABLE_STATS", -fd);
  stats_fd_ = ScopedFd(fd);
  return Ok();
}

uint64_t BpfSampler::RunTimeNanos() const {
  uint64_t total = 0;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) total += info.run_time_ns;
  }
  return total;
}

uint32_t OwnPidNamespaceInode() {
  // The initial PID namespace's inode is fixed (PROC_PID_INIT_INO).
  constexpr uint64_t kInitialPidNamespace = 0xEFFFFFFCu;
  struct stat st {};
  if (stat("/proc/self/ns/pid", &st) != 0 || st.st_ino == kInitialPidNamespace) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

void BpfSampler::SkeletonDeleter::operator()(golens_sampler* skel) const { golens_sampler__destroy(skel); }
void BpfSampler::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
void BpfSampler::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

Result<std::unique_ptr<BpfSampler>> BpfSampler::Create(const SamplerOptions& options, RecordCallback on_record) {
  libbpf_set_print(LibbpfPrint);
  std::unique_ptr<BpfSampler> sampler(new BpfSampler());
  sampler->options_ = options;
  sampler->on_record_ = std::move(on_record);

  GOLENS_TRY(auto cpus, OnlineCpus());
  sampler->cpu_count_ = cpus.size();

  // The uprobe_multi program needs a 6.6+ kernel: without one, load again
  // without it (deep map mode then attaches one uprobe per site).
  auto load = [&](bool multi) -> Result<void> {
    sampler->skel_.reset(golens_sampler__open());
    if (!sampler->skel_) return LoadError("open", errno);
    auto* skel = sampler->skel_.get();
    if (skel->rodata->golens_abi_version != GOLENS_ABI_VERSION) {
      return MakeError("BPF object ABI version " + std::to_string(skel->rodata->golens_abi_version) +
                       " != " + std::to_string(GOLENS_ABI_VERSION) + " (stale build?)");
    }
    skel->rodata->collect_kernel_stacks = options.kernel_stacks;
    skel->rodata->collect_goid = options.goroutine_ids;
    skel->rodata->collect_labels = options.labels;
    skel->rodata->collect_spans = options.spans;
    skel->rodata->collect_maps = options.maps;
    skel->rodata->pidns_inum = options.pid_namespace_inode;
    skel->rodata->report_all_execs = options.report_all_execs;
    skel->rodata->native_stack_bytes = std::min<uint32_t>(options.native_stack_bytes, GOLENS_NATIVE_MAX_STACK_BYTES);
    size_t ring_bytes = options.ringbuf_bytes ? options.ringbuf_bytes
                                              : RingbufSize(cpus.size(), options.hz, options.native_stack_bytes);
    // Wake the reader at a quarter full; otherwise it drains on its poll interval.
    skel->rodata->wakeup_bytes = ring_bytes / 4;
    if (int err = bpf_map__set_max_entries(skel->maps.samples, static_cast<__u32>(ring_bytes))) {
      return LoadError("size ring buffer", err);
    }
    // Attached by hand (the syscall tracepoint's id may need a private
    // tracefs; the uprobes go on each binary that serves HTTP or has maps).
    bpf_program__set_autoattach(skel->progs.golens_on_munmap, false);
    bpf_program__set_autoattach(skel->progs.golens_http_enter, false);
    bpf_program__set_autoattach(skel->progs.golens_http_return, false);
    bpf_program__set_autoattach(skel->progs.golens_map_probe, false);
    bpf_program__set_autoattach(skel->progs.golens_map_probe_multi, false);
    // The sampler's later stages: tail calls, never attached (bpf/sampler.bpf.c).
    bpf_program__set_autoattach(skel->progs.golens_sample_maps, false);
    bpf_program__set_autoattach(skel->progs.golens_sample_native, false);
    if (multi) {
      bpf_program__set_expected_attach_type(skel->progs.golens_map_probe_multi, kTraceUprobeMulti);
    } else {
      bpf_program__set_autoload(skel->progs.golens_map_probe_multi, false);
    }
    if (int err = golens_sampler__load(skel)) return LoadError("load", err);
    return Ok();
  };
  if (auto loaded = load(true); !loaded.ok()) {
    GOLENS_LOG(kDebug) << "BPF load with uprobe_multi failed (" << loaded.error().message << "); without it";
    GOLENS_TRY_VOID(load(false));
  }
  auto* skel = sampler->skel_.get();
  const std::pair<__u32, bpf_program*> stages[] = {{0, skel->progs.golens_sample_maps},
                                                   {1, skel->progs.golens_sample_native}};
  for (const auto& [slot, prog] : stages) {
    int prog_fd = bpf_program__fd(prog);
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.sample_stages), &slot, &prog_fd, BPF_ANY) != 0) {
      return LoadError(std::string("install ") + bpf_program__name(prog), errno);
    }
  }

  sampler->ringbuf_.reset(
      ring_buffer__new(bpf_map__fd(skel->maps.samples), &BpfSampler::OnRecord, sampler.get(), nullptr));
  if (!sampler->ringbuf_) return LoadError("ring buffer", errno);
  return sampler;
}

BpfSampler::~BpfSampler() { Stop(); }

Result<void> BpfSampler::SetTarget(pid_t tgid, const golens_proc_info& info) {
  __u32 key = static_cast<__u32>(tgid);
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.targets), &key, &info, BPF_ANY) != 0) {
    return ErrnoError("add target " + std::to_string(tgid) + " to the BPF map");
  }
  return Ok();
}

void BpfSampler::RemoveTarget(pid_t tgid) {
  __u32 key = static_cast<__u32>(tgid);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.targets), &key);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.native_procs), &key);
}

Result<void> BpfSampler::SetNativeProc(pid_t tgid, const golens_native_proc& proc) {
  __u32 key = static_cast<__u32>(tgid);
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.native_procs), &key, &proc, BPF_ANY) != 0) {
    return ErrnoError("add target " + std::to_string(tgid) + " to the native BPF map");
  }
  return Ok();
}

Result<void> BpfSampler::SetMapTable(uint32_t id, const golens_map_pcs& table) {
  __u32 key = id;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.map_pcs), &key, &table, BPF_ANY) != 0) {
    return ErrnoError("add map PC table " + std::to_string(id) + " to the BPF map");
  }
  return Ok();
}

void BpfSampler::RemoveMapTable(uint32_t id) {
  __u32 key = id;
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.map_pcs), &key);
}

Result<golens_proc_info> BpfSampler::GetTarget(pid_t tgid) const {
  __u32 key = static_cast<__u32>(tgid);
  golens_proc_info info{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.targets), &key, &info) != 0) {
    return ErrnoError("look up target " + std::to_string(tgid));
  }
  return info;
}

Result<void> BpfSampler::AttachMunmap() {
  GOLENS_TRY(int id, TracepointId("syscalls", "sys_enter_munmap"));
  struct perf_event_attr attr {};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = static_cast<__u64>(id);
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  // pid -1 and one CPU, as libbpf does: the program runs on every CPU.
  long fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return ErrnoError("perf_event_open(syscalls:sys_enter_munmap)");
  ScopedFd event(static_cast<int>(fd));
  bpf_link* link = bpf_program__attach_perf_event(skel_->progs.golens_on_munmap, event.get());
  if (!link) return ErrnoError("attach syscalls:sys_enter_munmap");
  event.Release();  // the link owns the perf fd now
  tracker_links_.emplace_back(link);
  return Ok();
}

Result<void> BpfSampler::Start() {
  if (!cpu_links_.empty()) return Ok();
  // The process tracker first, so that nothing a target does after Start()
  // (a child released right after it, a fork) is missed.
  if (tracker_links_.empty()) {
    for (bpf_program* prog : {skel_->progs.golens_on_exec, skel_->progs.golens_on_fork, skel_->progs.golens_on_exit}) {
      bpf_link* link = bpf_program__attach(prog);
      if (!link) return LoadError(std::string("attach ") + bpf_program__name(prog), errno);
      tracker_links_.emplace_back(link);
    }
    auto munmap = AttachMunmap();
    tracks_munmap_ = munmap.ok();
    if (!munmap.ok()) {
      GOLENS_LOG(kDebug) << "munmap is not tracked (" << munmap.error().message
                         << "): a library replaced at the same address is found by re-reading maps only";
    }
  }

  GOLENS_TRY(auto events, OpenCpuClockEvents(options_.hz));
  cpu_count_ = events.size();
  for (CpuClockEvent& event : events) {
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.golens_sample_cpu, event.fd.get());
    if (!link) {
      int err = errno;
      Stop();
      return LoadError("attach to cpu-clock on cpu " + std::to_string(event.cpu), err);
    }
    cpu_event_fds_.emplace_back(::fcntl(event.fd.get(), F_DUPFD_CLOEXEC, 0));
    event.fd.Release();  // the link owns the perf fd now
    cpu_links_.emplace_back(link);
  }
  return Ok();
}

BpfSampler::Probes::~Probes() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
}

Result<std::unique_ptr<BpfSampler::Probes>> BpfSampler::AttachHttpProbes(const std::string& binary_path,
                                                                        uint64_t entry_offset,
                                                                        const std::vector<uint64_t>& return_offsets) {
  std::unique_ptr<Probes> probes(new Probes());
  auto attach = [&](bpf_program* prog, uint64_t offset) -> Result<void> {
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    // pid -1: every process running the binary; BPF keeps the targets.
    bpf_link* link = bpf_program__attach_uprobe_opts(prog, -1, binary_path.c_str(), offset, &opts);
    if (!link) return ErrnoError("attach uprobe " + binary_path + "+" + std::to_string(offset));
    probes->links_.push_back(link);
    return Ok();
  };
  // RET sites first: a handler entered after its entry probe exists must
  // find its return probed too.
  for (uint64_t offset : return_offsets) GOLENS_TRY_VOID(attach(skel_->progs.golens_http_return, offset));
  GOLENS_TRY_VOID(attach(skel_->progs.golens_http_enter, entry_offset));
  return probes;
}

Result<std::unique_ptr<BpfSampler::Probes>> BpfSampler::AttachMapProbes(
    const std::string& binary_path, const std::vector<std::pair<uint64_t, uint32_t>>& sites) {
  std::unique_ptr<Probes> probes(new Probes());
  if (int prog_fd = bpf_program__fd(skel_->progs.golens_map_probe_multi); prog_fd >= 0 && !sites.empty()) {
    std::vector<uint64_t> offsets, cookies;
    for (const auto& [offset, key_size] : sites) {
      offsets.push_back(offset);
      cookies.push_back(key_size);
    }
    union {
      UprobeMultiLinkAttr link;
      char bytes[128];  // the rest of union bpf_attr: zero
    } attr{};
    attr.link.prog_fd = static_cast<__u32>(prog_fd);
    attr.link.attach_type = kTraceUprobeMulti;
    attr.link.path = reinterpret_cast<uintptr_t>(binary_path.c_str());
    attr.link.offsets = reinterpret_cast<uintptr_t>(offsets.data());
    attr.link.cookies = reinterpret_cast<uintptr_t>(cookies.data());
    attr.link.cnt = static_cast<__u32>(offsets.size());
    long fd = syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
    if (fd >= 0) {
      probes->link_fds_.emplace_back(static_cast<int>(fd));
      return probes;
    }
    GOLENS_LOG(kDebug) << "uprobe_multi link on " << binary_path << ": " << std::strerror(errno)
                       << "; one uprobe per site";
  }
  for (const auto& [offset, key_size] : sites) {
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    opts.bpf_cookie = key_size;  // the key's size, for the walk
    bpf_link* link =
        bpf_program__attach_uprobe_opts(skel_->progs.golens_map_probe, -1, binary_path.c_str(), offset, &opts);
    if (!link) return ErrnoError("attach uprobe " + binary_path + "+" + std::to_string(offset));
    probes->links_.push_back(link);
  }
  return probes;
}

void BpfSampler::Stop() {
  cpu_links_.clear();
  cpu_event_fds_.clear();
  tracker_links_.clear();
}

int BpfSampler::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSampler*>(ctx);
  self->on_record_(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
  return 0;
}

Result<void> BpfSampler::Poll(int timeout_ms) {
  int rc = ring_buffer__poll(ringbuf_.get(), timeout_ms);
  if (rc < 0 && rc != -EINTR) return ErrnoError("poll BPF ring buffer", -rc);
  // Samples are written without waking the reader (until a quarter of the
  // buffer fills): take whatever is there after every wait.
  return Drain();
}

Result<void> BpfSampler::Drain() {
  int rc = ring_buffer__consume(ringbuf_.get());
  if (rc < 0 && rc != -EINTR) return ErrnoError("read BPF ring buffer", -rc);
  return Ok();
}

Metrics BpfSampler::ReadMetrics() const {
  Metrics totals{};
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) return totals;
  std::vector<uint64_t> values(static_cast<size_t>(ncpus));
  for (__u32 key = 0; key < GOLENS_METRIC_COUNT; ++key) {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.metrics), &key, values.data()) != 0) continue;
    for (uint64_t v : values) totals[key] += v;
  }
  return totals;
}

}  // namespace golens::profiler
