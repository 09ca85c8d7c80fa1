#include "profiler/native_unwind.h"

#define UNW_REMOTE_ONLY
#include <libunwind.h>

#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>

#include "profiler/cfi_check.h"
#include "symbolizer/symbolizer.h"

// Not in libunwind's public headers, but exported (perf declares it the
// same way): searches a binary-search table such as .eh_frame_hdr's, read
// through the address space's access_mem.
extern "C" int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di,
                                                  unw_proc_info_t* pi, int need_unwind_info, void* arg);

namespace golens::profiler {
namespace {

constexpr uint8_t kEhPeOmit = 0xff;
constexpr uint8_t kEhPeUdata4 = 0x03;
constexpr uint8_t kEhPeSdata4 = 0x0b;
constexpr uint8_t kEhPeUdata8 = 0x04;
constexpr uint8_t kEhPeSdata8 = 0x0c;
constexpr uint8_t kEhPeDatarelSdata4 = 0x3b;  // the only table encoding binutils/lld write

// The asmcgocall frame on the system stack holds (depth, g) within these
// bytes above the SP it calls C with: 0(SP)/8(SP) from Go 1.22,
// 40(SP)/48(SP) in Go 1.21 (src/runtime/asm_amd64.s).
constexpr size_t kCgoFrameScanWords = 10;

// Size of a pointer-encoded value in .eh_frame_hdr (0 = unsupported).
size_t EncodedSize(uint8_t enc) {
  switch (enc & 0x0f) {
    case kEhPeUdata4:
    case kEhPeSdata4:
      return 4;
    case kEhPeUdata8:
    case kEhPeSdata8:
      return 8;
  }
  return 0;
}

// Where Go code and the cgo entry points are in one binary (ELF addresses).
struct GoCodeInfo {
  bool is_go = false;
  uint64_t text_start = 0, text_end = 0;
  uint64_t asmcgocall = 0, asmcgocall_end = 0;
  uint64_t landingpad = 0, landingpad_end = 0;  // runtime.asmcgocall_landingpad, Go >= 1.22
  uint64_t goexit = 0, goexit_end = 0;
};

GoCodeInfo ReadGoCodeInfo(const symbolizer::Binary& binary) {
  GoCodeInfo info;
  auto range = binary.GoTextRange();
  if (!range) return info;
  info.is_go = true;
  info.text_start = range->first;
  info.text_end = range->second;
  auto find = [&](const char* name, uint64_t* start, uint64_t* end) {
    if (auto s = binary.FindSymbol(name)) {
      *start = s->vaddr;
      *end = s->vaddr + std::max<uint64_t>(s->size, 1);
    }
  };
  find("runtime.asmcgocall", &info.asmcgocall, &info.asmcgocall_end);
  find("runtime.asmcgocall_landingpad", &info.landingpad, &info.landingpad_end);
  find("runtime.goexit", &info.goexit, &info.goexit_end);
  return info;
}

bool In(uint64_t v, uint64_t start, uint64_t end) { return v >= start && v < end; }

// libunwind 1.6 trusts what it reads in places: hostile stack contents
// (found by fuzz_native_unwind.cc with real libc CFI) make it index its own
// arrays with garbage and fault. A fault inside an unwind step is turned
// into a cut stack: the drain thread must never die of a sample. Faults
// anywhere else go to the handler that was there before (the default:
// the process dies with a core, as before).
thread_local sigjmp_buf* t_fault_guard = nullptr;
struct sigaction g_previous_segv, g_previous_bus;

void OnFault(int sig, siginfo_t*, void*) {
  if (sigjmp_buf* guard = t_fault_guard) {
    t_fault_guard = nullptr;
    siglongjmp(*guard, sig);
  }
  // Not ours: put the previous handler back; the faulting instruction runs
  // again and gets it.
  sigaction(sig, sig == SIGSEGV ? &g_previous_segv : &g_previous_bus, nullptr);
}

void InstallFaultGuard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = OnFault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &g_previous_segv);
    sigaction(SIGBUS, &action, &g_previous_bus);
  });
}

}  // namespace

std::string_view NativeCutName(NativeCut cut) {
  switch (cut) {
    case NativeCut::kNone: return "";
    case NativeCut::kNoUnwindInfo: return "[unwind cut: no unwind info]";
    case NativeCut::kStackShort: return "[unwind cut: stack not copied]";
    case NativeCut::kNoWayToGo: return "[unwind cut: no way back into Go]";
    case NativeCut::kGoWindowShort: return "[unwind cut: goroutine stack not copied]";
    case NativeCut::kDepth: return "[unwind cut: too deep]";
    case NativeCut::kBadSnapshot: return "[unwind cut: inconsistent snapshot]";
    case NativeCut::kUnwinderFault: return "[unwind cut: unwinder fault]";
  }
  return "[unwind cut]";
}

Result<NativeSnapshot> DecodeNativeStack(std::span<const uint8_t> payload) {
  NativeSnapshot snap;
  if (payload.size() < sizeof(golens_native_stack)) {
    return MakeError("malformed native stack section: shorter than its head", ErrorKind::kCorrupt);
  }
  std::memcpy(&snap.head, payload.data(), sizeof(snap.head));
  const auto& h = snap.head;
  size_t body = payload.size() - sizeof(golens_native_stack);
  if (h.stack_bytes > GOLENS_NATIVE_MAX_STACK_BYTES || h.go_window_bytes > GOLENS_NATIVE_GO_WINDOW_BYTES ||
      size_t{h.stack_bytes} + h.go_window_bytes != body) {
    return MakeError("malformed native stack section: sizes do not add up", ErrorKind::kCorrupt);
  }
  if (!(h.flags & (GOLENS_NATIVE_FROM_PC | GOLENS_NATIVE_FROM_FP_WALK))) {
    return MakeError("malformed native stack section: no origin flag", ErrorKind::kCorrupt);
  }
  snap.stack = payload.subspan(sizeof(golens_native_stack), h.stack_bytes);
  snap.go_window = payload.subspan(sizeof(golens_native_stack) + h.stack_bytes, h.go_window_bytes);
  return snap;
}

// ---- libunwind accessors over the snapshot and the mapped files ----------

struct NativeUnwinder::Impl {
  unw_addr_space_t as = nullptr;
  std::unordered_map<uint64_t, GoCodeInfo> go_info;  // by BinaryRecord::id()
  uint64_t cache_key = 0;  // whose CFI libunwind's cache holds now

  // Per Unwind call.
  const NativeSnapshot* snap = nullptr;
  CodeLookup* code = nullptr;
  uint64_t regs[17] = {};  // libunwind's x86_64 numbering; RIP = 16
  uint32_t known = 0;      // bit per register in regs
  bool missing_info = false;
  bool stack_miss = false;
  struct Image {
    uint64_t bias;  // runtime address - ELF address
    const symbolizer::Binary* binary;
    // The unwind tables, where nearly all reads go: served by one memcpy.
    std::optional<symbolizer::Binary::SectionView> hdr, frames;
  };
  std::vector<Image> images;  // the files this unwind read

  const GoCodeInfo& GoInfo(const MappingRecord& m) {
    auto [it, inserted] = go_info.try_emplace(m.binary->id());
    if (inserted) {
      if (go_info.size() > 4096) {  // bounded: records come and go with processes
        go_info.clear();
        it = go_info.try_emplace(m.binary->id()).first;
      }
      it->second = ReadGoCodeInfo(m.binary->binary());
    }
    return it->second;
  }

  static std::optional<uint64_t> Bias(const MappingRecord& m) {
    auto vaddr = m.Vaddr(m.start);
    if (!vaddr) return std::nullopt;
    return m.start - *vaddr;
  }

  void AddImage(uint64_t bias, const symbolizer::Binary* binary) {
    for (const Image& i : images)
      if (i.binary == binary && i.bias == bias) return;
    images.push_back({bias, binary, binary->Section(".eh_frame_hdr"), binary->Section(".eh_frame")});
  }

  static bool ReadSection(const std::optional<symbolizer::Binary::SectionView>& s, uint64_t vaddr, uint64_t* out) {
    if (!s || vaddr < s->vaddr || vaddr - s->vaddr > s->bytes.size() || s->bytes.size() - (vaddr - s->vaddr) < 8)
      return false;
    std::memcpy(out, s->bytes.data() + (vaddr - s->vaddr), 8);
    return true;
  }

  // A word of the sampled process's memory: the copied stacks first, then
  // the mapped files (CFI tables, code bytes libunwind looks at).
  bool ReadWord(uint64_t addr, uint64_t* out) {
    if (ReadStack(addr, out)) return true;
    for (const Image& i : images) {
      if (ReadSection(i.frames, addr - i.bias, out) || ReadSection(i.hdr, addr - i.bias, out)) return true;
    }
    for (const Image& i : images) {
      auto bytes = i.binary->ReadVaddr(addr - i.bias, 8);
      if (bytes.size() == 8) {
        std::memcpy(out, bytes.data(), 8);
        return true;
      }
    }
    if (const MappingRecord* m = code->Find(addr); m && m->binary) {
      if (auto bias = Bias(*m)) {
        AddImage(*bias, &m->binary->binary());
        auto bytes = m->binary->binary().ReadVaddr(addr - *bias, 8);
        if (bytes.size() == 8) {
          std::memcpy(out, bytes.data(), 8);
          return true;
        }
      }
    }
    return false;
  }

  static bool ReadFrom(std::span<const uint8_t> region, uint64_t base, uint64_t addr, uint64_t* out) {
    if (addr < base || addr - base > region.size() || region.size() - (addr - base) < 8) return false;
    std::memcpy(out, region.data() + (addr - base), 8);
    return true;
  }

  bool ReadStack(uint64_t addr, uint64_t* out) const {
    return ReadFrom(snap->stack, snap->head.sp, addr, out) || ReadFrom(snap->go_window, snap->head.go_window, addr, out);
  }
  bool ReadGoWindow(uint64_t addr, uint64_t* out) const {
    return ReadFrom(snap->go_window, snap->head.go_window, addr, out);
  }

  int FindProcInfo(unw_addr_space_t space, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info) {
    const MappingRecord* m = code->Find(ip);
    if (!m || !m->binary) return Miss();
    auto bias = Bias(*m);
    const symbolizer::Binary& binary = m->binary->binary();
    auto hdr = binary.Section(".eh_frame_hdr");
    if (!bias || !hdr || hdr->bytes.size() < 4 || hdr->bytes[0] != 1) return Miss();
    const uint8_t eh_frame_ptr_enc = hdr->bytes[1], fde_count_enc = hdr->bytes[2], table_enc = hdr->bytes[3];
    const size_t ptr_size = EncodedSize(eh_frame_ptr_enc), count_size = EncodedSize(fde_count_enc);
    if (eh_frame_ptr_enc == kEhPeOmit || fde_count_enc == kEhPeOmit || table_enc != kEhPeDatarelSdata4 ||
        ptr_size == 0 || count_size == 0 || 4 + ptr_size + count_size > hdr->bytes.size()) {
      return Miss();
    }
    uint64_t fde_count = 0;
    std::memcpy(&fde_count, hdr->bytes.data() + 4 + ptr_size, count_size);
    const size_t table_offset = 4 + ptr_size + count_size;
    if (fde_count == 0 || fde_count > (hdr->bytes.size() - table_offset) / 8) return Miss();
    // libunwind trusts register numbers in CFA programs: a corrupt table
    // must never reach it (profiler/cfi_check.h).
    auto frames = binary.Section(".eh_frame");
    if (!frames) return Miss();
    if (CheckCfi({hdr->vaddr, hdr->bytes, frames->vaddr, frames->bytes}, ip - *bias) != CfiVerdict::kSafe)
      return Miss();
    AddImage(*bias, &binary);

    unw_dyn_info_t di;
    std::memset(&di, 0, sizeof(di));
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.start_ip = m->start;
    di.end_ip = m->end;
    di.u.rti.segbase = hdr->vaddr + *bias;
    di.u.rti.table_data = hdr->vaddr + *bias + table_offset;
    di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
    int ret = UNW_OBJ(dwarf_search_unwind_table)(space, ip, &di, pi, need_unwind_info, this);
    if (ret < 0) missing_info = true;
    return ret;
  }

  int Miss() {
    missing_info = true;
    return -UNW_ENOINFO;
  }

  // Where the walk goes on after returning into Go code at `ip`.
  void ContinueInGo(NativeStack& out, uint64_t ip, uint64_t sp, std::optional<uint64_t> bp, const MappingRecord& m,
                    std::span<const uint64_t> fp_frames, size_t max_frames);
  void WalkGoFrames(NativeStack& out, uint64_t bp, const MappingRecord& hint, size_t max_frames, bool window_only);
};

namespace {

NativeUnwinder::Impl* Ctx(void* arg) { return static_cast<NativeUnwinder::Impl*>(arg); }

int FindProcInfo(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info, void* arg) {
  return Ctx(arg)->FindProcInfo(as, ip, pi, need_unwind_info);
}

void PutUnwindInfo(unw_addr_space_t, unw_proc_info_t*, void*) {}

int GetDynInfoListAddr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int AccessMem(unw_addr_space_t, unw_word_t addr, unw_word_t* valp, int write, void* arg) {
  if (write) return -UNW_EINVAL;
  uint64_t v = 0;
  auto* ctx = Ctx(arg);
  if (!ctx->ReadWord(addr, &v)) {
    ctx->stack_miss = true;
    return -UNW_EINVAL;
  }
  *valp = v;
  return 0;
}

int AccessReg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* valp, int write, void* arg) {
  auto* ctx = Ctx(arg);
  if (write || reg < 0 || reg > UNW_X86_64_RIP || !(ctx->known & (1u << reg))) return -UNW_EBADREG;
  *valp = ctx->regs[reg];
  return 0;
}

int AccessFpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EINVAL; }
int Resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int GetProcName(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) { return -UNW_EINVAL; }

unw_accessors_t kAccessors = {FindProcInfo, PutUnwindInfo, GetDynInfoListAddr, AccessMem,
                              AccessReg,    AccessFpreg,   Resume,             GetProcName};

}  // namespace

NativeUnwinder::NativeUnwinder() : impl_(std::make_unique<Impl>()) {
  InstallFaultGuard();
  impl_->as = unw_create_addr_space(&kAccessors, 0);
  // One address space serves every process: its cache (decoded CFI by
  // address) is flushed whenever the code being unwound changes (another
  // process, or new mappings), see Unwind.
  if (impl_->as) unw_set_caching_policy(impl_->as, UNW_CACHE_GLOBAL);
}

NativeUnwinder::~NativeUnwinder() {
  if (impl_->as) unw_destroy_addr_space(impl_->as);
}

// Frame-pointer walk of Go frames from `bp`: in the goroutine window (the
// goroutine's stack), or also in the copied system stack.
void NativeUnwinder::Impl::WalkGoFrames(NativeStack& out, uint64_t bp, const MappingRecord& hint, size_t max_frames,
                                        bool window_only) {
  const GoCodeInfo* go = hint.binary ? &GoInfo(hint) : nullptr;
  auto bias = Bias(hint);
  while (true) {
    if (bp == 0) return;  // the first frame of a goroutine saved bp 0
    if (out.frames.size() >= max_frames) {
      out.cut = NativeCut::kDepth;
      return;
    }
    uint64_t saved_bp = 0, ret = 0;
    bool ok = window_only ? ReadGoWindow(bp, &saved_bp) && ReadGoWindow(bp + 8, &ret)
                          : ReadStack(bp, &saved_bp) && ReadStack(bp + 8, &ret);
    if (!ok) {
      out.cut = window_only ? NativeCut::kGoWindowShort : NativeCut::kStackShort;
      return;
    }
    if (ret == 0) return;
    out.frames.push_back(ret);
    if (go && bias && In(ret - *bias, go->goexit, go->goexit_end)) return;  // TOPFRAME: the root
    if (saved_bp <= bp) return;  // frames go up the stack; anything else is the end of the chain
    bp = saved_bp;
  }
}

void NativeUnwinder::Impl::ContinueInGo(NativeStack& out, uint64_t ip, uint64_t sp, std::optional<uint64_t> bp,
                                        const MappingRecord& m, std::span<const uint64_t> fp_frames,
                                        size_t max_frames) {
  const GoCodeInfo& go = GoInfo(m);
  const uint64_t bias = *Bias(m);
  const uint64_t vaddr = ip - bias;
  out.frames.push_back(ip);
  const golens_native_stack& h = snap->head;
  const bool in_landingpad = In(vaddr, go.landingpad, go.landingpad_end);
  if ((in_landingpad || In(vaddr, go.asmcgocall, go.asmcgocall_end)) && (h.flags & GOLENS_NATIVE_HAS_GOROUTINE) &&
      h.curg != 0) {
    // C returned into the cgo call. Its frame on the system stack holds
    // the goroutine and how deep in its stack it called (stack.hi - SP);
    // the goroutine must be the sampled one, or nothing is proved.
    uint64_t frame = sp;
    if (in_landingpad) {
      uint64_t ret = 0;
      if (!ReadStack(sp, &ret) || !In(ret - bias, go.asmcgocall, go.asmcgocall_end)) {
        out.cut = NativeCut::kNoWayToGo;
        return;
      }
      out.frames.push_back(ret);
      frame = sp + 8;
    }
    // The depth word sits right before the goroutine; other words of the
    // frame are stale and may hold the goroutine too, so a candidate counts
    // only if the SP it gives lies in the copied goroutine window and, when
    // asmcgocall had no frame of its own, returns into Go code.
    const uint64_t window_end = h.go_window + snap->go_window.size();
    std::optional<uint64_t> go_sp;
    uint64_t go_ret = 0;  // asmcgocall's return address when it had no frame
    uint64_t prev = 0;
    for (size_t i = 0; i < kCgoFrameScanWords && !go_sp; ++i) {
      uint64_t word = 0;
      if (!ReadStack(frame + 8 * i, &word)) break;
      if (i > 0 && word == h.curg && prev > 0 && prev <= h.go_stack_hi - h.go_window) {
        const uint64_t candidate = h.go_stack_hi - prev;
        if (candidate % 8 == 0 && candidate >= h.go_window && candidate < window_end && bp &&
            *bp >= candidate) {
          uint64_t ret = 0;
          if (*bp == candidate) {
            go_sp = candidate;
          } else if (ReadGoWindow(candidate, &ret) && In(ret - bias - 1, go.text_start, go.text_end)) {
            go_sp = candidate;
            go_ret = ret;
          }
        }
      }
      prev = word;
    }
    if (!go_sp) {
      out.cut = NativeCut::kNoWayToGo;
      return;
    }
    // BP is callee-saved, so C hands back the goroutine's frame pointer:
    // asmcgocall's own frame, which the assembler gives it (BP == SP; seen
    // in Go 1.21, 1.23 and 1.26 binaries), else its caller's, with
    // asmcgocall's return address at SP.
    if (go_ret) out.frames.push_back(go_ret);
    WalkGoFrames(out, *bp, m, max_frames, /*window_only=*/true);
    return;
  }
  // Other Go code that ran C or vDSO code on the same stack (time.now ->
  // vDSO, a g0 cgo call): the frame-pointer walk BPF made has the Go frames
  // once it reached this return address.
  for (size_t j = 1; j < fp_frames.size(); ++j) {
    if (fp_frames[j] != ip) continue;
    for (size_t k = j + 1; k < fp_frames.size(); ++k) {
      if (out.frames.size() >= max_frames) {
        out.cut = NativeCut::kDepth;
        return;
      }
      out.frames.push_back(fp_frames[k]);
    }
    return;
  }
  if (bp) {
    WalkGoFrames(out, *bp, m, max_frames, /*window_only=*/false);
    return;
  }
  out.cut = NativeCut::kNoWayToGo;
}

NativeStack NativeUnwinder::Unwind(const NativeSnapshot& snapshot, std::span<const uint64_t> fp_frames,
                                   CodeLookup& code, size_t max_frames) {
  NativeStack out;
  Impl& s = *impl_;
  s.snap = &snapshot;
  s.code = &code;
  s.images.clear();
  const uint64_t key = code.CacheKey();
  if (s.as && (key == 0 || key != s.cache_key)) unw_flush_cache(s.as, 0, 0);
  s.cache_key = key;
  s.missing_info = false;
  s.stack_miss = false;
  const golens_native_stack& h = snapshot.head;

  if (h.flags & GOLENS_NATIVE_FROM_FP_WALK) {
    // Go code called from C: keep the Go frames BPF walked up to the first
    // return address outside Go code, which must be where the snapshot starts.
    if (h.go_frames == 0 || h.go_frames >= fp_frames.size() || fp_frames[h.go_frames] != h.ip) {
      out.frames.assign(fp_frames.begin(), fp_frames.end());
      out.cut = NativeCut::kBadSnapshot;
      return out;
    }
    out.frames.assign(fp_frames.begin(), fp_frames.begin() + h.go_frames);
  }
  uint64_t ip = h.ip, sp = h.sp, bp = h.bp;
  if ((h.flags & GOLENS_NATIVE_FROM_FP_WALK) && !code.Find(ip) && bp == sp - 8) {
    // Not code: a frame that saved BP right above itself (an assembler
    // prologue under a hand-made frame: crosscall2 after Go 1.21, seen in
    // 1.23 and 1.26 binaries). The
    // "return address" read was the next frame's saved BP, the C caller's;
    // the real return address is the next word, the first one copied.
    uint64_t word = 0;
    if (!s.ReadStack(sp, &word)) {
      out.frames.push_back(ip);
      out.cut = NativeCut::kStackShort;
      return out;
    }
    bp = ip;
    ip = word;
    sp += 8;
  }
  if (!s.as) {
    out.frames.push_back(ip);
    out.cut = NativeCut::kNoUnwindInfo;
    return out;
  }

  std::fill(std::begin(s.regs), std::end(s.regs), 0);
  s.known = 0;
  auto set = [&](int reg, uint64_t value) {
    s.regs[reg] = value;
    s.known |= 1u << reg;
  };
  set(UNW_X86_64_RIP, ip);
  set(UNW_X86_64_RSP, sp);
  set(UNW_X86_64_RBP, bp);
  if (h.flags & GOLENS_NATIVE_FROM_PC) {  // the full sampled register set
    set(UNW_X86_64_RBX, h.bx);
    set(UNW_X86_64_R12, h.r12);
    set(UNW_X86_64_R13, h.r13);
    set(UNW_X86_64_R14, h.r14);
    set(UNW_X86_64_R15, h.r15);
  }

  unw_cursor_t cursor;
  sigjmp_buf guard;
  if (sigsetjmp(guard, 1) != 0) {
    // A fault inside libunwind: keep the frames found so far, and start over
    // with a fresh address space (its cache and locks may be inconsistent).
    t_fault_guard = nullptr;
    unw_destroy_addr_space(s.as);
    s.as = unw_create_addr_space(&kAccessors, 0);
    if (s.as) unw_set_caching_policy(s.as, UNW_CACHE_GLOBAL);
    s.cache_key = 0;
    if (out.frames.empty()) out.frames.push_back(ip);
    out.cut = NativeCut::kUnwinderFault;
    s.snap = nullptr;
    s.code = nullptr;
    return out;
  }
  t_fault_guard = &guard;
  const int init = unw_init_remote(&cursor, s.as, &s);
  t_fault_guard = nullptr;
  if (init < 0) {
    out.frames.push_back(ip);
    out.cut = NativeCut::kNoUnwindInfo;
    return out;
  }
  out.frames.push_back(ip);
  ++out.native_frames;
  while (true) {
    if (out.frames.size() >= max_frames) {
      out.cut = NativeCut::kDepth;
      break;
    }
    s.missing_info = false;
    s.stack_miss = false;
    t_fault_guard = &guard;
    int r = unw_step(&cursor);
    t_fault_guard = nullptr;
    if (s.missing_info) {  // libunwind guessed this step (frame pointers, heuristics): not ours to keep
      out.cut = NativeCut::kNoUnwindInfo;
      break;
    }
    if (r < 0) {
      out.cut = s.stack_miss ? NativeCut::kStackShort : NativeCut::kNoUnwindInfo;
      break;
    }
    if (r == 0) break;  // the outermost frame (CFI marks the return address undefined)
    unw_word_t frame_ip = 0, frame_sp = 0, frame_bp = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &frame_ip) < 0 || unw_get_reg(&cursor, UNW_REG_SP, &frame_sp) < 0) {
      out.cut = NativeCut::kNoUnwindInfo;
      break;
    }
    if (frame_ip == 0) break;
    const MappingRecord* m = code.Find(frame_ip);
    if (m && m->binary && Impl::Bias(*m)) {
      const GoCodeInfo& go = s.GoInfo(*m);
      uint64_t vaddr = frame_ip - *Impl::Bias(*m);
      if (go.is_go && In(vaddr - 1, go.text_start, go.text_end)) {
        std::optional<uint64_t> go_bp;
        if (unw_get_reg(&cursor, UNW_X86_64_RBP, &frame_bp) == 0) go_bp = frame_bp;
        s.ContinueInGo(out, frame_ip, frame_sp, go_bp, *m, fp_frames, max_frames);
        break;
      }
    }
    out.frames.push_back(frame_ip);
    ++out.native_frames;
  }
  s.snap = nullptr;
  s.code = nullptr;
  return out;
}

}  // namespace golens::profiler



