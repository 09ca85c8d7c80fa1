#include "profiler/bpf_sampler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "golens_sampler.skel.h"
#include "profiler/base/log.h"
#include "profiler/perf_events.h"

namespace golens::profiler {
namespace {

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
// samples with every CPU busy in a target: the reader drains every 100 ms and
// is woken at a quarter full, so this leaves ample headroom.
size_t RingbufSize(size_t cpus, int hz) {
  size_t want = cpus * static_cast<size_t>(hz) * sizeof(golens_sample) / 2;
  size_t size = 1u << 20;
  while (size < want && size < (64u << 20)) size <<= 1;
  return size;
}

Error LoadError(const std::string& phase, int err) {
  Error error = ErrnoError("BPF " + phase, err < 0 ? -err : err);
  if (err == -EPERM || err == EPERM) {
    error.message += " (needs CAP_BPF and CAP_PERFMON; run as root)";
    error.exit_code = 2;
  } else if (err == -EACCES || err == EACCES) {
    error.message += " (rejected by the BPF verifier; run with -v for its log)";
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
  }
  return "?";
}

Result<std::unique_ptr<BpfSampler>> BpfSampler::Create(const SamplerOptions& options,
                                                       SampleCallback on_sample) {
  libbpf_set_print(LibbpfPrint);
  std::unique_ptr<BpfSampler> sampler(new BpfSampler());
  sampler->options_ = options;
  sampler->on_sample_ = std::move(on_sample);

  GOLENS_TRY(auto cpus, OnlineCpus());
  sampler->cpu_count_ = cpus.size();

  sampler->skel_ = golens_sampler__open();
  if (!sampler->skel_) return LoadError("open", errno);
  auto* skel = sampler->skel_;
  if (skel->rodata->golens_abi_version != GOLENS_ABI_VERSION) {
    return MakeError("BPF object ABI version " + std::to_string(skel->rodata->golens_abi_version) +
                     " != " + std::to_string(GOLENS_ABI_VERSION) + " (stale build?)");
  }
  skel->rodata->collect_kernel_stacks = options.kernel_stacks;
  skel->rodata->collect_goid = options.goroutine_ids;
  size_t ring_bytes =
      options.ringbuf_bytes ? options.ringbuf_bytes : RingbufSize(cpus.size(), options.hz);
  // Wake the reader at a quarter full; otherwise it drains on its poll interval.
  skel->rodata->wakeup_bytes = ring_bytes / 4;
  if (int err = bpf_map__set_max_entries(skel->maps.samples, static_cast<__u32>(ring_bytes))) {
    return LoadError("size ring buffer", err);
  }
  if (int err = golens_sampler__load(skel)) return LoadError("load", err);

  sampler->ringbuf_ =
      ring_buffer__new(bpf_map__fd(skel->maps.samples), &BpfSampler::OnRecord, sampler.get(), nullptr);
  if (!sampler->ringbuf_) return LoadError("ring buffer", errno);
  return sampler;
}

BpfSampler::~BpfSampler() {
  Stop();
  if (ringbuf_) ring_buffer__free(ringbuf_);
  if (skel_) golens_sampler__destroy(skel_);
}

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
}

Result<golens_proc_info> BpfSampler::GetTarget(pid_t tgid) const {
  __u32 key = static_cast<__u32>(tgid);
  golens_proc_info info{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.targets), &key, &info) != 0) {
    return ErrnoError("look up target " + std::to_string(tgid));
  }
  return info;
}

Result<void> BpfSampler::Start() {
  if (!links_.empty()) return Ok();
  // The exec hook first, so a child released right after Start() is seen.
  bpf_link* exec_link = bpf_program__attach(skel_->progs.golens_on_exec);
  if (!exec_link) return LoadError("attach sched_process_exec", errno);
  links_.push_back(exec_link);

  GOLENS_TRY(auto events, OpenCpuClockEvents(options_.hz));
  cpu_count_ = events.size();
  for (CpuClockEvent& event : events) {
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.golens_sample_cpu, event.fd.get());
    if (!link) {
      int err = errno;
      Stop();
      return LoadError("attach to cpu-clock on cpu " + std::to_string(event.cpu), err);
    }
    event.fd.Release();  // the link owns the perf fd now
    links_.push_back(link);
  }
  return Ok();
}

void BpfSampler::Stop() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}

int BpfSampler::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSampler*>(ctx);
  if (size < sizeof(golens_record_header)) {
    ++self->malformed_records_;
    return 0;
  }
  const auto* header = static_cast<const golens_record_header*>(data);
  if (header->kind == GOLENS_RECORD_SAMPLE && size >= sizeof(golens_sample)) {
    self->on_sample_(*static_cast<const golens_sample*>(data));
  } else {
    ++self->malformed_records_;
  }
  return 0;
}

Result<void> BpfSampler::Poll(int timeout_ms) {
  int rc = ring_buffer__poll(ringbuf_, timeout_ms);
  if (rc < 0 && rc != -EINTR) return ErrnoError("poll BPF ring buffer", -rc);
  return Drain();
}

Result<void> BpfSampler::Drain() {
  int rc = ring_buffer__consume(ringbuf_);
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
