/* Native stack snapshots (included by sampler.bpf.c, after its maps and
 * helpers). C code without frame pointers cannot be walked in BPF: when a
 * sample's PC is not Go code, or the frame-pointer walk of Go code that C
 * called reaches a return address outside Go code, the registers and the top
 * of the user stack are copied into the sample; user space unwinds them with
 * the ELF files' CFI (profiler/native_unwind.*). Go-only stacks never get
 * here: they keep the frame-pointer path.
 *
 * The goroutine's own stack (where the Go callers of a cgo call live) is a
 * different memory area from the system stack C runs on: a window of it is
 * copied too, so user space can continue from C back into Go. */
#ifndef GOLENS_NATIVE_STACK_BPF_H_
#define GOLENS_NATIVE_STACK_BPF_H_

/* Bytes of user stack to copy from sp (0 = native snapshots off). */
const volatile __u32 native_stack_bytes = 16384;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, struct golens_native_proc);
} native_procs SEC(".maps");

#define NATIVE_PAGE 4096
#define NATIVE_MAX_WALK 128

static __always_inline bool native_in_go(const struct golens_native_proc *np, __u64 pc) {
  return pc >= np->go_text_start && pc < np->go_text_end;
}

struct native_copy {
  __u64 src;    /* user address of the first byte */
  __u32 off;    /* where it goes in the scratch buffer */
  __u32 limit;  /* bytes wanted */
  __u32 copied;
  __u32 short_read;
};

/* One page (or the rest of one) per call: a copy that runs into unmapped
 * memory keeps what it read before it. */
static long native_copy_chunk(__u32 i, struct native_copy *c) {
  if (c->copied >= c->limit) return 1;
  __u64 src = c->src + c->copied;
  __u32 n = NATIVE_PAGE - (__u32)(src & (NATIVE_PAGE - 1));
  if (n > c->limit - c->copied) n = c->limit - c->copied;
  __u64 off = (__u64)c->off + c->copied;
  __u32 zero = 0;
  struct scratch *buffer = bpf_map_lookup_elem(&scratch_buffer, &zero);
  if (!buffer) return 1;
  /* The barrier keeps clang from checking a copy of off: the verifier needs
   * the bound on the register it adds. */
  asm volatile("" : "+r"(off));
  if (off > GOLENS_MAX_RECORD_BYTES - NATIVE_PAGE || n == 0 || n > NATIVE_PAGE) return 1;
  __u64 size = n;
  asm volatile("" : "+r"(size));
  size &= 2 * NATIVE_PAGE - 1;
  if (size > NATIVE_PAGE) return 1;
  if (bpf_probe_read_user(buffer->data + off, size, (const void *)src) != 0) {
    c->short_read = 1;
    return 1;
  }
  c->copied += n;
  return 0;
}

static __always_inline __u32 native_copy(__u64 src, __u32 off, __u32 limit, __u32 *short_read) {
  struct native_copy c = {.src = src, .off = off, .limit = limit};
  bpf_loop(GOLENS_NATIVE_MAX_STACK_BYTES / NATIVE_PAGE + 1, native_copy_chunk, &c, 0);
  if (c.short_read) *short_read = 1;
  return c.copied;
}

struct native_walk {
  __u64 bp;
  __u64 text_start, text_end;
  __u64 stack_lo, stack_hi; /* the goroutine's stack: the last frame in it starts the window */
  __u64 last_go_bp;
  __u64 ret;                /* the first return address outside Go code */
  __u64 frame_bp;           /* the frame it was read from */
  __u32 index;              /* its index in the frame list (0 = the PC) */
  __u32 found;
};

/* The walk bpf_get_stack did, keeping the frame pointers it does not report. */
static long native_walk_step(__u32 i, struct native_walk *w) {
  __u64 frame[2]; /* saved bp, return address */
  if (w->bp == 0 || bpf_probe_read_user(frame, sizeof(frame), (const void *)w->bp) != 0) return 1;
  if (w->bp >= w->stack_lo && w->bp < w->stack_hi) w->last_go_bp = w->bp;
  if (frame[1] == 0) return 1;
  if (frame[1] < w->text_start || frame[1] >= w->text_end) {
    w->found = 1;
    w->ret = frame[1];
    w->frame_bp = w->bp;
    w->index = i + 1;
    return 1;
  }
  w->bp = frame[0];
  return 0;
}

/* Whether the frames bpf_get_stack wrote (at `frames`, n of them) leave Go
 * code after the PC. */
struct native_scan {
  __u32 first; /* scratch offset of the frame list */
  __u32 n;
  __u64 text_start, text_end;
  __u32 found;
};

static long native_scan_step(__u32 i, struct native_scan *s) {
  if (i == 0) return 0;
  if (i >= s->n) return 1;
  __u32 zero = 0;
  struct scratch *buffer = bpf_map_lookup_elem(&scratch_buffer, &zero);
  if (!buffer) return 1;
  __u32 off = s->first + i * 8;
  if (off > GOLENS_MAX_RECORD_BYTES - 8) return 1;
  __u64 pc = *(__u64 *)(buffer->data + off);
  if (pc < s->text_start || pc >= s->text_end) {
    s->found = 1;
    return 1;
  }
  return 0;
}

/* Appends a GOLENS_SECTION_NATIVE_STACK section at `offset` when the sample
 * needs one; returns the new end. `g` is the user goroutine (0 if none). */
static __always_inline __u32 append_native(__u32 tgid, const struct golens_proc_info *proc,
                                           struct pt_regs *user_regs, __u64 g, __u32 offset,
                                           struct scratch *buffer, struct golens_sample *s) {
  if (native_stack_bytes == 0 || !(proc->flags & GOLENS_PROC_NATIVE)) return offset;
  struct golens_native_proc *np = bpf_map_lookup_elem(&native_procs, &tgid);
  if (!np) return offset;

  struct golens_native_stack head = {};
  __u64 ip = BPF_CORE_READ(user_regs, ip);
  __u64 stack_lo = 0;
  if (g != 0 && np->go_text_end > np->go_text_start) {
    __u64 bounds[2]; /* stack.lo, stack.hi */
    if (bpf_probe_read_user(bounds, sizeof(bounds), (const void *)(g + np->g_stack)) == 0 &&
        bpf_probe_read_user(&head.go_sched_sp, sizeof(head.go_sched_sp), (const void *)(g + np->g_sched_sp)) == 0) {
      stack_lo = bounds[0];
      head.go_stack_hi = bounds[1];
      head.curg = g;
    }
  }

  if (!native_in_go(np, ip)) {
    head.flags = GOLENS_NATIVE_FROM_PC;
    head.ip = ip;
    head.sp = BPF_CORE_READ(user_regs, sp);
    head.bp = BPF_CORE_READ(user_regs, bp);
    head.bx = BPF_CORE_READ(user_regs, bx);
    head.r12 = BPF_CORE_READ(user_regs, r12);
    head.r13 = BPF_CORE_READ(user_regs, r13);
    head.r14 = BPF_CORE_READ(user_regs, r14);
    head.r15 = BPF_CORE_READ(user_regs, r15);
    /* On the system stack the goroutine left its stack at sched.sp. */
    if (head.curg && (s->flags & GOLENS_SAMPLE_ON_SYSTEM_STACK)) head.go_window = head.go_sched_sp;
  } else {
    /* Go code: does its frame-pointer walk leave Go code (C called it)? */
    struct native_scan scan = {.first = sizeof(struct golens_sample), .n = s->user_frames,
                               .text_start = np->go_text_start, .text_end = np->go_text_end};
    bpf_loop(GOLENS_MAX_FRAMES, native_scan_step, &scan, 0);
    if (!scan.found) return offset;
    struct native_walk w = {.bp = BPF_CORE_READ(user_regs, bp), .text_start = np->go_text_start,
                            .text_end = np->go_text_end, .stack_lo = stack_lo, .stack_hi = head.go_stack_hi};
    bpf_loop(NATIVE_MAX_WALK, native_walk_step, &w, 0);
    if (!w.found) return offset;
    __u64 saved_bp = 0;
    if (read_user_u64(&saved_bp, w.frame_bp) != 0) return offset;
    head.flags = GOLENS_NATIVE_FROM_FP_WALK;
    head.ip = w.ret;
    head.sp = w.frame_bp + 16;
    head.bp = saved_bp;
    head.go_frames = (__u16)w.index;
    if (head.curg && w.last_go_bp) head.go_window = w.last_go_bp;
    count(GOLENS_METRIC_NATIVE_FROM_FP_WALK);
  }

  /* Room: the section head, the stack, the goroutine window and the slack
   * the page-wise copy needs at the end of the buffer. */
  if (offset > GOLENS_MAX_RECORD_BYTES - sizeof(struct golens_section) - sizeof(head) - NATIVE_PAGE) {
    count(GOLENS_METRIC_NATIVE_NO_ROOM);
    return offset;
  }
  __u32 data = offset + sizeof(struct golens_section) + sizeof(head);
  __u32 room = GOLENS_MAX_RECORD_BYTES - NATIVE_PAGE - data;
  __u32 want = native_stack_bytes;
  if (want > GOLENS_NATIVE_MAX_STACK_BYTES) want = GOLENS_NATIVE_MAX_STACK_BYTES;
  if (want > room) want = room;
  __u32 short_read = 0;
  head.stack_bytes = native_copy(head.sp, data, want, &short_read);
  if (head.go_window && head.go_window < head.go_stack_hi) {
    __u64 window = head.go_stack_hi - head.go_window;
    __u32 go_want = window > GOLENS_NATIVE_GO_WINDOW_BYTES ? GOLENS_NATIVE_GO_WINDOW_BYTES : (__u32)window;
    __u32 go_room = room - head.stack_bytes;
    if (go_want > go_room) go_want = go_room;
    __u32 ignored = 0;
    head.go_window_bytes = native_copy(head.go_window, data + head.stack_bytes, go_want, &ignored);
    if (head.go_window_bytes) head.flags |= GOLENS_NATIVE_HAS_GOROUTINE;
  }
  if (short_read) {
    head.flags |= GOLENS_NATIVE_STACK_SHORT;
    count(GOLENS_METRIC_NATIVE_STACK_SHORT);
  }

  if (offset > GOLENS_MAX_RECORD_BYTES - sizeof(struct golens_section) - sizeof(head)) return offset;
  struct golens_section *section = (struct golens_section *)(buffer->data + offset);
  section->kind = GOLENS_SECTION_NATIVE_STACK;
  section->flags = 0;
  section->size = sizeof(head) + head.stack_bytes + head.go_window_bytes;
  __builtin_memcpy(buffer->data + offset + sizeof(*section), &head, sizeof(head));
  s->sections |= 1u << GOLENS_SECTION_NATIVE_STACK;
  count(GOLENS_METRIC_NATIVE_SNAPSHOT);
  return (offset + sizeof(*section) + section->size + 7) & ~7u;
}

#endif /* GOLENS_NATIVE_STACK_BPF_H_ */
