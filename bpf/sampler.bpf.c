// SPDX-License-Identifier: GPL-2.0
/* golens CPU sampler and process tracker.
 *
 * golens_sample_cpu runs on every cpu-clock tick of every online CPU. It keeps
 * samples of target processes only (map "targets", by tgid), builds one
 * variable-length record per sample in a per-CPU scratch buffer (fixed part,
 * only the used frames of the user and kernel stacks, optional sections) and
 * copies exactly that many bytes to the ring buffer.
 *
 * The sched tracepoints keep the target set right as processes fork, exec and
 * exit, and report each of these as a record in the same ring buffer, so user
 * space sees events and samples in the order they happened. munmap of a
 * target is reported too: mappings there end, so user space never normalizes
 * a later sample against a library that is no longer mapped.
 *
 * All Go struct offsets come from the per-process map entry filled by user
 * space. Every drop or error path bumps a counter in "metrics". */
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
/* Copy the user goroutine's pprof labels into each sample. */
const volatile bool collect_labels = true;
/* Attach the HTTP request a goroutine serves (--spans) to its samples. */
const volatile bool collect_spans = false;
/* Read the header of the Go map a sample is operating on (--maps). */
const volatile bool collect_maps = false;
/* Wake the reader only once this many bytes are pending (0 = every record). */
const volatile __u64 wakeup_bytes = 0;
/* Inode of golens's own PID namespace when that is not the initial one: pids
 * in the targets map and in records are then pids as golens sees them. */
const volatile __u32 pidns_inum = 0;
/* Report execs of processes that are not targets (GOLENS_PROC_EVENT_EXEC_UNTRACKED):
 * the agent finds new targets with them instead of polling /proc. */
const volatile bool report_all_execs = false;

#define MAX_PIDNS_LEVELS 8
#define STACK_BYTES (GOLENS_MAX_FRAMES * 8)

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
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

struct scratch {
  __u8 data[GOLENS_MAX_RECORD_BYTES];
};

/* Where a sample record is assembled before it is copied out (a record is
 * too large for the BPF stack, and reserving the maximum in the ring buffer
 * for every sample would waste most of it). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_buffer SEC(".maps");

static __always_inline void count(__u32 metric) {
  __u64 *value = bpf_map_lookup_elem(&metrics, &metric);
  if (value) *value += 1; /* per-CPU: no atomics needed */
}

static __always_inline int read_user_u64(__u64 *out, __u64 address) {
  return bpf_probe_read_user(out, sizeof(*out), (const void *)address);
}

/* The number of `pid` in golens's PID namespace (0 if it has none there). */
static __always_inline __u32 pid_in_golens_ns(struct pid *pid) {
  unsigned int level = BPF_CORE_READ(pid, level);
  for (int i = 0; i < MAX_PIDNS_LEVELS; i++) {
    if (i > level) break;
    struct upid up = {};
    if (bpf_core_read(&up, sizeof(up), &pid->numbers[i]) != 0) return 0;
    if (BPF_CORE_READ(up.ns, ns.inum) == pidns_inum) return (__u32)up.nr;
  }
  return 0;
}

static __always_inline __u32 task_tgid(struct task_struct *task) {
  if (pidns_inum == 0) return BPF_CORE_READ(task, tgid);
  return pid_in_golens_ns(BPF_CORE_READ(task, group_leader, thread_pid));
}

static __always_inline __u32 task_tid(struct task_struct *task) {
  if (pidns_inum == 0) return BPF_CORE_READ(task, pid);
  return pid_in_golens_ns(BPF_CORE_READ(task, thread_pid));
}

static __always_inline __u64 process_start_ns(struct task_struct *task) {
  return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* The user goroutine: sets its id in the sample and returns its g (0 when
 * there is none). g from TLS (fsbase + tls_offset), else R14 when the CPU
 * was in Go code; if g is g0 or gsignal, follow g.m.curg. */
static __always_inline __u64 read_goroutine(const struct golens_proc_info *proc,
                                           struct task_struct *task, struct pt_regs *user_regs,
                                           bool user_mode, struct golens_sample *s) {
  __u64 g = 0;
  __u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
  if (fsbase == 0 || read_user_u64(&g, fsbase + proc->tls_offset) != 0 || g == 0) {
    count(GOLENS_METRIC_TLS_READ_ERROR);
    if (!user_mode || !(proc->flags & GOLENS_PROC_REGABI)) return 0;
    g = BPF_CORE_READ(user_regs, r14);
    if (g == 0) return 0;
    count(GOLENS_METRIC_G_FROM_R14);
    s->flags |= GOLENS_SAMPLE_G_FROM_R14;
  }

  __u64 m = 0;
  if (read_user_u64(&m, g + proc->g_m) != 0) {
    count(GOLENS_METRIC_GOID_READ_ERROR);
    return 0;
  }
  if (m != 0) {
    __u64 g0 = 0, gsignal = 0;
    if (read_user_u64(&g0, m + proc->m_g0) != 0 ||
        read_user_u64(&gsignal, m + proc->m_gsignal) != 0) {
      count(GOLENS_METRIC_GOID_READ_ERROR);
      return 0;
    }
    if (g == g0 || g == gsignal) {
      __u64 curg = 0;
      if (read_user_u64(&curg, m + proc->m_curg) != 0) {
        count(GOLENS_METRIC_GOID_READ_ERROR);
        return 0;
      }
      count(GOLENS_METRIC_SYSTEM_STACK);
      s->flags |= GOLENS_SAMPLE_ON_SYSTEM_STACK;
      if (curg == 0) {
        count(GOLENS_METRIC_NO_CURG); /* scheduler, GC worker on g0: no user goroutine */
        return 0;
      }
      g = curg;
    }
  }

  __u64 goid = 0;
  if (read_user_u64(&goid, g + proc->g_goid) != 0) {
    count(GOLENS_METRIC_GOID_READ_ERROR);
    return 0;
  }
  s->goid = goid;
  s->flags |= GOLENS_SAMPLE_GOID_VALID;
  return g;
}

static __always_inline __u64 wakeup_flags(void) {
  if (wakeup_bytes == 0) return 0;
  return bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                        : BPF_RB_NO_WAKEUP;
}

#include "bpf/native_stack.bpf.h"

/* ---- pprof labels ------------------------------------------------------ */

/* Labels go after the stacks; a label needs at most this much room. */
#define LABEL_ROOM (sizeof(struct golens_label) + 2 * GOLENS_LABEL_BYTES)
#define LABELS_LIMIT (GOLENS_MAX_RECORD_BYTES - LABEL_ROOM)
#define MAP_BUCKET_BYTES 272 /* tophash[8], 8 string keys, 8 string values, overflow */
#define MAP_MAX_BUCKET_VISITS 64

struct label_walk {
  __u64 bucket;      /* map: the bucket being read */
  __u64 tophash;     /* map: its 8 tophash bytes */
  __u64 buckets;     /* map: the bucket array */
  __u32 next_bucket; /* map: the next bucket of the array */
  __u32 nbuckets;
  __u32 offset;      /* where the next label goes in the scratch buffer */
  __u16 kept;
  __u16 total;
  __u32 cut;
  __u32 error;
};

static __always_inline __u32 clamp_label_len(__u64 len) {
  return len > GOLENS_LABEL_BYTES ? GOLENS_LABEL_BYTES : (__u32)len;
}

/* Copies one key/value pair (Go strings: pointer + length) into the record.
 * Returns 1 to stop the walk. */
static __always_inline long put_label(struct label_walk *w, __u64 kptr, __u64 klen, __u64 vptr, __u64 vlen) {
  w->total++;
  if (w->kept >= GOLENS_MAX_LABELS) {
    w->cut++;
    return 0;
  }
  __u32 zero = 0;
  struct scratch *buffer = bpf_map_lookup_elem(&scratch_buffer, &zero);
  if (!buffer) return 1;
  __u32 off = w->offset;
  if (off > LABELS_LIMIT) return 1;
  struct golens_label *label = (struct golens_label *)(buffer->data + off);
  __u32 kl = clamp_label_len(klen);
  __u32 vl = clamp_label_len(vlen);
  label->key_len = (__u8)kl;
  label->value_len = (__u8)vl;
  label->flags = (klen > kl ? GOLENS_LABEL_KEY_CUT : 0) | (vlen > vl ? GOLENS_LABEL_VALUE_CUT : 0);
  label->reserved = 0;
  if (label->flags) w->cut++;
  off += sizeof(*label);
  if (bpf_probe_read_user(buffer->data + off, kl, (const void *)kptr) != 0) goto fail;
  off += kl;
  if (off > GOLENS_MAX_RECORD_BYTES - GOLENS_LABEL_BYTES) goto fail;
  if (bpf_probe_read_user(buffer->data + off, vl, (const void *)vptr) != 0) goto fail;
  w->offset = off + vl;
  w->kept++;
  return 0;
fail:
  w->error = 1;
  return 1;
}

/* Go >= 1.24: a slice of {key, value string}, 32 bytes each. */
static long slice_label(__u32 i, struct label_walk *w) {
  __u64 pair[4];
  if (bpf_probe_read_user(pair, sizeof(pair), (const void *)(w->buckets + (__u64)i * 32)) != 0) {
    w->error = 1;
    return 1;
  }
  return put_label(w, pair[0], pair[1], pair[2], pair[3]);
}

/* Go <= 1.23: one slot of a map[string]string per call, bucket after
 * bucket (each followed by its overflow chain). One slot per call, not a
 * loop over the 8 slots: the verifier then checks one path per slot kind
 * instead of every combination of full and empty slots. */
static long map_slot(__u32 i, struct label_walk *w) {
  __u32 slot = i & 7;
  if (slot == 0) {
    if (w->bucket == 0) {
      if (w->next_bucket >= w->nbuckets) return 1;
      w->bucket = w->buckets + (__u64)w->next_bucket * MAP_BUCKET_BYTES;
      w->next_bucket++;
    }
    if (bpf_probe_read_user(&w->tophash, sizeof(w->tophash), (const void *)w->bucket) != 0) {
      w->error = 1;
      return 1;
    }
  }
  __u64 b = w->bucket;
  /* tophash 0 and 1: empty; 2-4: evacuated to the new array (read there). */
  if (((w->tophash >> (8 * slot)) & 0xff) >= 5) {
    __u64 key[2], value[2];
    if (bpf_probe_read_user(key, sizeof(key), (const void *)(b + 8 + 16 * slot)) != 0 ||
        bpf_probe_read_user(value, sizeof(value), (const void *)(b + 136 + 16 * slot)) != 0) {
      w->error = 1;
      return 1;
    }
    if (put_label(w, key[0], key[1], value[0], value[1])) return 1;
  }
  if (slot == 7) {
    __u64 overflow = 0;
    if (bpf_probe_read_user(&overflow, sizeof(overflow), (const void *)(b + MAP_BUCKET_BYTES - 8)) != 0) {
      w->error = 1;
      return 1;
    }
    w->bucket = overflow;
  }
  return 0;
}

/* Appends a GOLENS_SECTION_LABELS section at `offset` (8-aligned, after the
 * stacks) when goroutine `g` has labels; returns the new end. */
static __always_inline __u32 append_labels(const struct golens_proc_info *proc, __u64 g, __u32 offset,
                                           struct scratch *buffer, struct golens_sample *s) {
  __u64 labels = 0;
  if (read_user_u64(&labels, g + proc->g_labels) != 0 || labels == 0) return offset;
  if (offset > sizeof(struct golens_sample) + 2 * STACK_BYTES) return offset;
  struct label_walk w = {};
  w.offset = offset + sizeof(struct golens_section) + sizeof(struct golens_labels);
  if (proc->flags & GOLENS_PROC_LABELS_SLICE) {
    __u64 slice[2]; /* array, len */
    if (bpf_probe_read_user(slice, sizeof(slice), (const void *)labels) != 0) goto error;
    if (slice[1] == 0) return offset;
    w.buckets = slice[0];
    bpf_loop(slice[1] > 1024 ? 1024 : (__u32)slice[1], slice_label, &w, 0);
  } else if (proc->flags & GOLENS_PROC_LABELS_MAP) {
    __u64 hmap = 0;
    if (read_user_u64(&hmap, labels) != 0 || hmap == 0) goto error;
    __u64 head[3]; /* count; flags, B, noverflow, hash0; buckets */
    __u64 oldbuckets = 0;
    if (bpf_probe_read_user(head, sizeof(head), (const void *)hmap) != 0 ||
        read_user_u64(&oldbuckets, hmap + 24) != 0) goto error;
    if (head[0] == 0) return offset;
    __u8 log2_buckets = (__u8)(head[1] >> 8);
    if (log2_buckets > 5) log2_buckets = 5; /* 32 buckets: far more than 32 labels need */
    w.buckets = head[2];
    w.nbuckets = 1u << log2_buckets;
    bpf_loop(MAP_MAX_BUCKET_VISITS * 8, map_slot, &w, 0);
    if (oldbuckets != 0 && !w.error) {
      /* A map still growing: entries not yet moved are in the old array
       * (the moved ones are marked there and skipped). */
      bool same_size = (head[1] & 0x08) != 0;
      w.bucket = 0;
      w.buckets = oldbuckets;
      w.next_bucket = 0;
      w.nbuckets = same_size ? (1u << log2_buckets) : (1u << log2_buckets) >> 1;
      bpf_loop(MAP_MAX_BUCKET_VISITS * 8, map_slot, &w, 0);
    }
  } else {
    return offset;
  }
  if (w.error) goto error;
  if (w.total == 0) return offset;

  if (offset > GOLENS_MAX_RECORD_BYTES - 16) return offset;
  struct golens_section *section = (struct golens_section *)(buffer->data + offset);
  struct golens_labels *head = (struct golens_labels *)(buffer->data + offset + sizeof(*section));
  __u32 end = w.offset;
  if (end > GOLENS_MAX_RECORD_BYTES - 8 || end < offset + 16) return offset;
  section->kind = GOLENS_SECTION_LABELS;
  section->flags = 0;
  section->size = end - offset - sizeof(*section);
  head->kept = w.kept;
  head->total = w.total;
  head->reserved = 0;
  s->sections |= 1u << GOLENS_SECTION_LABELS;
  count(GOLENS_METRIC_LABELS_READ);
  if (w.cut) count(GOLENS_METRIC_LABELS_CUT);
  return (end + 7) & ~7u;
error:
  count(GOLENS_METRIC_LABELS_READ_ERROR);
  return offset;
}

/* ---- Zero-code HTTP spans -------------------------------------------------
 * golens_http_enter runs at the entry of net/http.serverHandler.ServeHTTP,
 * golens_http_return at each of its RET instructions (never a uretprobe:
 * Go moves goroutine stacks, and a patched return address would crash the
 * program). Between the two, the goroutine's span lives in "spans". */

struct span_key {
  __u32 tgid;
  __u32 reserved;
  __u64 goid;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct span_key);
  __type(value, struct golens_span);
} spans SEC(".maps");

/* A span is built here (too large for the BPF stack with everything else). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct golens_span);
} span_scratch SEC(".maps");

#define HEADER_MAX_SLOTS 256 /* header map slots looked at for traceparent */
#define BUCKET_MAP_BUCKET_BYTES 336 /* map[string][]string bucket, Go <= 1.23 */
#define SWISS_SLOT_BYTES 40          /* {string key, []string elem} */

struct header_walk {
  __u64 base;       /* bucket array, or the group array of the current table */
  __u64 bucket;     /* bucket map: the bucket being read */
  __u64 ctrl;       /* tophash bytes (bucket map) or control bytes (Swiss) */
  __u64 dir;        /* Swiss: the directory of tables */
  __u32 dir_len;    /* Swiss: tables in it (0: a small map, one group at base) */
  __u32 table;      /* Swiss: the table being read */
  __u32 ngroups;    /* groups of the current table, or buckets of the array */
  __u32 next;       /* the next group / bucket */
  __u64 group;      /* Swiss: the group being read */
  bool swiss;
  bool found;
  __u64 value_ptr;  /* the first value of the traceparent header */
  __u64 value_len;
};

/* "Traceparent" as a Go http.Header key (canonical form), 11 bytes. */
static __always_inline bool is_traceparent_key(__u64 ptr, __u64 len) {
  if (len != 11) return false;
  char key[11];
  if (bpf_probe_read_user(key, sizeof(key), (const void *)ptr) != 0) return false;
  const char want[11] = {'T', 'r', 'a', 'c', 'e', 'p', 'a', 'r', 'e', 'n', 't'};
  for (int i = 0; i < 11; i++)
    if (key[i] != want[i]) return false;
  return true;
}

/* Checks one slot: a string key at `key_at`, its []string value at
 * `elem_at`. Returns 1 to stop (found, or unreadable). */
static __always_inline long check_header_slot(struct header_walk *w, __u64 key_at, __u64 elem_at) {
  __u64 key[2];
  if (bpf_probe_read_user(key, sizeof(key), (const void *)key_at) != 0) return 1;
  if (!is_traceparent_key(key[0], key[1])) return 0;
  __u64 elem[2]; /* []string: array, len */
  if (bpf_probe_read_user(elem, sizeof(elem), (const void *)elem_at) != 0 || elem[1] == 0) return 1;
  __u64 value[2];
  if (bpf_probe_read_user(value, sizeof(value), (const void *)elem[0]) != 0) return 1;
  w->found = true;
  w->value_ptr = value[0];
  w->value_len = value[1];
  return 1;
}

/* One slot per call: of the bucket array and overflow chains (Go <= 1.23),
 * or of each group of each table (Swiss tables, Go >= 1.24). */
static long header_slot(__u32 i, struct header_walk *w) {
  __u32 slot = i & 7;
  if (w->swiss) {
    if (slot == 0) {
      if (w->dir_len == 0) {
        if (w->next > 0) return 1;
        w->group = w->base;
      } else {
        if (w->next >= w->ngroups) { /* on to the next table */
          if (w->table >= w->dir_len || w->table >= 8) return 1;
          __u64 table = 0, groups[2]; /* data, lengthMask */
          if (read_user_u64(&table, w->dir + 8 * (__u64)w->table) != 0 ||
              bpf_probe_read_user(groups, sizeof(groups), (const void *)(table + 16)) != 0)
            return 1;
          w->table++;
          w->base = groups[0];
          w->ngroups = groups[1] + 1 > 32 ? 32 : (__u32)groups[1] + 1;
          w->next = 0;
        }
        w->group = w->base + (__u64)w->next * (8 + 8 * SWISS_SLOT_BYTES);
      }
      w->next++;
      if (read_user_u64(&w->ctrl, w->group) != 0) return 1;
    }
    /* control byte: 0b0hhhhhhh = full; 0x80 empty, 0xfe deleted */
    if ((w->ctrl >> (8 * slot)) & 0x80) return 0;
    __u64 at = w->group + 8 + SWISS_SLOT_BYTES * slot;
    return check_header_slot(w, at, at + 16);
  }
  if (slot == 0) {
    if (w->bucket == 0) {
      if (w->next >= w->ngroups) return 1;
      w->bucket = w->base + (__u64)w->next * BUCKET_MAP_BUCKET_BYTES;
      w->next++;
    }
    if (read_user_u64(&w->ctrl, w->bucket) != 0) return 1;
  }
  __u64 b = w->bucket;
  long stop = 0;
  if (((w->ctrl >> (8 * slot)) & 0xff) >= 5) stop = check_header_slot(w, b + 8 + 16 * slot, b + 136 + 24 * slot);
  if (stop) return 1;
  if (slot == 7 && read_user_u64(&w->bucket, b + BUCKET_MAP_BUCKET_BYTES - 8) != 0) return 1;
  return 0;
}

/* The traceparent header of a request's Header map, copied into the span. */
static __always_inline void read_traceparent(const struct golens_proc_info *proc, __u64 header_map,
                                             struct golens_span *span) {
  if (header_map == 0) return;
  struct header_walk w = {};
  if (proc->flags & GOLENS_PROC_SWISS_MAPS) {
    __u64 m[4]; /* used, seed, dirPtr, dirLen */
    if (bpf_probe_read_user(m, sizeof(m), (const void *)header_map) != 0 || m[0] == 0) return;
    w.swiss = true;
    w.base = m[2];
    w.dir = m[2];
    w.dir_len = m[3] > 64 ? 64 : (__u32)m[3];
  } else {
    __u64 h[3]; /* count; flags, B, ...; buckets */
    if (bpf_probe_read_user(h, sizeof(h), (const void *)header_map) != 0 || h[0] == 0) return;
    __u8 log2_buckets = (__u8)(h[1] >> 8);
    if (log2_buckets > 4) log2_buckets = 4;
    w.base = h[2];
    w.ngroups = 1u << log2_buckets;
  }
  bpf_loop(HEADER_MAX_SLOTS, header_slot, &w, 0);
  if (!w.found || w.value_len != GOLENS_TRACEPARENT_BYTES - 1) return;
  if (bpf_probe_read_user(span->traceparent, GOLENS_TRACEPARENT_BYTES - 1, (const void *)w.value_ptr) != 0) return;
  span->traceparent[GOLENS_TRACEPARENT_BYTES - 1] = 0;
  span->flags |= GOLENS_SPAN_HAS_TRACEPARENT;
}

static __always_inline struct golens_proc_info *span_target(struct pt_regs *ctx, struct span_key *key) {
  __u32 tgid = task_tgid(bpf_get_current_task_btf());
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc || !(proc->flags & GOLENS_PROC_GO) || !(proc->flags & GOLENS_PROC_SPANS)) return 0;
  /* At a Go function's entry and RET, R14 holds g (register ABI). */
  __u64 g = ctx->r14, goid = 0;
  if (g == 0 || read_user_u64(&goid, g + proc->g_goid) != 0) return 0;
  key->tgid = tgid;
  key->reserved = 0;
  key->goid = goid;
  return proc;
}

SEC("uprobe")
int golens_http_enter(struct pt_regs *ctx) {
  struct span_key key;
  struct golens_proc_info *proc = span_target(ctx, &key);
  if (!proc || proc->request_url == 0) return 0;
  struct golens_span *open = bpf_map_lookup_elem(&spans, &key);
  if (open) { /* a handler calling another server's ServeHTTP: one span */
    open->depth++;
    return 0;
  }
  __u32 zero = 0;
  struct golens_span *span = bpf_map_lookup_elem(&span_scratch, &zero);
  if (!span) return 0;
  __builtin_memset(span, 0, sizeof(*span));
  span->span_id = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
  for (int i = 0; i < 4; i++) ((__u32 *)span->trace_id)[i] = bpf_get_prandom_u32();
  span->start_ns = bpf_ktime_get_ns();
  span->depth = 1;
  /* func (sh serverHandler) ServeHTTP(rw ResponseWriter, req *Request):
   * receiver in RAX, rw in RBX+RCX, req in RDI. */
  __u64 req = ctx->di;
  __u64 method[2], url = 0, path[2], header = 0;
  if (bpf_probe_read_user(method, sizeof(method), (const void *)(req + proc->request_method)) == 0) {
    __u32 n = method[1] > GOLENS_SPAN_METHOD_BYTES ? GOLENS_SPAN_METHOD_BYTES : (__u32)method[1];
    if (bpf_probe_read_user(span->method, n, (const void *)method[0]) == 0) span->method_len = (__u8)n;
  }
  if (read_user_u64(&url, req + proc->request_url) == 0 && url != 0 &&
      bpf_probe_read_user(path, sizeof(path), (const void *)(url + proc->url_path)) == 0) {
    __u32 n = path[1] > GOLENS_SPAN_PATH_BYTES ? GOLENS_SPAN_PATH_BYTES : (__u32)path[1];
    if (bpf_probe_read_user(span->path, n, (const void *)path[0]) == 0) span->path_len = (__u8)n;
    if (path[1] > GOLENS_SPAN_PATH_BYTES) span->flags |= GOLENS_SPAN_PATH_CUT;
  }
  if (read_user_u64(&header, req + proc->request_header) == 0) read_traceparent(proc, header, span);
  if (bpf_map_update_elem(&spans, &key, span, BPF_ANY) != 0) {
    count(GOLENS_METRIC_SPAN_ERROR);
    return 0;
  }
  count(GOLENS_METRIC_SPAN_STARTED);
  return 0;
}

SEC("uprobe")
int golens_http_return(struct pt_regs *ctx) {
  struct span_key key;
  if (!span_target(ctx, &key)) return 0;
  struct golens_span *span = bpf_map_lookup_elem(&spans, &key);
  if (!span) return 0; /* began before golens attached */
  if (span->depth > 1) {
    span->depth--;
    return 0;
  }
  struct golens_span_end *e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
  if (e) {
    e->header.kind = GOLENS_RECORD_SPAN;
    e->header.version = GOLENS_ABI_VERSION;
    e->header.size = sizeof(*e);
    e->end_ns = bpf_ktime_get_ns();
    e->goid = key.goid;
    e->tgid = key.tgid;
    e->reserved = 0;
    __builtin_memcpy(&e->span, span, sizeof(*span));
    /* Like samples: no wakeup per request (a cross-CPU wakeup would cost the
     * server more than the probes); the reader drains on its interval. */
    bpf_ringbuf_submit(e, wakeup_flags());
    count(GOLENS_METRIC_SPAN_ENDED);
  } else {
    count(GOLENS_METRIC_SPAN_LOST);
  }
  bpf_map_delete_elem(&spans, &key);
  return 0;
}

/* Appends the goroutine's span (if it serves a request) after `offset`. */
static __always_inline __u32 append_span(__u32 tgid, __u64 goid, __u32 offset, struct scratch *buffer,
                                         struct golens_sample *s) {
  struct span_key key = {.tgid = tgid, .reserved = 0, .goid = goid};
  struct golens_span *span = bpf_map_lookup_elem(&spans, &key);
  if (!span) return offset;
  __sync_fetch_and_add(&span->samples, 1);
  if (offset > GOLENS_MAX_RECORD_BYTES - sizeof(struct golens_section) - sizeof(*span) - 8) return offset;
  struct golens_section *section = (struct golens_section *)(buffer->data + offset);
  section->kind = GOLENS_SECTION_SPAN;
  section->flags = 0;
  section->size = sizeof(*span);
  if (bpf_probe_read_kernel(buffer->data + offset + sizeof(*section), sizeof(*span), span) != 0) return offset;
  s->sections |= 1u << GOLENS_SECTION_SPAN;
  return (offset + sizeof(*section) + sizeof(*span) + 7) & ~7u;
}

/* ---- Go map statistics ----------------------------------------------------
 * A sample whose PC is in map code: find the map pointer where the PC table
 * of the program says it is (a register, the spill slot at [RBP + slot], or
 * through the return address of a frameless hash function), read the map
 * header, check that it looks like one, and append it as a section. */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u32); /* golens_proc_info.map_table */
  __type(value, struct golens_map_pcs);
} map_pcs SEC(".maps");

/* The range of `table` containing text offset `off`, or 0. */
static __always_inline const struct golens_map_pc *find_map_pc(const struct golens_map_pcs *table, __u64 off) {
  __u32 lo = 0, hi = table->count;
  if (hi > GOLENS_MAX_MAP_PCS) hi = GOLENS_MAX_MAP_PCS;
  for (int i = 0; i < 11; i++) { /* log2(GOLENS_MAX_MAP_PCS) + 2 */
    if (lo >= hi) break;
    __u32 mid = (lo + hi) / 2;
    const struct golens_map_pc *pc = &table->pcs[mid & (GOLENS_MAX_MAP_PCS - 1)];
    if (off < pc->start) {
      hi = mid;
    } else if (off - pc->start >= pc->len) {
      lo = mid + 1;
    } else {
      return pc;
    }
  }
  return 0;
}

/* The directory of a Swiss map, read in one piece (per CPU). */
struct dir_block {
  __u64 entries[GOLENS_MAP_DIR_VISITS];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct dir_block);
} dir_scratch SEC(".maps");

#define MAP_TABLE_READS 4 /* tables whose header is read per sample */

struct dir_walk {
  struct dir_block *block;
  __u64 prev;
  __u64 used;      /* over the tables read */
  __u64 capacity;  /* over the tables read */
  __u32 distinct;  /* tables among the entries looked at */
  __u32 read;      /* tables whose header was read */
  __u32 bad;
};

/* One directory entry (consecutive entries may share a table). The first
 * MAP_TABLE_READS tables get their header read: used u16 @0, capacity u16
 * @2 (go-runtime.md 5.2); the rest are only counted. */
static long dir_entry(__u32 i, struct dir_walk *w) {
  __u64 table = w->block->entries[i & (GOLENS_MAP_DIR_VISITS - 1)];
  if (table == 0) {
    w->bad = 1;
    return 1;
  }
  if (table == w->prev) return 0;
  w->prev = table;
  w->distinct++;
  if (w->read >= MAP_TABLE_READS) return 0;
  __u64 head = 0;
  if (read_user_u64(&head, table) != 0) {
    w->bad = 1;
    return 1;
  }
  __u64 used = head & 0xffff, capacity = (head >> 16) & 0xffff;
  if (capacity < 8 || capacity > 1024 || (capacity & (capacity - 1)) || used > capacity) {
    w->bad = 1;
    return 1;
  }
  w->used += used;
  w->capacity += capacity;
  w->read++;
  return 0;
}

/* Reads and checks the header at `map`; 0 when it is a plausible map. */
static __always_inline int read_map_header(const struct golens_proc_info *proc, __u64 map,
                                           struct golens_map_stats *st) {
  if (map == 0) return -1;
  if (proc->flags & GOLENS_PROC_SWISS_MAPS) {
    __u64 m[5]; /* used, seed, dirPtr, dirLen, {globalDepth, globalShift, writing, tombstonePossible} */
    if (bpf_probe_read_user(m, sizeof(m), (const void *)map) != 0) return -2;
    st->flags = GOLENS_MAP_SWISS;
    st->count = m[0];
    if (m[3] == 0) { /* a small map: one group, no directory */
      if (m[0] > 8 || (m[0] != 0 && m[2] == 0)) return -1;
      st->buckets = 1;
      st->capacity = 8;
      return 0;
    }
    __u32 depth = m[4] & 0xff, shift = (m[4] >> 8) & 0xff;
    if (depth > 40 || m[3] != (1ull << depth) || shift != 64 - depth || m[2] == 0) return -1;
    __u32 zero = 0;
    struct dir_walk w = {.block = bpf_map_lookup_elem(&dir_scratch, &zero)};
    if (!w.block) return -2;
    __u32 visits = m[3] > GOLENS_MAP_DIR_VISITS ? GOLENS_MAP_DIR_VISITS : (__u32)m[3];
    __u32 bytes = visits * 8;
    asm volatile("" : "+r"(bytes));
    if (bytes == 0 || bytes > sizeof(w.block->entries)) return -1;
    if (bpf_probe_read_user(w.block->entries, bytes, (const void *)m[2]) != 0) return -2;
    bpf_loop(visits, dir_entry, &w, 0);
    if (w.bad || w.read == 0) return -1;
    if (visits == m[3] && w.read == w.distinct) {
      /* Every table read: their counts must add up to the map's. */
      if (w.used != m[0]) return -1;
      st->capacity = w.capacity;
    } else {
      /* The tables read stand for the others (tables share one capacity
       * unless some grew since the map was made), the entries looked at for
       * the rest of the directory. */
      st->flags |= GOLENS_MAP_DIR_CUT;
      st->capacity = w.capacity * w.distinct / w.read * m[3] / visits;
      if (m[0] > st->capacity) return -1;
    }
    st->dir_seen = visits;
    st->dir_len = (__u32)m[3];
    st->log2 = (__u8)depth;
    st->buckets = st->capacity / 8;
    return 0;
  }
  __u64 h[4]; /* count; flags, B, noverflow, hash0; buckets; oldbuckets */
  if (bpf_probe_read_user(h, sizeof(h), (const void *)map) != 0) return -2;
  __u32 flags = h[1] & 0xff, b = (h[1] >> 8) & 0xff;
  if (b > 40 || flags > 15) return -1;
  /* At most 6.5 entries per bucket (8 in a lone bucket) before it grows. */
  __u64 most = b == 0 ? 8 : (13ull << b) / 2;
  if (h[0] > most || (h[0] != 0 && h[2] == 0)) return -1;
  st->count = h[0];
  st->buckets = 1ull << b;
  st->log2 = (__u8)b;
  if (h[3] != 0) st->flags |= GOLENS_MAP_GROWING;
  /* loadFactorNum was (8*13/16)*2 = 12 up to Go 1.21, 8*13/16*2 = 13 after. */
  if (proc->go_version < 0x10016) st->flags |= GOLENS_MAP_LOAD_6;
  return 0;
}

static __always_inline __u32 append_map_stats(const struct golens_proc_info *proc, struct pt_regs *user_regs,
                                              __u32 offset, struct scratch *buffer, struct golens_sample *s) {
  __u64 ip = BPF_CORE_READ(user_regs, ip);
  if (ip < proc->map_text_start || ip - proc->map_text_start >= proc->map_text_len) return offset;
  count(GOLENS_METRIC_MAP_PC);
  __u32 id = proc->map_table;
  const struct golens_map_pcs *table = bpf_map_lookup_elem(&map_pcs, &id);
  const struct golens_map_pc *pc = table ? find_map_pc(table, ip - proc->map_text_start) : 0;
  if (!pc) goto none;
  __u8 where = pc->where;
  __s8 slot = pc->slot;
  if (where == GOLENS_MAP_PTR_VIA_CALLER) {
    /* In a frameless hash function: the operation that called it is at the
     * return address, with its frame (RBP) still in place. */
    if (!(s->flags & GOLENS_SAMPLE_USER_SP_VALID)) goto none;
    __u64 ret = s->user_sp_words[0];
    if (ret < proc->map_text_start || ret - proc->map_text_start >= proc->map_text_len) goto none;
    const struct golens_map_pc *caller = find_map_pc(table, ret - proc->map_text_start);
    if (!caller || caller->where != GOLENS_MAP_PTR_FRAME) goto none;
    slot = caller->slot;
  }
  __u64 map = 0;
  if (where == GOLENS_MAP_PTR_RBX) {
    map = BPF_CORE_READ(user_regs, bx);
  } else if (where == GOLENS_MAP_PTR_RAX) {
    map = BPF_CORE_READ(user_regs, ax);
  } else if (where == GOLENS_MAP_PTR_FRAME || where == GOLENS_MAP_PTR_VIA_CALLER) {
    __u64 bp = BPF_CORE_READ(user_regs, bp);
    if (bp == 0 || read_user_u64(&map, bp + slot) != 0) {
      count(GOLENS_METRIC_MAP_READ_ERROR);
      return offset;
    }
  } else {
    goto none;
  }

  if (offset > GOLENS_MAX_RECORD_BYTES - sizeof(struct golens_section) - sizeof(struct golens_map_stats) - 8)
    return offset;
  struct golens_section *section = (struct golens_section *)(buffer->data + offset);
  struct golens_map_stats *st = (struct golens_map_stats *)(buffer->data + offset + sizeof(*section));
  __builtin_memset(st, 0, sizeof(*st));
  st->map = map;
  st->where = where;
  int err = read_map_header(proc, map, st);
  if (err == -2) {
    count(GOLENS_METRIC_MAP_READ_ERROR);
    return offset;
  }
  if (err != 0) {
    count(GOLENS_METRIC_MAP_IMPLAUSIBLE);
    return offset;
  }
  section->kind = GOLENS_SECTION_MAP;
  section->flags = 0;
  section->size = sizeof(*st);
  s->sections |= 1u << GOLENS_SECTION_MAP;
  count(GOLENS_METRIC_MAP_STATS);
  return (offset + sizeof(*section) + sizeof(*st) + 7) & ~7u;
none:
  count(GOLENS_METRIC_MAP_NO_POINTER);
  return offset;
}

/* ---- Deep map mode ----------------------------------------------------------
 * golens_map_probe runs right after runtime.mapaccess{1,2}_fast{32,64} has
 * hashed its key, while user space has the probes attached (a duty cycle).
 * It walks the lookup as the runtime does (go-runtime.md 5.1, 5.2; the fast
 * paths: bucket maps compare every slot of the chain, Swiss tables probe
 * groups until an empty slot) and reports where it ended. */

struct probe_walk {
  __u64 bucket;     /* bucket maps: the bucket; Swiss: the group array */
  __u64 key;
  __u64 mask;       /* Swiss: lengthMask */
  __u64 offset;     /* Swiss: the group being probed */
  __u32 size;       /* bucket size (bucket maps) or group size (Swiss) */
  __u32 slot_size;  /* Swiss */
  __u32 key_size;
  __u32 probes;
  __u32 depth;
  __u32 done;       /* 1 hit, 2 miss, 3 read error */
  __u8 h2;
};

static __always_inline int key_equal(struct probe_walk *w, __u64 at) {
  __u64 k = 0;
  if (bpf_probe_read_user(&k, 8, (const void *)at) != 0) return -1;
  if (w->key_size == 4) return (__u32)k == (__u32)w->key;
  return k == w->key;
}

/* Bucket maps, fast path: every slot of the chain, in order, is compared
 * (runtime/map_fast64.go); one slot per call. */
static long bucket_slot(__u32 i, struct probe_walk *w) {
  __u32 slot = i & 7;
  __u64 b = w->bucket;
  __u8 top = 0;
  if (bpf_probe_read_user(&top, 1, (const void *)(b + slot)) != 0) goto fail;
  w->probes++;
  int eq = key_equal(w, b + 8 + (__u64)slot * w->key_size);
  if (eq < 0) goto fail;
  if (eq && top > 1) { /* not an empty slot (isEmpty: tophash <= emptyOne) */
    w->done = 1;
    return 1;
  }
  if (slot == 7) {
    __u64 overflow = 0;
    if (read_user_u64(&overflow, b + w->size - 8) != 0) goto fail;
    if (overflow == 0) {
      w->done = 2;
      return 1;
    }
    w->bucket = overflow;
    w->depth++;
  }
  return 0;
fail:
  w->done = 3;
  return 1;
}

/* Swiss tables: one group of the probe sequence per call (table.go probeSeq:
 * offset += i, triangular). */
static long swiss_group(__u32 i, struct probe_walk *w) {
  __u64 g = w->bucket + w->offset * w->size;
  __u64 ctrl = 0;
  if (read_user_u64(&ctrl, g) != 0) goto fail;
  w->probes++;
  w->depth = i + 1;
  for (int j = 0; j < 8; j++) {
    if (((ctrl >> (8 * j)) & 0xff) != w->h2) continue;
    int eq = key_equal(w, g + 8 + (__u64)j * w->slot_size);
    if (eq < 0) goto fail;
    if (eq) {
      w->done = 1;
      return 1;
    }
  }
  for (int j = 0; j < 8; j++) {
    if (((ctrl >> (8 * j)) & 0xff) == 0x80) { /* an empty slot ends the sequence */
      w->done = 2;
      return 1;
    }
  }
  w->offset = (w->offset + i + 1) & w->mask;
  return 0;
fail:
  w->done = 3;
  return 1;
}

static __always_inline int map_probe(struct pt_regs *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  __u32 tgid = task_tgid(task);
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc || !(proc->flags & GOLENS_PROC_MAPS_DEEP)) return 0;
  __u64 bp = ctx->bp, hash = ctx->ax;
  __u64 frame[4]; /* saved RBP, return address, type, map */
  __u64 key = 0;
  if (bpf_probe_read_user(frame, sizeof(frame), (const void *)bp) != 0 || read_user_u64(&key, bp + 0x20) != 0) {
    count(GOLENS_METRIC_MAP_PROBE_ERROR);
    return 0;
  }
  __u64 type = frame[2], map = frame[3];
  struct probe_walk w = {.key = key, .key_size = bpf_get_attach_cookie(ctx) == 4 ? 4 : 8, .depth = 1};
  __u16 flags = 0;
  __u64 index = 0;
  if (proc->flags & GOLENS_PROC_SWISS_MAPS) {
    flags |= GOLENS_MAP_PROBE_SWISS;
    __u64 m[5]; /* used, seed, dirPtr, dirLen, {globalDepth, globalShift} */
    __u64 sizes[2]; /* GroupSize @80, SlotSize @88 */
    if (bpf_probe_read_user(m, sizeof(m), (const void *)map) != 0 ||
        bpf_probe_read_user(sizes, sizeof(sizes), (const void *)(type + 80)) != 0 || m[3] == 0 ||
        sizes[0] > 4096 || sizes[1] < w.key_size || sizes[1] > 512) {
      count(GOLENS_METRIC_MAP_PROBE_ERROR);
      return 0;
    }
    __u32 shift = (m[4] >> 8) & 0xff;
    __u64 dir_index = m[3] == 1 ? 0 : hash >> (shift & 63);
    __u64 table = 0, groups[2]; /* data, lengthMask */
    if (dir_index >= m[3] || read_user_u64(&table, m[2] + 8 * dir_index) != 0 ||
        bpf_probe_read_user(groups, sizeof(groups), (const void *)(table + 16)) != 0) {
      count(GOLENS_METRIC_MAP_PROBE_ERROR);
      return 0;
    }
    w.bucket = groups[0];
    w.mask = groups[1];
    w.size = (__u32)sizes[0];
    w.slot_size = (__u32)sizes[1];
    w.h2 = hash & 0x7f;
    w.offset = (hash >> 7) & w.mask;
    index = w.offset;
    bpf_loop(GOLENS_MAP_PROBE_MAX_BUCKETS, swiss_group, &w, 0);
  } else {
    __u64 h[4]; /* count; flags, B; buckets; oldbuckets */
    __u16 bucket_size = 0;
    __u8 key_size = 0;
    if (bpf_probe_read_user(h, sizeof(h), (const void *)map) != 0 ||
        bpf_probe_read_user(&key_size, 1, (const void *)(type + 80)) != 0 ||
        bpf_probe_read_user(&bucket_size, 2, (const void *)(type + 82)) != 0 || key_size != w.key_size ||
        bucket_size < 8 + 8 * key_size + 8) {
      count(GOLENS_METRIC_MAP_PROBE_ERROR);
      return 0;
    }
    __u32 b = (h[1] >> 8) & 0xff;
    if (b > 40) {
      count(GOLENS_METRIC_MAP_PROBE_ERROR);
      return 0;
    }
    __u64 mask = (1ull << b) - 1;
    index = hash & mask;
    w.bucket = h[2] + index * bucket_size;
    if (h[3] != 0) { /* growing: an old bucket not yet moved is where the key is */
      if (!(h[1] & 0x08)) mask >>= 1;
      __u64 old = h[3] + (hash & mask) * bucket_size;
      __u8 top = 0;
      if (bpf_probe_read_user(&top, 1, (const void *)old) == 0 && !(top >= 2 && top <= 4)) {
        w.bucket = old;
        flags |= GOLENS_MAP_PROBE_OLD;
      }
    }
    w.size = bucket_size;
    bpf_loop(GOLENS_MAP_PROBE_MAX_BUCKETS * 8, bucket_slot, &w, 0);
  }
  if (w.done == 3) {
    count(GOLENS_METRIC_MAP_PROBE_ERROR);
    return 0;
  }
  if (w.done == 1) flags |= GOLENS_MAP_PROBE_HIT;
  if (w.done == 0) flags |= GOLENS_MAP_PROBE_CUT;

  struct golens_map_probe *e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
  if (!e) {
    count(GOLENS_METRIC_MAP_PROBE_LOST);
    return 0;
  }
  e->header.kind = GOLENS_RECORD_MAP_PROBE;
  e->header.version = GOLENS_ABI_VERSION;
  e->header.size = sizeof(*e);
  e->ktime_ns = bpf_ktime_get_ns();
  e->start_ns = process_start_ns(task);
  e->map = map;
  e->key = w.key_size == 4 ? (__u32)key : key;
  e->hash = hash;
  e->site = frame[1];
  e->index = index;
  e->tgid = tgid;
  e->depth = (__u16)w.depth;
  e->probes = (__u16)w.probes;
  e->flags = flags;
  e->key_size = (__u16)w.key_size;
  e->reserved = 0;
  bpf_ringbuf_submit(e, wakeup_flags());
  count(GOLENS_METRIC_MAP_PROBE);
  return 0;
}

/* Attached per site (a perf-event uprobe each)... */
SEC("uprobe")
int golens_map_probe(struct pt_regs *ctx) { return map_probe(ctx); }

/* ...or, where the kernel has them (6.6+), as one uprobe_multi link for all
 * sites of a program: its release removes every breakpoint before waiting
 * for the kernel's grace periods once, so the probes leave at the end of the
 * window, not hundreds of ms later (user space sets the attach type). */
SEC("uprobe")
int golens_map_probe_multi(struct pt_regs *ctx) { return map_probe(ctx); }

/* The sampler's later stages (tail calls; see golens_sample_cpu) and what
 * it hands them: the record so far is in the per-CPU scratch buffer. */
#define STAGE_MAPS 0
#define STAGE_NATIVE 1

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u32);
} sample_stages SEC(".maps");

struct sample_pending {
  __u32 tgid;
  __u32 offset; /* the record's end so far */
  __u64 g;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sample_pending);
} sample_pending SEC(".maps");

/* Writes the sample record (the first `offset` bytes of the scratch buffer)
 * to the ring buffer. */
static __always_inline int output_sample(struct scratch *buffer, __u32 offset) {
  /* The barrier keeps clang from folding this check away: the verifier
   * needs it to bound the copy. */
  asm volatile("" : "+r"(offset));
  if (offset > GOLENS_MAX_RECORD_BYTES) return 0;
  struct golens_sample *s = (struct golens_sample *)buffer->data;
  s->header.size = offset;
  if (bpf_ringbuf_output(&samples, buffer->data, offset, wakeup_flags()) != 0) {
    count(GOLENS_METRIC_RINGBUF_FULL);
    return 0;
  }
  count(GOLENS_METRIC_SAMPLES);
  return 0;
}

SEC("perf_event")
int golens_sample_cpu(struct bpf_perf_event_data *ctx) {
  struct task_struct *task = bpf_get_current_task_btf();
  __u32 tgid, tid;
  if (pidns_inum == 0) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    tgid = pid_tgid >> 32;
    tid = (__u32)pid_tgid;
  } else {
    tgid = task_tgid(task);
    tid = task_tid(task);
  }
  if (tgid == 0) return 0; /* idle, or a process outside golens's PID namespace */

  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc) return 0;
  if (proc->flags & GOLENS_PROC_PENDING_EXEC) {
    count(GOLENS_METRIC_PENDING_EXEC);
    return 0;
  }

  __u32 zero = 0;
  struct scratch *buffer = bpf_map_lookup_elem(&scratch_buffer, &zero);
  if (!buffer) {
    count(GOLENS_METRIC_SCRATCH_ERROR);
    return 0;
  }
  struct golens_sample *s = (struct golens_sample *)buffer->data;
  s->header.kind = GOLENS_RECORD_SAMPLE;
  s->header.version = GOLENS_ABI_VERSION;
  s->ktime_ns = bpf_ktime_get_ns();
  s->start_ns = process_start_ns(task);
  s->tgid = tgid;
  s->tid = tid;
  s->cpu = bpf_get_smp_processor_id();
  s->flags = 0;
  s->user_frames = 0;
  s->kernel_frames = 0;
  s->user_error = 0;
  s->kernel_error = 0;
  s->sections = 0;
  s->reserved = 0;
  s->goid = 0;
  s->user_sp = 0;
  s->user_sp_words[0] = 0;
  s->user_sp_words[1] = 0;

  /* Kernel text is in the upper half of the address space. */
  bool user_mode = (__s64)ctx->regs.ip >= 0;
  if (!user_mode) s->flags |= GOLENS_SAMPLE_KERNEL_MODE;

  /* The user registers: the sampled ones, or those saved at kernel entry. */
  struct pt_regs *user_regs = (struct pt_regs *)bpf_task_pt_regs(task);

  __u32 offset = sizeof(*s);
  long n = bpf_get_stack(ctx, buffer->data + sizeof(*s), STACK_BYTES, BPF_F_USER_STACK);
  if (n < 0) {
    count(GOLENS_METRIC_USER_STACK_ERROR);
    s->user_error = (__s16)n;
  } else if (n <= STACK_BYTES) {
    s->user_frames = (__u16)(n / 8);
    offset += (__u32)n & ~7u;
  }

  if (collect_kernel_stacks && !user_mode && offset <= sizeof(*s) + STACK_BYTES) {
    n = bpf_get_stack(ctx, buffer->data + offset, STACK_BYTES, 0);
    if (n < 0) {
      count(GOLENS_METRIC_KERNEL_STACK_ERROR);
      s->kernel_error = (__s16)n;
    } else if (n <= STACK_BYTES) {
      s->kernel_frames = (__u16)(n / 8);
      offset += (__u32)n & ~7u;
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

  __u64 g = 0;
  if (collect_goid && (proc->flags & GOLENS_PROC_GO)) {
    g = read_goroutine(proc, task, user_regs, user_mode, s);
    if (g != 0 && collect_labels) offset = append_labels(proc, g, offset, buffer, s);
    if (collect_spans && (s->flags & GOLENS_SAMPLE_GOID_VALID) && (proc->flags & GOLENS_PROC_SPANS)) {
      offset = append_span(tgid, s->goid, offset, buffer, s);
    }
  }
  /* Map statistics and the native snapshot are programs of their own
   * (golens_sample_maps, golens_sample_native), reached by tail calls, so
   * each is verified on its own: in one program, labels, spans, map headers
   * and stack snapshots together pass the verifier's 1M-instruction limit.
   * The last one writes the record out. */
  bool want_maps = collect_maps && collect_goid && (proc->flags & GOLENS_PROC_GO) && (proc->flags & GOLENS_PROC_MAPS);
  bool want_native = native_stack_bytes != 0 && (proc->flags & GOLENS_PROC_NATIVE);
  if (want_maps || want_native) {
    struct sample_pending *pending = bpf_map_lookup_elem(&sample_pending, &zero);
    if (pending) {
      pending->tgid = tgid;
      pending->offset = offset;
      pending->g = g;
      bpf_tail_call(ctx, &sample_stages, want_maps ? STAGE_MAPS : STAGE_NATIVE);
    }
    /* Here only when the tail call failed (an empty slot, the kernel's tail
     * call limit): the sample goes without them, counted. */
    count(GOLENS_METRIC_STAGE_MISSED);
  }

  return output_sample(buffer, offset);
}

/* What a sampler stage starts from: the scratch record, the sample
 * golens_sample_cpu left pending and the record's end so far. Null (counted)
 * when either is missing or the end is out of bounds: the sample is then
 * dropped. */
static __always_inline struct scratch *stage_begin(struct sample_pending **pending, __u32 *offset) {
  __u32 zero = 0;
  struct scratch *buffer = bpf_map_lookup_elem(&scratch_buffer, &zero);
  *pending = bpf_map_lookup_elem(&sample_pending, &zero);
  if (!buffer || !*pending) {
    count(GOLENS_METRIC_STAGE_ERROR);
    return 0;
  }
  __u32 end = (*pending)->offset;
  /* The barrier keeps clang from folding the check away: the verifier
   * needs it to bound what the stage appends at. */
  asm volatile("" : "+r"(end));
  if (end > GOLENS_MAX_RECORD_BYTES) {
    count(GOLENS_METRIC_STAGE_ERROR);
    return 0;
  }
  *offset = end;
  return buffer;
}

SEC("perf_event")
int golens_sample_maps(struct bpf_perf_event_data *ctx) {
  struct sample_pending *pending;
  __u32 offset;
  struct scratch *buffer = stage_begin(&pending, &offset);
  if (!buffer) return 0;
  __u32 tgid = pending->tgid;
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (proc) {
    struct pt_regs *user_regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
    offset = append_map_stats(proc, user_regs, offset, buffer, (struct golens_sample *)buffer->data);
    if (native_stack_bytes != 0 && (proc->flags & GOLENS_PROC_NATIVE)) {
      pending->offset = offset;
      bpf_tail_call(ctx, &sample_stages, STAGE_NATIVE);
      count(GOLENS_METRIC_STAGE_MISSED);
    }
  }
  return output_sample(buffer, offset);
}

SEC("perf_event")
int golens_sample_native(struct bpf_perf_event_data *ctx) {
  struct sample_pending *pending;
  __u32 offset;
  struct scratch *buffer = stage_begin(&pending, &offset);
  if (!buffer) return 0;
  __u32 tgid = pending->tgid;
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (proc) {
    struct pt_regs *user_regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
    offset = append_native(tgid, proc, user_regs, pending->g, offset, buffer, (struct golens_sample *)buffer->data);
  }
  return output_sample(buffer, offset);
}

static __always_inline struct golens_proc_event *reserve_event(__u32 kind, __u32 tgid, __u64 start_ns) {
  struct golens_proc_event *e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
  if (!e) {
    count(GOLENS_METRIC_EVENT_LOST);
    return 0;
  }
  e->header.kind = GOLENS_RECORD_PROC_EVENT;
  e->header.version = GOLENS_ABI_VERSION;
  e->header.size = sizeof(*e);
  e->ktime_ns = bpf_ktime_get_ns();
  e->start_ns = start_ns;
  e->parent_start_ns = 0;
  e->addr = 0;
  e->len = 0;
  e->kind = kind;
  e->tgid = tgid;
  e->parent_tgid = 0;
  e->reserved = 0;
  e->filename[0] = 0;
  return e;
}

/* A new process (not a thread) forked by a target that follows its children
 * becomes a target itself, with its parent's state: until it execs, it runs
 * the parent's program with the parent's mappings. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(golens_on_fork, struct task_struct *parent, struct task_struct *child) {
  if (BPF_CORE_READ(child, tgid) == BPF_CORE_READ(parent, tgid)) return 0; /* a new thread */
  __u32 parent_tgid = task_tgid(parent);
  if (parent_tgid == 0) return 0;
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &parent_tgid);
  if (!proc || !(proc->flags & GOLENS_PROC_FOLLOW_CHILDREN)) return 0;
  __u32 child_tgid = task_tgid(child);
  if (child_tgid == 0) return 0;
  struct golens_proc_info info = *proc;
  if (bpf_map_update_elem(&targets, &child_tgid, &info, BPF_ANY) != 0) {
    count(GOLENS_METRIC_TARGETS_FULL);
    return 0;
  }
  count(GOLENS_METRIC_FORK_FOLLOWED);
  /* Same program, same addresses until it execs. */
  struct golens_native_proc *native = bpf_map_lookup_elem(&native_procs, &parent_tgid);
  if (native) {
    struct golens_native_proc copy = *native;
    bpf_map_update_elem(&native_procs, &child_tgid, &copy, BPF_ANY);
  }
  struct golens_proc_event *e =
      reserve_event(GOLENS_PROC_EVENT_FORK, child_tgid, BPF_CORE_READ(child, start_boottime));
  if (!e) return 0;
  e->parent_tgid = parent_tgid;
  e->parent_start_ns = process_start_ns(parent);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

/* A target runs a new program. `record -- CMD` prepared the entry for this
 * very exec (PENDING_EXEC): sampling starts now. Otherwise the Go offsets
 * belong to the old program: goroutine reads stop until user space has
 * looked at the new one. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(golens_on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 tgid = task_tgid(p);
  if (tgid == 0) return 0;
  struct golens_proc_info *proc = bpf_map_lookup_elem(&targets, &tgid);
  if (!proc) {
    if (!report_all_execs) return 0;
    struct golens_proc_event *e = reserve_event(GOLENS_PROC_EVENT_EXEC_UNTRACKED, tgid, process_start_ns(p));
    if (!e) return 0;
    bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
    bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
    return 0;
  }
  /* user space never writes an entry while its exec is in flight */
  if (proc->flags & GOLENS_PROC_PENDING_EXEC) {
    proc->flags &= ~(__u32)GOLENS_PROC_PENDING_EXEC;
  } else {
    proc->flags &= ~(__u32)(GOLENS_PROC_GO | GOLENS_PROC_REGABI);
  }
  /* The old program's Go text range means nothing now. */
  bpf_map_delete_elem(&native_procs, &tgid);
  count(GOLENS_METRIC_EXEC_SEEN);
  struct golens_proc_event *e = reserve_event(GOLENS_PROC_EVENT_EXEC, tgid, process_start_ns(p));
  if (!e) return 0;
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
  /* Wake the reader now: a short-lived program must be looked at in /proc
   * before it exits. */
  bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
  return 0;
}

/* The last thread of a target exits: it stops being a target (its pid may be
 * reused at once) and user space may drop its state. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(golens_on_exit, struct task_struct *p) {
  if (BPF_CORE_READ(p, signal, live.counter) != 0) return 0; /* other threads still run */
  __u32 tgid = task_tgid(p);
  if (tgid == 0) return 0;
  if (!bpf_map_lookup_elem(&targets, &tgid)) return 0;
  bpf_map_delete_elem(&targets, &tgid);
  bpf_map_delete_elem(&native_procs, &tgid);
  count(GOLENS_METRIC_EXIT_SEEN);
  struct golens_proc_event *e = reserve_event(GOLENS_PROC_EVENT_EXIT, tgid, process_start_ns(p));
  if (e) bpf_ringbuf_submit(e, 0);
  return 0;
}

/* munmap by a target: whatever was mapped there ends now (dlclose). Attached
 * by user space through the syscalls:sys_enter_munmap tracepoint. */
SEC("tracepoint/syscalls/sys_enter_munmap")
int golens_on_munmap(struct trace_event_raw_sys_enter *ctx) {
  __u32 tgid = task_tgid(bpf_get_current_task_btf());
  if (tgid == 0) return 0;
  if (!bpf_map_lookup_elem(&targets, &tgid)) return 0;
  struct golens_proc_event *e =
      reserve_event(GOLENS_PROC_EVENT_MUNMAP, tgid, process_start_ns(bpf_get_current_task_btf()));
  if (!e) return 0;
  e->addr = (__u64)ctx->args[0];
  e->len = (__u64)ctx->args[1];
  bpf_ringbuf_submit(e, 0);
  return 0;
}
