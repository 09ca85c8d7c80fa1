#include "profiler/recorder.h"

#include <time.h>

#include <algorithm>
#include <cstring>

#include "profiler/base/log.h"

namespace golens::profiler {

int64_t WallClockNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

Recorder::Recorder(RecorderOptions options, ProcessSource* source, BinaryRegistry* binaries,
                   RecorderListener* listener)
    : options_(options),
      source_(source),
      binaries_(binaries),
      listener_(listener),
      interval_(std::make_unique<Interval>(WallClockNanos())) {}

Result<std::shared_ptr<const ProcessState>> Recorder::Attach(pid_t pid, bool follow_children) {
  GOLENS_TRY(uint64_t start_ticks, source_->StartTicks(pid));
  std::lock_guard<std::mutex> lock(mu_);
  auto existing = FindLocked(pid, start_ticks);
  if (existing && !existing->awaiting_exec) return std::shared_ptr<const ProcessState>(existing);
  auto process = std::make_shared<ProcessState>(ProcessIdentity{pid, start_ticks}, follow_children);
  GOLENS_TRY_VOID(ReadProgramLocked(*process));
  if (!first_target_) first_target_ = process->id();
  processes_[pid] = process;
  ++stats_.processes_seen;
  if (listener_) listener_->OnProgram(*process);
  return std::shared_ptr<const ProcessState>(process);
}

Result<void> Recorder::ExpectExec(pid_t pid, bool follow_children) {
  GOLENS_TRY(uint64_t start_ticks, source_->StartTicks(pid));
  std::lock_guard<std::mutex> lock(mu_);
  auto process = std::make_shared<ProcessState>(ProcessIdentity{pid, start_ticks}, follow_children);
  process->awaiting_exec = true;
  if (!first_target_) first_target_ = process->id();
  processes_[pid] = process;
  ++stats_.processes_seen;
  return Ok();
}

void Recorder::Detach(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processes_.find(pid);
  if (it != processes_.end()) GoneLocked(it->second);
}

std::shared_ptr<ProcessState> Recorder::FindLocked(pid_t pid, uint64_t start_ticks) {
  auto it = processes_.find(pid);
  if (it == processes_.end() || it->second->id().start_ticks != start_ticks) return nullptr;
  return it->second;
}

void Recorder::GoneLocked(std::shared_ptr<ProcessState> process) {
  auto it = processes_.find(process->pid());
  if (it != processes_.end() && it->second == process) processes_.erase(it);
  if (listener_) listener_->OnGone(*process);
}

Result<void> Recorder::ReadProgramLocked(ProcessState& process) {
  const pid_t pid = process.pid();
  GOLENS_TRY(std::string exe, source_->ExePath(pid));
  if (exe.empty()) {
    bool zombie = !source_->Alive(pid, process.id().start_ticks) && source_->StartTicks(pid).ok();
    return MakeError(zombie ? "pid " + std::to_string(pid) + " has exited (a zombie its parent has not reaped)"
                            : "pid " + std::to_string(pid) + " has no program to read: a kernel thread, or it has exited",
                     ErrorKind::kNotFound);
  }
  RefreshMappingsLocked(process);
  std::shared_ptr<BinaryRecord> main;
  for (const auto& m : process.mappings()) {
    if (m->path == exe && m->binary) {
      main = m->binary;
      break;
    }
  }
  if (!main) {
    auto binary = source_->OpenPath("/proc/" + std::to_string(pid) + "/exe");
    if (binary.ok()) {
      main = binaries_->Get(*binary);
    } else {
      GOLENS_LOG(kWarn) << "pid " << pid << ": cannot read " << exe << ": " << binary.error().message;
    }
  }
  process.SetProgram(std::move(exe), std::move(main));
  return Ok();
}

void Recorder::RefreshMappingsLocked(ProcessState& process) {
  process.last_refresh = std::chrono::steady_clock::now();
  process.stale = false;
  ++stats_.maps_reads;
  auto maps = source_->Mappings(process.pid());
  if (!maps.ok()) return;  // gone: keep what we had
  std::vector<std::shared_ptr<const MappingRecord>> next;
  for (const symbolizer::Mapping& m : *maps) {
    if (!m.executable()) continue;
    std::shared_ptr<const MappingRecord> reuse;
    for (const auto& old : process.mappings()) {
      if (old->SameAs(m)) {
        reuse = old;
        break;
      }
    }
    next.push_back(reuse ? std::move(reuse) : NewMappingLocked(process.pid(), m));
  }
  process.SetMappings(std::move(next));
}

std::shared_ptr<const MappingRecord> Recorder::NewMappingLocked(pid_t pid, const symbolizer::Mapping& m) {
  std::shared_ptr<BinaryRecord> binary;
  if ((!m.path.empty() && m.path[0] == '/') || m.path == "[vdso]") {
    auto opened = source_->OpenBinary(pid, m);
    if (opened.ok()) {
      binary = binaries_->Get(*opened);
    } else {
      GOLENS_LOG(kDebug) << "pid " << pid << ": " << opened.error().message;
    }
  }
  return MakeMappingRecord(m, std::move(binary));
}

Result<void> Recorder::AssumeProgramLocked(ProcessState& process, const std::string& path) {
  GOLENS_TRY(auto maps, source_->ProgramMappings(path));
  GOLENS_TRY(auto binary, source_->OpenPath(path));
  auto record = binaries_->Get(binary);
  std::vector<std::shared_ptr<const MappingRecord>> mappings;
  for (const symbolizer::Mapping& m : maps) mappings.push_back(MakeMappingRecord(m, record));
  process.SetMappings(std::move(mappings));
  process.SetProgram(path, record);
  // Nothing more to learn from /proc: the process is gone.
  process.last_refresh = std::chrono::steady_clock::now() + std::chrono::hours(24 * 365);
  return Ok();
}

const std::shared_ptr<const MappingRecord>* Recorder::FindMappingLocked(ProcessState& process, uint64_t address) {
  if (auto* found = process.Find(address)) return found;
  auto now = std::chrono::steady_clock::now();
  if (!process.stale && now - process.last_refresh < options_.refresh_interval) return nullptr;
  RefreshMappingsLocked(process);
  return process.Find(address);
}

void Recorder::OnRecord(std::span<const uint8_t> record) {
  auto kind = RecordKind(record);
  if (!kind.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.malformed;
    return;
  }
  if (*kind == GOLENS_RECORD_SAMPLE) {
    OnSample(record);
    return;
  }
  if (*kind == GOLENS_RECORD_MAP_PROBE) {
    auto probe = DecodeMapProbe(record);
    std::lock_guard<std::mutex> lock(mu_);
    if (!probe.ok()) {
      ++stats_.malformed;
      return;
    }
    OnMapProbe(*probe);
    return;
  }
  if (*kind == GOLENS_RECORD_SPAN) {
    auto end = DecodeSpanEnd(record);
    std::lock_guard<std::mutex> lock(mu_);
    if (!end.ok()) {
      ++stats_.malformed;
      return;
    }
    ++stats_.spans;
    if (spans_.size() >= kMaxPendingSpans) {
      ++stats_.spans_dropped;
      return;
    }
    spans_.push_back(MakeFinishedSpan(*end));
    return;
  }
  auto event = DecodeProcEvent(record);
  std::lock_guard<std::mutex> lock(mu_);
  if (!event.ok()) {
    ++stats_.malformed;
    return;
  }
  OnEvent(*event);
}

void Recorder::OnEvent(const golens_proc_event& e) {
  ++stats_.events;
  const pid_t pid = static_cast<pid_t>(e.tgid);
  const uint64_t start = NanosToTicks(e.start_ns);
  switch (e.kind) {
    case GOLENS_PROC_EVENT_FORK: {
      auto parent = FindLocked(static_cast<pid_t>(e.parent_tgid), NanosToTicks(e.parent_start_ns));
      auto it = processes_.find(pid);
      if (it != processes_.end()) GoneLocked(it->second);  // its exit was lost; the pid is someone else's now
      auto child = std::make_shared<ProcessState>(ProcessIdentity{pid, start},
                                                  parent ? parent->follow_children() : true);
      if (parent) {
        // Until it execs, the child runs its parent's program in a copy of
        // its parent's address space.
        child->SetProgram(parent->exe_path(), parent->main_binary());
        child->SetMappings(parent->mappings());
        child->last_refresh = parent->last_refresh;
        child->stale = parent->stale;
      } else if (!ReadProgramLocked(*child).ok()) {
        ++stats_.unreadable_programs;
      }
      processes_[pid] = child;
      ++stats_.processes_seen;
      return;
    }
    case GOLENS_PROC_EVENT_EXEC: {
      auto process = FindLocked(pid, start);
      if (!process) {
        process = std::make_shared<ProcessState>(ProcessIdentity{pid, start}, false);
        processes_[pid] = process;
        ++stats_.processes_seen;
      }
      process->awaiting_exec = false;
      process->SetMappings({});  // the old program's are gone with the exec
      if (ReadProgramLocked(*process).ok() && !process->mappings().empty()) {
        if (listener_) listener_->OnProgram(*process);
        return;
      }
      // Exited before we could look. Its samples still symbolize when the
      // exec'd file is a non-PIE executable (most Go programs are).
      ++stats_.unreadable_programs;
      std::string filename(e.filename, strnlen(e.filename, sizeof(e.filename)));
      if (!filename.empty() && AssumeProgramLocked(*process, filename).ok()) ++stats_.assumed_programs;
      return;
    }
    case GOLENS_PROC_EVENT_EXIT: {
      if (auto process = FindLocked(pid, start)) GoneLocked(process);
      return;
    }
    case GOLENS_PROC_EVENT_MUNMAP: {
      if (auto process = FindLocked(pid, start)) process->Unmap(e.addr, e.len);
      return;
    }
    case GOLENS_PROC_EVENT_EXEC_UNTRACKED: {
      if (listener_) listener_->OnUntrackedExec(pid, start, std::string(e.filename, strnlen(e.filename, sizeof(e.filename))));
      return;
    }
  }
}

void Recorder::RestoreLeafCallerLocked(ProcessState& process, const golens_sample& head, std::vector<uint64_t>& user) {
  if (user.empty() || !(head.flags & GOLENS_SAMPLE_USER_SP_VALID)) return;
  auto* leaf = FindMappingLocked(process, user[0]);
  if (!leaf || !(*leaf)->binary) return;
  std::optional<uint64_t> vaddr = (*leaf)->Vaddr(user[0]);
  if (!vaddr) return;
  const FunctionFrameInfo* info = (*leaf)->binary->FrameInfoAt(*vaddr);
  if (!info) return;
  ReturnAddressAt at = info->At(*vaddr);
  if (at == ReturnAddressAt::kFramePointer) return;
  uint64_t ret = head.user_sp_words[at == ReturnAddressAt::kSp ? 0 : 1];
  if (user.size() >= 2 && user[1] == ret) return;  // the frame-pointer walk already has it
  if (!FindMappingLocked(process, ret)) return;
  user.insert(user.begin() + 1, ret);
  if (user.size() > GOLENS_MAX_FRAMES) user.pop_back();
  ++stats_.leaf_restored;
}

int Recorder::MapSiteFrameLocked(ProcessState& process, const std::vector<uint64_t>& user, bool kernel_mode) {
  // The innermost map operation is at most a few frames up (hash, memequal,
  // mallocgc below it); above it, its callers up to the first frame outside
  // map code.
  constexpr size_t kMaxDepth = 4;
  auto vaddr_of = [&](size_t i) -> std::optional<std::pair<const BinaryRecord*, uint64_t>> {
    auto* mapping = FindMappingLocked(process, user[i]);
    if (!mapping || !(*mapping)->binary) return std::nullopt;
    uint64_t pc = i == 0 && !kernel_mode ? user[i] : user[i] - 1;
    std::optional<uint64_t> vaddr = (*mapping)->Vaddr(pc);
    if (!vaddr) return std::nullopt;
    return std::make_pair((*mapping)->binary.get(), *vaddr);
  };
  size_t first = user.size();
  for (size_t i = 0; i < user.size() && i < kMaxDepth; ++i) {
    auto at = vaddr_of(i);
    if (!at) return -1;
    if (at->first->map_code().IsOperation(at->second)) {
      first = i;
      break;
    }
  }
  if (first == user.size()) return -1;
  // Below the operation only runtime code (the sample is in the operation).
  for (size_t i = 0; i < first; ++i) {
    auto at = vaddr_of(i);
    std::optional<symbolizer::Symbol> fn = at ? at->first->binary().FunctionContaining(at->second) : std::nullopt;
    if (!fn || !(fn->name.starts_with("runtime.") || fn->name.starts_with("internal/") ||
                 fn->name.starts_with("aeshashbody"))) {
      return -1;
    }
  }
  for (size_t i = first + 1; i < user.size(); ++i) {
    auto at = vaddr_of(i);
    if (!at) return -1;
    if (!at->first->map_code().IsOperation(at->second)) return static_cast<int>(i);
  }
  return -1;
}

namespace {

class MappingLookup final : public CodeLookup {
 public:
  MappingLookup(std::function<const MappingRecord*(uint64_t)> find, uint64_t key) : find_(std::move(find)), key_(key) {}
  const MappingRecord* Find(uint64_t address) override { return find_(address); }
  uint64_t CacheKey() const override { return key_; }

 private:
  std::function<const MappingRecord*(uint64_t)> find_;
  uint64_t key_;
};

// The process and the very mapping records it has now (a refresh or munmap
// that changes any of them changes the key).
uint64_t CodeKey(const ProcessState& process) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  mix(static_cast<uint64_t>(process.pid()));
  mix(process.id().start_ticks);
  mix(process.program_generation());
  for (const auto& m : process.mappings()) {
    mix(reinterpret_cast<uintptr_t>(m.get()));
    mix(m->start);
    mix(m->inode);
  }
  return h | 1;  // never 0 ("do not cache")
}

}  // namespace

bool Recorder::UnwindNativeLocked(ProcessState& process, const SampleView& view, const SampleSection& section,
                                  std::vector<uint64_t>& user, NativeCut* cut) {
  auto snapshot = DecodeNativeStack(section.payload);
  if (!snapshot.ok()) {
    ++stats_.native_malformed;
    return false;
  }
  MappingLookup code(
      [&](uint64_t address) -> const MappingRecord* {
        auto* found = FindMappingLocked(process, address);
        return found ? found->get() : nullptr;
      },
      CodeKey(process));
  NativeStack stack = native_.Unwind(*snapshot, view.user, code);
  ++stats_.native_unwound;
  if (stack.cut != NativeCut::kNone) ++stats_.native_cut;
  user = std::move(stack.frames);
  *cut = stack.cut;
  return true;
}

void Recorder::OnSample(std::span<const uint8_t> record) {
  auto decoded = DecodeSample(record);
  std::lock_guard<std::mutex> lock(mu_);
  if (!decoded.ok()) {
    ++stats_.malformed;
    return;
  }
  const SampleView& view = *decoded;
  const golens_sample& h = *view.head;
  auto process = FindLocked(static_cast<pid_t>(h.tgid), NanosToTicks(h.start_ns));
  if (!process || process->awaiting_exec) {
    ++stats_.unknown_process;  // a target removed a moment ago, or one we never saw start
    return;
  }

  std::vector<uint64_t> user(view.user.begin(), view.user.end());
  NativeCut native_cut = NativeCut::kNone;
  const SampleSection* native = view.section(GOLENS_SECTION_NATIVE_STACK);
  const bool unwound = native && UnwindNativeLocked(*process, view, *native, user, &native_cut);
  // The leaf fix-up is for a Go leaf under a frame-pointer walk: every
  // stack but one whose leaf the CFI unwinder started from.
  bool native_leaf = false;
  if (unwound) {
    golens_native_stack snapshot_head;
    std::memcpy(&snapshot_head, native->payload.data(), sizeof(snapshot_head));  // decoded: long enough
    native_leaf = (snapshot_head.flags & GOLENS_NATIVE_FROM_PC) != 0;
  }
  if (!native_leaf) RestoreLeafCallerLocked(*process, h, user);

  StackKey key;
  key.user_truncated = unwound ? native_cut == NativeCut::kDepth : h.user_frames >= options_.max_frames;
  if (unwound && native_cut != NativeCut::kDepth) key.native_cut = static_cast<uint8_t>(native_cut);
  key.user_mapping.reserve(user.size());
  for (size_t i = 0; i < user.size(); ++i) {
    auto* mapping = FindMappingLocked(*process, user[i]);
    if (mapping) {
      key.user_mapping.push_back(interval_->MappingIndex(*mapping));
    } else if (i == 0) {
      key.user_mapping.push_back(kNoMapping);  // the PC itself: keep it, unsymbolized
    } else {
      // A frame-pointer walk through code without frame pointers runs into
      // garbage; a return address must be in executable memory.
      user.resize(i);
      key.user_truncated = false;
      ++stats_.stacks_cut;
      break;
    }
  }
  key.user = std::move(user);
  key.kernel.assign(view.kernel.begin(), view.kernel.end());
  key.kernel_truncated = h.kernel_frames >= options_.max_frames;
  key.kernel_mode = (h.flags & GOLENS_SAMPLE_KERNEL_MODE) != 0;

  int map_site = -1;
  if (options_.attributes.maps) {
    map_site = MapSiteFrameLocked(*process, key.user, key.kernel_mode);
    if (map_site >= 0) ++stats_.map_samples;
  }
  scratch_attributes_.clear();
  CollectAttributes(view, options_.attributes, &scratch_attributes_, &stats_.attributes, map_site);
  key.attributes = interval_->attributes().Intern(scratch_attributes_);

  key.process = interval_->CountProcess(*process);
  interval_->Add(std::move(key));
  ++process->samples;
  ++stats_.samples;
}

std::unique_ptr<Interval> Recorder::TakeInterval(int64_t now_wall_ns) {
  auto next = std::make_unique<Interval>(now_wall_ns);
  std::lock_guard<std::mutex> lock(mu_);
  std::swap(next, interval_);
  next->set_end_wall_ns(now_wall_ns);
  if (first_target_) next->PutFirst(*first_target_);
  return next;
}

void Recorder::OnMapProbe(const golens_map_probe& probe) {
  ++stats_.map_probes;
  if (options_.keep_map_probes) {
    if (map_probes_.size() < kMaxPendingSpans) {
      map_probes_.push_back(probe);
    } else {
      ++stats_.map_probes_dropped;
    }
  }
  auto process = FindLocked(static_cast<pid_t>(probe.tgid), NanosToTicks(probe.start_ns));
  if (!process || process->awaiting_exec) return;
  // The call site as the stacks of CPU samples have it: (mapping, return address).
  if (auto* mapping = FindMappingLocked(*process, probe.site)) {
    interval_->AddMapProbe(interval_->ProcessKey(*process), interval_->MappingIndex(*mapping), probe.site, probe);
  }
}

std::vector<golens_map_probe> Recorder::TakeMapProbes() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<golens_map_probe> out;
  out.swap(map_probes_);
  return out;
}

std::vector<FinishedSpan> Recorder::TakeSpans() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FinishedSpan> out;
  out.swap(spans_);
  return out;
}

void Recorder::CheckLiveness() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ProcessState>> gone;
  for (const auto& [pid, process] : processes_) {
    if (!source_->Alive(pid, process->id().start_ticks)) gone.push_back(process);
  }
  for (const auto& process : gone) GoneLocked(process);
}

std::vector<std::shared_ptr<const ProcessState>> Recorder::LiveProcesses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const ProcessState>> live;
  for (const auto& [pid, process] : processes_) live.push_back(process);  // gone ones are erased
  return live;
}

size_t Recorder::live_processes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return processes_.size();
}

RecorderStats Recorder::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  RecorderStats s = stats_;
  s.processes_live = processes_.size();
  return s;
}

}  // namespace golens::profiler
