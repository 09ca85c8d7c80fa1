/* The only contract between the BPF sampler (bpf/sampler.bpf.c) and user
 * space (profiler/bpf_sampler.*). Fixed-width types only, no padding holes:
 * the C++ side static_asserts every size. Bump GOLENS_ABI_VERSION on any
 * layout change; user space refuses an object built for another version.
 *
 * Included from BPF C (after vmlinux.h, which provides __u32 etc.) and from
 * C++ (which gets them from <linux/types.h>).
 */
#ifndef GOLENS_BPF_ABI_H_
#define GOLENS_BPF_ABI_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define GOLENS_ABI_VERSION 1

/* Frames per stack: the kernel's default kernel.perf_event_max_stack. */
#define GOLENS_MAX_FRAMES 127

/* ---- Per-process state: map "targets", key = tgid (__u32). ----------------
 * Presence in the map makes a process a target. User space fills the Go
 * runtime offsets per binary (profiler/go_offsets.*); BPF never hard-codes
 * them. */
enum golens_proc_flags {
  GOLENS_PROC_GO = 1u << 0,           /* Go binary with known g/m offsets */
  GOLENS_PROC_PENDING_EXEC = 1u << 1, /* forked by `record -- CMD`, not yet exec'd: drop samples */
  GOLENS_PROC_REGABI = 1u << 2,       /* Go >= 1.17 on amd64: R14 holds g in Go code */
};

struct golens_proc_info {
  __u32 flags;           /* golens_proc_flags */
  __u32 go_version;      /* major << 16 | minor, e.g. 0x1001a for go1.26; 0 if not Go */
  __s64 tls_offset;      /* g is at fsbase + tls_offset (usually -8) */
  __u32 g_m;             /* offsetof(runtime.g, m) */
  __u32 g_goid;          /* offsetof(runtime.g, goid) */
  __u32 g_labels;        /* offsetof(runtime.g, labels): read by the labels issue */
  __u32 m_g0;            /* offsetof(runtime.m, g0) */
  __u32 m_curg;          /* offsetof(runtime.m, curg) */
  __u32 m_gsignal;       /* offsetof(runtime.m, gsignal) */
  __u64 reserved[4];     /* room for map/span offsets without an ABI bump of the key */
};

/* ---- Ring buffer records. Every record starts with a golens_record_header. */
enum golens_record_kind {
  GOLENS_RECORD_SAMPLE = 1,
};

enum golens_sample_flags {
  GOLENS_SAMPLE_KERNEL_MODE = 1u << 0,     /* the CPU was in the kernel when sampled */
  GOLENS_SAMPLE_GOID_VALID = 1u << 1,      /* extras.goid was read from the runtime */
  GOLENS_SAMPLE_USER_SP_VALID = 1u << 2,   /* user_sp / user_sp_words are set */
  GOLENS_SAMPLE_G_FROM_R14 = 1u << 3,      /* TLS read failed; g came from R14 */
  GOLENS_SAMPLE_ON_SYSTEM_STACK = 1u << 4, /* g was g0/gsignal; goid is m.curg's */
};

struct golens_record_header {
  __u32 kind; /* golens_record_kind */
  __u32 size; /* bytes of the whole record */
};

/* Per-sample data that later issues fill (pprof labels, spans, map stats);
 * keyed together with the stacks when user space aggregates. */
struct golens_sample_extras {
  __u64 goid;        /* user goroutine id (0 = none/unknown) */
  __u64 labels_ptr;  /* g.labels of that goroutine (not read yet: 0) */
  __u64 span_id;     /* reserved for span tracking */
  __u64 reserved;
};

struct golens_sample {
  struct golens_record_header header;
  __u64 ktime_ns;     /* bpf_ktime_get_ns() */
  __u32 tgid;
  __u32 tid;
  __u32 cpu;
  __u32 flags;        /* golens_sample_flags */
  __s32 user_frames;  /* frames in user_stack, or -errno */
  __s32 kernel_frames;/* frames in kernel_stack, or -errno (0 when sampled in user mode) */
  struct golens_sample_extras extras;
  __u64 user_sp;          /* user stack pointer at the sample */
  __u64 user_sp_words[2]; /* the two words at user_sp: return address of a frameless leaf */
  __u64 user_stack[GOLENS_MAX_FRAMES];   /* leaf first; [0] is the user PC */
  __u64 kernel_stack[GOLENS_MAX_FRAMES]; /* leaf first */
};

/* ---- Metrics: per-CPU array, one __u64 per counter. Every drop or error
 * path in the BPF program increments one of these. */
enum golens_metric {
  GOLENS_METRIC_SAMPLES = 0,         /* target samples written to the ring buffer */
  GOLENS_METRIC_RINGBUF_FULL,        /* target samples lost: ring buffer full */
  GOLENS_METRIC_PENDING_EXEC,        /* samples of a forked child before exec (dropped) */
  GOLENS_METRIC_USER_STACK_ERROR,    /* bpf_get_stack(user) failed */
  GOLENS_METRIC_KERNEL_STACK_ERROR,  /* bpf_get_stack(kernel) failed */
  GOLENS_METRIC_TLS_READ_ERROR,      /* reading g from TLS failed */
  GOLENS_METRIC_G_FROM_R14,          /* fell back to R14 for g */
  GOLENS_METRIC_GOID_READ_ERROR,     /* reading g.m / m.curg / g.goid failed */
  GOLENS_METRIC_SYSTEM_STACK,        /* g was g0 or gsignal; followed m.curg */
  GOLENS_METRIC_NO_CURG,             /* on the system stack with no user goroutine */
  GOLENS_METRIC_USER_SP_READ_ERROR,  /* reading the words at user sp failed */
  GOLENS_METRIC_EXEC_SEEN,           /* exec tracepoint cleared PENDING_EXEC */
  GOLENS_METRIC_COUNT,
};

#endif /* GOLENS_BPF_ABI_H_ */
