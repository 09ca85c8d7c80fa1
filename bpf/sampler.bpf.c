// SPDX-License-Identifier: GPL-2.0
/* golens CPU sampler: runs on every cpu-clock tick of every online CPU.
 * Keeps samples of target processes only (map "targets", by tgid) and
 * streams each one through a ring buffer: user + kernel stack, pid/tid and
 * the goroutine id of the user goroutine. All Go struct offsets come from the
 * per-process map entry filled by user space. Every drop or error path bumps
 * a counter in "metrics". */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Configuration, set by user space between open and load. */
const volatile __u32 golens_abi_version = GOLENS_ABI_VERSION;
const volatile bool collect_kernel_stacks = true;
const volatile bool collect_goid = true;
/* Wake the reader only once this many bytes are pending (0 = every sample). */
const volatile __u64 wakeup_bytes = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct golens_proc_info);
} targets SEC(".maps");

/* Size set by user space from CPU count and rate (bpf_map__set_max_entries). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} samples SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, GOLENS_METRIC_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} metrics SEC(".maps");

static __always_inline void count(__u32 metric) {
  __u64 *value = bpf_map_lookup_elem(&metrics, &metric);
  if (value) *value += 1; /* per-CPU: no atomics needed */
}

static __always_inline int read_user_u64(__u64 *out, __u64 address) {
  return bpf_probe_read_user(out, sizeof(*out), (const void *)address);
}

/* The user goroutine's id, or 0. g from TLS (fsbase + tls_offset), else R14
 * when the CPU was in Go code; if g is g0 or gsignal, follow g.m.curg. */
static __always_inline void read_goroutine(const struct golens_proc_info *proc,
                                           struct task_struct *task, struct pt_regs *user_regs,
                                           bool user_mode, struct golens_sample *s) {
  __u64 g = 0;
  __u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
  if (fsbase == 0 || read_user_u64(&g, fsbase + proc->tls_offset) != 0 || g == 0) {
    count(GOLENS_METRIC_TLS_READ_ERROR);
    if (!user_mode || !(proc->flags & GOLENS_PROC_REGABI)) return;
    g = BPF_CORE_READ(user_regs, r14);
    if (g == 0) return;
    count(GOLENS_METRIC_G_FROM_R14);
    s->flags |= GOLENS_SAMPLE_G_FROM_R14;
  }

  __u64 m = 0;
  if (read_user_u64(&m, g + proc->g_m) != 0) {
    count(GOLENS_METRIC_GOID_READ_ERROR);
    return;
  }
  if (m != 0) {
    __u64 g0 = 0, gsignal = 0;
    if (read_user_u64(&g0, m + proc->m_g0) != 0 ||
        read_user_u64(&gsignal, m + proc->m_gsignal) != 0) {
      count(GOLENS_METRIC_GOID_READ_ERROR);
      return;
    }
    if (g == g0 || g == gsignal) {
      __u64 curg = 0;
      if (read_user_u64(&curg, m + proc->m_curg) != 0) {
        count(GOLENS_METRIC_GOID_READ_ERROR);
        return;
      }
      count(GOLENS_METRIC_SYSTEM_STACK);
      s->flags |= GOLENS_SAMPLE_ON_SYSTEM_STACK;
      if (curg == 0) {
        count(GOLENS_METRIC_NO_CURG); /* scheduler, GC worker on g0: no user goroutine */
        return;
      }
      g = curg;
    }
  }

  __u64 goid = 0;
  if (read_user_u64(&goid, g + proc->g_goid) != 0) {
    count(GOLENS_METRIC_GOID_READ_ERROR);
    return;
  }
  s->extras.goid = goid;
  s->flags |= GOLENS_SAMPLE_GOID_VALID;
}

SEC("perf_event")
int golens_sample_cpu(struct bpf_perf_event_data *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (tgid == 0) return 0; /* idle */

  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc) return 0;
  if (proc->flags & GOLENS_PROC_PENDING_EXEC) {
    count(GOLENS_METRIC_PENDING_EXEC);
    return 0;
  }

  struct golens_sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
  if (!s) {
    count(GOLENS_METRIC_RINGBUF_FULL);
    return 0;
  }
  s->header.kind = GOLENS_RECORD_SAMPLE;
  s->header.size = sizeof(*s);
  s->ktime_ns = bpf_ktime_get_ns();
  s->tgid = tgid;
  s->tid = (__u32)pid_tgid;
  s->cpu = bpf_get_smp_processor_id();
  s->flags = 0;
  s->extras.goid = 0;
  s->extras.labels_ptr = 0;
  s->extras.span_id = 0;
  s->extras.reserved = 0;
  s->user_sp = 0;
  s->user_sp_words[0] = 0;
  s->user_sp_words[1] = 0;

  /* Kernel text is in the upper half of the address space. */
  bool user_mode = (__s64)ctx->regs.ip >= 0;
  if (!user_mode) s->flags |= GOLENS_SAMPLE_KERNEL_MODE;

  /* The user registers: the sampled ones, or those saved at kernel entry. */
  struct task_struct *task = bpf_get_current_task_btf();
  struct pt_regs *user_regs = (struct pt_regs *)bpf_task_pt_regs(task);

  long n = bpf_get_stack(ctx, s->user_stack, sizeof(s->user_stack), BPF_F_USER_STACK);
  if (n < 0) {
    count(GOLENS_METRIC_USER_STACK_ERROR);
    s->user_frames = (__s32)n;
  } else {
    s->user_frames = (__s32)(n / sizeof(__u64));
  }

  s->kernel_frames = 0;
  if (collect_kernel_stacks && !user_mode) {
    n = bpf_get_stack(ctx, s->kernel_stack, sizeof(s->kernel_stack), 0);
    if (n < 0) {
      count(GOLENS_METRIC_KERNEL_STACK_ERROR);
      s->kernel_frames = (__s32)n;
    } else {
      s->kernel_frames = (__s32)(n / sizeof(__u64));
    }
  }

  /* The two words at the user sp: the return address when the leaf has no
   * frame (yet), which frame-pointer unwinding skips. User space decides. */
  __u64 sp = BPF_CORE_READ(user_regs, sp);
  if (sp != 0) {
    if (bpf_probe_read_user(s->user_sp_words, sizeof(s->user_sp_words), (const void *)sp) == 0) {
      s->user_sp = sp;
      s->flags |= GOLENS_SAMPLE_USER_SP_VALID;
    } else {
      count(GOLENS_METRIC_USER_SP_READ_ERROR);
    }
  }

  if (collect_goid && (proc->flags & GOLENS_PROC_GO)) {
    read_goroutine(proc, task, user_regs, user_mode, s);
  }

  count(GOLENS_METRIC_SAMPLES);
  __u64 flags = 0;
  if (wakeup_bytes != 0) {
    flags = bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                          : BPF_RB_NO_WAKEUP;
  }
  bpf_ringbuf_submit(s, flags);
  return 0;
}

/* `record -- CMD`: the forked child is a target before it execs, so that no
 * instruction of the program is missed; samples of the pre-exec copy of
 * golens are dropped until this fires. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(golens_on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 tgid = BPF_CORE_READ(p, tgid);
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc) return 0;
  if (proc->flags & GOLENS_PROC_PENDING_EXEC) {
    proc->flags &= ~(__u32)GOLENS_PROC_PENDING_EXEC; /* user space never writes it concurrently */
    count(GOLENS_METRIC_EXEC_SEEN);
  }
  return 0;
}
