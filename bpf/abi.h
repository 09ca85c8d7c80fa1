/* The only contract between the BPF programs (bpf/sampler.bpf.c) and user
 * space (profiler/bpf_sampler.*, profiler/sample_record.*). Fixed-width types
 * only, no padding holes: the C++ side static_asserts every size. Bump
 * GOLENS_ABI_VERSION on any layout change; user space refuses an object built
 * for another version, and every record carries the version it was written
 * with.
 *
 * Included from BPF C (after vmlinux.h, which provides __u32 etc.) and from
 * C++ (which gets them from <linux/types.h>).
 */
#ifndef GOLENS_BPF_ABI_H_
#define GOLENS_BPF_ABI_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define GOLENS_ABI_VERSION 3

/* Frames per stack: the kernel's default kernel.perf_event_max_stack. */
#define GOLENS_MAX_FRAMES 127

/* The largest record BPF writes (a sample with full stacks and every
 * optional section, a native stack snapshot included). A power of two: BPF
 * masks offsets with it - 1. Only the used bytes travel. 32 KiB is the most
 * a per-CPU map value (the scratch buffer) may hold (PCPU_MIN_UNIT_SIZE). */
#define GOLENS_MAX_RECORD_BYTES 32768

/* ---- Per-process state: map "targets", key = tgid (__u32). ----------------
 * Presence in the map makes a process a target. User space fills the Go
 * runtime offsets per binary (profiler/go_offsets.*); BPF never hard-codes
 * them. BPF adds forked children of FOLLOW_CHILDREN targets itself and
 * removes processes when they exit. */
enum golens_proc_flags {
  GOLENS_PROC_GO = 1u << 0,              /* Go binary with known g/m offsets */
  GOLENS_PROC_PENDING_EXEC = 1u << 1,    /* forked by `record -- CMD`, not yet exec'd: drop samples */
  GOLENS_PROC_REGABI = 1u << 2,          /* Go >= 1.17 on amd64: R14 holds g in Go code */
  GOLENS_PROC_FOLLOW_CHILDREN = 1u << 3, /* children forked by this process become targets */
  GOLENS_PROC_LABELS_MAP = 1u << 4,      /* g.labels -> *map[string]string (Go <= 1.23) */
  GOLENS_PROC_LABELS_SLICE = 1u << 5,    /* g.labels -> []{key, value string}, sorted (Go >= 1.24) */
  GOLENS_PROC_SWISS_MAPS = 1u << 6,      /* Go maps are Swiss tables (Go >= 1.24 by default) */
  GOLENS_PROC_SPANS = 1u << 7,           /* HTTP handler probes are on: samples carry spans */
  GOLENS_PROC_MAPS = 1u << 8,            /* map_pcs table map_table is filled: samples in map code carry map stats */
  GOLENS_PROC_NATIVE = 1u << 9,          /* native stacks: snapshot samples outside Go code (map "native_procs") */
  GOLENS_PROC_MAPS_DEEP = 1u << 10,      /* --maps deep: the lookup probes of this program report */
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
  /* net/http offsets for the span probes (0 = unknown: no spans) */
  __u16 request_method;  /* offsetof(http.Request, Method) (a string) */
  __u16 request_url;     /* offsetof(http.Request, URL) (a *url.URL) */
  __u16 request_header;  /* offsetof(http.Request, Header) (a map[string][]string) */
  __u16 url_path;        /* offsetof(url.URL, Path) (a string) */
  /* Map statistics (GOLENS_PROC_MAPS): the map-operation code of the
   * program spans [map_text_start, map_text_start + map_text_len) (runtime
   * addresses); entry map_table of "map_pcs" says, per PC range of it, where
   * the map pointer is. */
  __u64 map_text_start;
  __u32 map_text_len;
  __u32 map_table;
  __u64 map_reserved;    /* zero; room for later map fields without a layout change */
};

/* ---- Ring buffer records. Every record starts with a golens_record_header;
 * samples and process events share one ring buffer, so user space sees them
 * in the order they happened (a fork before the child's first sample, a
 * process's last sample before its exit). */
enum golens_record_kind {
  GOLENS_RECORD_SAMPLE = 1,
  GOLENS_RECORD_PROC_EVENT = 2,
  GOLENS_RECORD_SPAN = 3,
  GOLENS_RECORD_MAP_PROBE = 4,
};

struct golens_record_header {
  __u16 kind;    /* golens_record_kind */
  __u16 version; /* GOLENS_ABI_VERSION of the writer */
  __u32 size;    /* bytes of the whole record, variable part included */
};

enum golens_sample_flags {
  GOLENS_SAMPLE_KERNEL_MODE = 1u << 0,     /* the CPU was in the kernel when sampled */
  GOLENS_SAMPLE_GOID_VALID = 1u << 1,      /* goid was read from the runtime */
  GOLENS_SAMPLE_USER_SP_VALID = 1u << 2,   /* user_sp / user_sp_words are set */
  GOLENS_SAMPLE_G_FROM_R14 = 1u << 3,      /* TLS read failed; g came from R14 */
  GOLENS_SAMPLE_ON_SYSTEM_STACK = 1u << 4, /* g was g0/gsignal; goid is m.curg's */
};

/* Optional sections after the stacks: bit (1 << kind) in golens_sample.sections.
 * Each is a golens_section header followed by `size` bytes, then padding to
 * 8 bytes; they appear in increasing kind order. A reader skips kinds it
 * does not know. */
enum golens_section_kind {
  GOLENS_SECTION_NONE = 0,
  GOLENS_SECTION_LABELS = 1, /* the user goroutine's pprof labels, copied at sample time */
  GOLENS_SECTION_SPAN = 2,   /* the HTTP request the goroutine serves: a struct golens_span */
  GOLENS_SECTION_MAP = 3,    /* the header of the Go map being operated on: a struct golens_map_stats */
  GOLENS_SECTION_NATIVE_STACK = 4, /* registers + the top of the user stack: a golens_native_stack */
  GOLENS_SECTION_COUNT = 16,
};

/* GOLENS_SECTION_LABELS payload: a golens_labels head, then `kept` labels,
 * each a golens_label followed by key_len key bytes and value_len value
 * bytes (no padding). Keys and values longer than GOLENS_LABEL_BYTES are
 * cut (and flagged); labels past GOLENS_MAX_LABELS are counted, not kept. */
#define GOLENS_MAX_LABELS 32
#define GOLENS_LABEL_BYTES 128

enum golens_label_flags {
  GOLENS_LABEL_KEY_CUT = 1u << 0,
  GOLENS_LABEL_VALUE_CUT = 1u << 1,
};

struct golens_labels {
  __u16 kept;  /* labels that follow */
  __u16 total; /* labels the goroutine has (as far as BPF could count) */
  __u32 reserved;
};

struct golens_label {
  __u8 key_len;
  __u8 value_len;
  __u8 flags; /* golens_label_flags */
  __u8 reserved;
};

struct golens_section {
  __u16 kind;  /* golens_section_kind */
  __u16 flags; /* per kind */
  __u32 size;  /* payload bytes after this header, before padding */
};

/* ---- Go map statistics ------------------------------------------------------
 * Per program (shared by every process running it, keyed by a table id user
 * space assigns): the PC ranges of the map-operation functions where the map
 * pointer can be recovered, sorted by start, found by disassembly
 * (profiler/map_pointer_flow.*). Offsets are from map_text_start. */
#define GOLENS_MAX_MAP_PCS 512 /* a power of two: BPF bisects with masks */

enum golens_map_ptr_where {
  GOLENS_MAP_PTR_NONE = 0,
  GOLENS_MAP_PTR_RBX = 1,       /* still in the argument register RBX (runtime.map* entry points) */
  GOLENS_MAP_PTR_RAX = 2,       /* still in RAX (methods of internal/runtime/maps.Map: the receiver) */
  GOLENS_MAP_PTR_FRAME = 3,     /* spilled: at [RBP + slot] */
  GOLENS_MAP_PTR_VIA_CALLER = 4,/* a frameless callee (the key hash): [RSP] is a return address into a FRAME range; RBP is the caller's */
};

struct golens_map_pc {
  __u32 start;  /* offset from map_text_start */
  __u16 len;
  __u8 where;   /* golens_map_ptr_where */
  __s8 slot;    /* GOLENS_MAP_PTR_FRAME: offset from RBP */
};

struct golens_map_pcs {
  __u32 count;
  __u32 reserved;
  struct golens_map_pc pcs[GOLENS_MAX_MAP_PCS];
};

enum golens_map_stats_flags {
  GOLENS_MAP_SWISS = 1u << 0,   /* a Swiss table (internal/runtime/maps.Map) */
  GOLENS_MAP_GROWING = 1u << 1, /* bucket map: oldbuckets != nil */
  GOLENS_MAP_DIR_CUT = 1u << 2, /* Swiss: not every table read; capacity and buckets are estimated from those read */
  GOLENS_MAP_LOAD_6 = 1u << 3,  /* bucket map of Go <= 1.21: grows past 6 entries per bucket, not 6.5 */
};

/* GOLENS_SECTION_MAP payload: the map header, read and checked at sample
 * time (a header that is not plausible gives no section). */
#define GOLENS_MAP_DIR_VISITS 64

struct golens_map_stats {
  __u64 map;       /* address of the header */
  __u64 count;     /* len(m) */
  __u64 buckets;   /* bucket maps: 1 << B; Swiss: groups, capacity / 8 (small map: 1) */
  __u64 capacity;  /* Swiss: slots of all tables (small map: 8); bucket maps: 0 */
  __u32 dir_len;   /* Swiss: directory entries (0: small map) */
  __u32 dir_seen;  /* Swiss: directory entries looked at */
  __u16 flags;     /* golens_map_stats_flags */
  __u8 where;      /* golens_map_ptr_where the pointer came from */
  __u8 log2;       /* bucket maps: B; Swiss: globalDepth */
  __u32 reserved;
};

/* ---- Deep map mode: one record per probed lookup. The probe sits right
 * after a fast32/fast64 lookup has hashed its key (RAX = the hash; map,
 * type and key in their spill slots at RBP+0x18, +0x10, +0x20), and BPF
 * walks the lookup the way the runtime does. The probe's cookie is the key
 * size (4 or 8). */
enum golens_map_probe_flags {
  GOLENS_MAP_PROBE_HIT = 1u << 0,      /* the key was found */
  GOLENS_MAP_PROBE_SWISS = 1u << 1,    /* a Swiss table: probes are groups */
  GOLENS_MAP_PROBE_OLD = 1u << 2,      /* bucket map growing: the lookup used the old bucket */
  GOLENS_MAP_PROBE_CUT = 1u << 3,      /* the walk stopped at BPF's limit before the lookup's end */
  GOLENS_MAP_PROBE_SMALL = 1u << 4,    /* a small Swiss map (one group, no hash used) */
};

#define GOLENS_MAP_PROBE_MAX_BUCKETS 16 /* overflow buckets / groups BPF walks */

struct golens_map_probe {
  struct golens_record_header header;
  __u64 ktime_ns;
  __u64 start_ns;  /* of the process (boot-time ns) */
  __u64 map;       /* the map header */
  __u64 key;       /* the key (fast32: low 32 bits) */
  __u64 hash;
  __u64 site;      /* return address of the lookup: its call site */
  __u64 index;     /* bucket (bucket maps) or first group (Swiss) the key hashes to */
  __u32 tgid;
  __u16 depth;     /* buckets of the overflow chain visited (1 = the key's own bucket); Swiss: groups visited */
  __u16 probes;    /* slots compared (bucket maps), groups examined (Swiss) */
  __u16 flags;     /* golens_map_probe_flags */
  __u16 key_size;
  __u32 reserved;
};

/* ---- Native stacks (C, C++, cgo, libc without frame pointers).
 * Map "native_procs", key = tgid: where Go code is in the process, so BPF
 * knows when a PC is not Go code. Filled by user space for GOLENS_PROC_NATIVE
 * targets (profiler/native_target.*). */
struct golens_native_proc {
  __u64 go_text_start; /* runtime address range of Go code; start == end: no Go code */
  __u64 go_text_end;
  __u32 g_stack;       /* offsetof(runtime.g, stack): lo, then hi (0 when not Go) */
  __u32 g_sched_sp;    /* offsetof(runtime.g, sched.sp) */
};

/* Bytes of the user stack a sample may copy (record --native-stack-bytes
 * is clamped to this), and of the goroutine stack window copied beside it. */
#define GOLENS_NATIVE_MAX_STACK_BYTES 16384
#define GOLENS_NATIVE_GO_WINDOW_BYTES 4096

enum golens_native_flags {
  GOLENS_NATIVE_FROM_PC = 1u << 0,       /* the sampled PC is not Go code: registers are the sampled ones */
  GOLENS_NATIVE_FROM_FP_WALK = 1u << 1,  /* Go code called from C: the frame-pointer walk reached a return
                                          * address outside Go code; ip/sp/bp are that frame's */
  GOLENS_NATIVE_STACK_SHORT = 1u << 2,   /* the copy stopped at unreadable memory before stack_bytes wanted */
  GOLENS_NATIVE_HAS_GOROUTINE = 1u << 3, /* curg, go_stack_hi and the goroutine window are set */
};

/* GOLENS_SECTION_NATIVE_STACK payload: this head, then stack_bytes bytes of
 * user memory from sp, then go_window_bytes bytes from go_window. */
struct golens_native_stack {
  __u64 ip, sp, bp, bx, r12, r13, r14, r15; /* where native unwinding starts (only ip/sp/bp with FROM_FP_WALK) */
  __u64 curg;          /* the user goroutine (g.m.curg on the system stack), 0 when none */
  __u64 go_stack_hi;   /* curg.stack.hi */
  __u64 go_sched_sp;   /* curg.sched.sp: where it left its stack for C (meaningful on the system stack) */
  __u64 go_window;     /* start of the copied goroutine stack window */
  __u32 stack_bytes;
  __u32 go_window_bytes;
  __u16 go_frames;     /* FROM_FP_WALK: user frames (leaf first) that precede the native part */
  __u16 flags;         /* golens_native_flags */
  __u32 reserved;
};

/* ---- Zero-code HTTP spans: one per request a goroutine serves, from the
 * entry of net/http.serverHandler.ServeHTTP to one of its RET instructions. */
#define GOLENS_SPAN_METHOD_BYTES 16
#define GOLENS_SPAN_PATH_BYTES 128
#define GOLENS_TRACEPARENT_BYTES 56 /* "00-" 32 hex "-" 16 hex "-" 2 hex = 55, + NUL */

enum golens_span_flags {
  GOLENS_SPAN_HAS_TRACEPARENT = 1u << 0, /* traceparent holds the request's header value */
  GOLENS_SPAN_PATH_CUT = 1u << 1,
};

struct golens_span {
  __u64 span_id;    /* fresh random id */
  __u64 start_ns;   /* bpf_ktime_get_ns() at entry */
  __u8 trace_id[16]; /* fresh random id, used when there is no (valid) traceparent */
  char traceparent[GOLENS_TRACEPARENT_BYTES];
  char method[GOLENS_SPAN_METHOD_BYTES];
  char path[GOLENS_SPAN_PATH_BYTES];
  __u8 method_len;
  __u8 path_len;
  __u16 flags;      /* golens_span_flags */
  __u32 samples;    /* CPU samples that carried this span */
  __u32 depth;      /* nested ServeHTTP calls on the goroutine */
  __u32 reserved;
};

/* GOLENS_RECORD_SPAN: a request finished (its handler returned). */
struct golens_span_end {
  struct golens_record_header header;
  __u64 end_ns;
  __u64 goid;
  __u32 tgid;
  __u32 reserved;
  struct golens_span span;
};

/* A CPU sample: this fixed part, then
 *   __u64 user_stack[user_frames];     leaf first; [0] is the user PC
 *   __u64 kernel_stack[kernel_frames]; leaf first
 *   sections (see above).
 * Only the used frames travel. */
struct golens_sample {
  struct golens_record_header header;
  __u64 ktime_ns;     /* bpf_ktime_get_ns() */
  __u64 start_ns;     /* process start (boot-time ns of the group leader): (tgid, start) names one process */
  __u32 tgid;
  __u32 tid;
  __u32 cpu;
  __u32 flags;        /* golens_sample_flags */
  __u16 user_frames;
  __u16 kernel_frames;
  __s16 user_error;   /* -errno of the user stack walk, 0 = ok */
  __s16 kernel_error; /* -errno of the kernel stack walk, 0 = ok */
  __u32 sections;     /* bit set of golens_section_kind present after the stacks */
  __u32 reserved;
  __u64 goid;         /* user goroutine id when GOID_VALID */
  __u64 user_sp;      /* user stack pointer at the sample */
  __u64 user_sp_words[2]; /* the two words at user_sp: return address of a frameless leaf */
};

/* ---- Process lifecycle, from the sched tracepoints and munmap. */
enum golens_proc_event_kind {
  GOLENS_PROC_EVENT_FORK = 1,   /* tgid is a new child of parent_tgid; both targets */
  GOLENS_PROC_EVENT_EXEC = 2,   /* tgid runs a new program now */
  GOLENS_PROC_EVENT_EXIT = 3,   /* the last thread of tgid exited; no samples follow */
  GOLENS_PROC_EVENT_MUNMAP = 4, /* tgid unmaps [addr, addr + len): mappings there end */
  /* a process that is not a target runs a new program (only when user space
   * asked for every exec: the agent discovers targets with it) */
  GOLENS_PROC_EVENT_EXEC_UNTRACKED = 5,
};

#define GOLENS_EXEC_FILENAME_BYTES 256

struct golens_proc_event {
  struct golens_record_header header;
  __u64 ktime_ns;
  __u64 start_ns;        /* of tgid (boot-time ns) */
  __u64 parent_start_ns; /* FORK: of parent_tgid */
  __u64 addr;            /* MUNMAP */
  __u64 len;             /* MUNMAP */
  __u32 kind;            /* golens_proc_event_kind */
  __u32 tgid;
  __u32 parent_tgid;     /* FORK */
  __u32 reserved;
  /* EXEC: the program's path as exec got it (NUL-terminated, maybe cut), so
   * a process that exits before user space can read /proc still has a
   * program to symbolize against. Empty for other kinds. */
  char filename[GOLENS_EXEC_FILENAME_BYTES];
};

/* ---- Metrics: per-CPU array, one __u64 per counter. Every drop or error
 * path in the BPF programs increments one of these. */
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
  GOLENS_METRIC_EXEC_SEEN,           /* exec of a target */
  GOLENS_METRIC_FORK_FOLLOWED,       /* children made targets at fork */
  GOLENS_METRIC_EXIT_SEEN,           /* targets that exited */
  GOLENS_METRIC_EVENT_LOST,          /* process events lost: ring buffer full */
  GOLENS_METRIC_TARGETS_FULL,        /* a child could not be added: targets map full */
  GOLENS_METRIC_SCRATCH_ERROR,       /* per-CPU scratch buffer missing (never expected) */
  GOLENS_METRIC_LABELS_READ,         /* samples whose goroutine had pprof labels */
  GOLENS_METRIC_LABELS_READ_ERROR,   /* reading the label set failed (freed, moving) */
  GOLENS_METRIC_LABELS_CUT,          /* labels whose key or value was cut, or labels not kept */
  GOLENS_METRIC_SPAN_STARTED,        /* handler entries seen */
  GOLENS_METRIC_SPAN_ENDED,          /* handler returns seen with their span */
  GOLENS_METRIC_SPAN_ERROR,          /* reading the request, or the span table full */
  GOLENS_METRIC_SPAN_LOST,           /* finished spans lost: ring buffer full */
  GOLENS_METRIC_MAP_PC,              /* samples at a PC in map code */
  GOLENS_METRIC_MAP_NO_POINTER,      /* of those, no map pointer at that PC */
  GOLENS_METRIC_MAP_READ_ERROR,      /* reading the map header failed */
  GOLENS_METRIC_MAP_IMPLAUSIBLE,     /* the header read did not look like a map's */
  GOLENS_METRIC_MAP_STATS,           /* samples with map statistics */
  GOLENS_METRIC_MAP_PROBE,           /* deep mode: probed lookups reported */
  GOLENS_METRIC_MAP_PROBE_ERROR,     /* deep mode: the lookup's map or type could not be read */
  GOLENS_METRIC_MAP_PROBE_LOST,      /* deep mode: records lost (ring buffer full) */
  GOLENS_METRIC_NATIVE_SNAPSHOT,     /* samples that carry a native stack snapshot */
  GOLENS_METRIC_NATIVE_FROM_FP_WALK, /* of those, Go code called from C (found by the frame-pointer walk) */
  GOLENS_METRIC_NATIVE_STACK_SHORT,  /* snapshots that met unreadable memory before the bytes wanted (mostly: the stack's end) */
  GOLENS_METRIC_NATIVE_NO_ROOM,      /* no room left in the record for a snapshot */
  GOLENS_METRIC_STAGE_MISSED,        /* a sampler stage was not reached (tail call failed): sample without it */
  GOLENS_METRIC_STAGE_ERROR,         /* a sampler stage found no pending sample or a bad offset: sample dropped */
  GOLENS_METRIC_COUNT,
};

#endif /* GOLENS_BPF_ABI_H_ */
