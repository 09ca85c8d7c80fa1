// Long run, bounded memory, in simulated time: drives one Recorder through
// N minutes (default 11) of a supervisor forking 200 short-lived Go
// processes (FORK from the parent, EXEC, samples at --hz on --cpus CPUs,
// EXIT; pids reused), takes a snapshot (TakeInterval + BuildCpuProfile, one
// shared FrameCache) every 10 simulated seconds, and prints this process's
// RSS and CPU time at every simulated minute, with BinaryRegistry::live(),
// the FrameCache and BinaryCache statistics. RSS must stay flat: state
// comes and goes with the processes.
//
// No BPF, no root: the records are encoded as BPF writes them
// (SampleRecordBuilder, MakeProcEvent) and /proc is a fake (SimProc) whose
// processes run real non-PIE Go binaries built by this build (text at
// 0x400000), so normalization, the leaf fix-up (Capstone), symbolization
// and pprof assembly all see real input.
//
//   build/bench/longrun/longrun_sim [--minutes 11] [--processes 200] [--cpus 4]
//                                   [--hz 99] [--pids 8] [--frame-cache 65536] [PROGRAM...]
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "profiler/binary_record.h"
#include "profiler/cpu_profile.h"
#include "profiler/frame_cache.h"
#include "profiler/process_source.h"
#include "profiler/recorder.h"
#include "profiler/sample_record.h"
#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

// /proc as the simulation says it is. Binaries are parsed through a bounded
// BinaryCache, as ProcfsSource does.
class SimProc : public ProcessSource {
 public:
  struct Proc {
    std::string exe;
    uint64_t start_ticks = 0;
    std::vector<symbolizer::Mapping> maps;
  };
  std::map<pid_t, Proc> procs;
  symbolizer::BinaryCache cache{ProcfsSource::kCachedBinaries};

  void Run(pid_t pid, uint64_t start_ticks, const std::string& exe) {
    auto maps = ProgramMappings(exe);
    procs[pid] = Proc{exe, start_ticks, maps.ok() ? *maps : std::vector<symbolizer::Mapping>{}};
  }
  void Exit(pid_t pid) { procs.erase(pid); }

  Result<std::string> ExePath(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.exe;
  }
  Result<uint64_t> StartTicks(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.start_ticks;
  }
  Result<std::vector<symbolizer::Mapping>> Mappings(pid_t pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return ErrnoError("pid " + std::to_string(pid), ESRCH);
    return it->second.maps;
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenBinary(pid_t, const symbolizer::Mapping& m) override {
    return cache.GetForPath(m.path);
  }
  Result<std::shared_ptr<const symbolizer::Binary>> OpenPath(const std::string& path) override {
    if (path.rfind("/proc/", 0) == 0) {  // /proc/PID/exe
      pid_t pid = static_cast<pid_t>(std::atoi(path.c_str() + 6));
      auto it = procs.find(pid);
      if (it == procs.end()) return ErrnoError(path, ENOENT);
      return cache.GetForPath(it->second.exe);
    }
    return cache.GetForPath(path);
  }
  bool Alive(pid_t pid, uint64_t start_ticks) override {
    auto it = procs.find(pid);
    return it != procs.end() && it->second.start_ticks == start_ticks;
  }
};

// A program's synthetic stacks: real functions of the binary (leaf PC inside
// a function, callers as return addresses), leaf first.
struct Program {
  std::string path;
  std::vector<std::vector<uint64_t>> stacks;
  std::vector<uint64_t> return_addresses;  // for the user SP word of the leaf fix-up
};

Program LoadProgram(const std::string& path, std::mt19937_64& rng) {
  Program p{path, {}, {}};
  auto binary = symbolizer::Binary::Open(path);
  if (!binary.ok()) {
    std::fprintf(stderr, "longrun_sim: %s: %s\n", path.c_str(), binary.error().message.c_str());
    std::exit(1);
  }
  std::vector<symbolizer::Symbol> fns;
  for (const char* prefix : {"main.", "runtime.", "sync.", "time."}) {
    for (auto& s : (*binary)->FindSymbolsWithPrefix(prefix)) {
      if (s.size >= 16) fns.push_back(s);
    }
  }
  std::sort(fns.begin(), fns.end(), [](const auto& a, const auto& b) { return a.vaddr < b.vaddr; });
  if (fns.size() > 400) fns.resize(400);
  if (fns.empty()) {
    std::fprintf(stderr, "longrun_sim: %s: no functions\n", path.c_str());
    std::exit(1);
  }
  auto inside = [&](const symbolizer::Symbol& s) { return s.vaddr + 1 + rng() % (s.size - 1); };
  for (int i = 0; i < 96; ++i) {
    size_t depth = 4 + rng() % 28;
    std::vector<uint64_t> stack;
    for (size_t d = 0; d < depth; ++d) stack.push_back(inside(fns[rng() % fns.size()]));
    p.stacks.push_back(std::move(stack));
  }
  for (int i = 0; i < 16; ++i) p.return_addresses.push_back(inside(fns[rng() % fns.size()]));
  return p;
}

struct Usage {
  long rss_kb = 0;
  long hwm_kb = 0;
  double cpu_s = 0;
  size_t heap_in_use = 0;  // malloc'd bytes in use (mallinfo2)
};

Usage ReadUsage() {
  Usage u;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) u.hwm_kb = std::atol(line.c_str() + 6);
  }
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  u.cpu_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  u.heap_in_use = mallinfo2().uordblks;
  return u;
}

uint64_t TicksToNanos(uint64_t ticks) { return ticks * (1000000000ull / ClockTicksPerSecond()); }

struct Child {
  pid_t pid = 0;
  uint64_t start_ticks = 0;
  const Program* program = nullptr;
  int64_t end_ms = 0;
};

// One sample of `c` on `cpu`, as BPF encodes it: a random stack of its
// program, goroutine id, user SP words for the leaf fix-up, and a kernel
// stack for one sample in ten.
void Sample(SampleRecordBuilder& builder, std::mt19937_64& rng, const Child& c, int cpu) {
  const Program& p = *c.program;
  golens_sample& h = builder.head();
  h = golens_sample{};
  h.header.kind = GOLENS_RECORD_SAMPLE;
  h.header.version = GOLENS_ABI_VERSION;
  h.tgid = static_cast<uint32_t>(c.pid);
  h.tid = static_cast<uint32_t>(c.pid) + static_cast<uint32_t>(rng() % 4);
  h.start_ns = TicksToNanos(c.start_ticks) + 4321;  // the sub-tick part is ignored, as in /proc
  h.cpu = static_cast<uint32_t>(cpu);
  h.goid = 1 + rng() % 8;
  h.flags = GOLENS_SAMPLE_GOID_VALID | GOLENS_SAMPLE_USER_SP_VALID;
  h.user_sp_words[0] = p.return_addresses[rng() % p.return_addresses.size()];
  h.user_sp_words[1] = p.return_addresses[rng() % p.return_addresses.size()];
  builder.User(p.stacks[rng() % p.stacks.size()]);
  if (rng() % 10 == 0) {
    h.flags |= GOLENS_SAMPLE_KERNEL_MODE;
    builder.Kernel({0xffffffff81000000ull + (rng() % 4) * 0x100, 0xffffffff81200000ull});
  } else {
    builder.Kernel({});
  }
}

void Exit(Recorder& recorder, const Child& c) {
  golens_proc_event e = MakeProcEvent(GOLENS_PROC_EVENT_EXIT, static_cast<uint32_t>(c.pid), TicksToNanos(c.start_ticks));
  recorder.OnRecord({reinterpret_cast<const uint8_t*>(&e), sizeof(e)});
}

int Main(int argc, char** argv) {
  int minutes = 11, processes = 200, cpus = 4, hz = 99, pid_pool = 8;
  size_t frame_cache = FrameCache::kDefaultMaxEntries;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--minutes") minutes = next();
    else if (a == "--processes") processes = next();
    else if (a == "--cpus") cpus = next();
    else if (a == "--hz") hz = next();
    else if (a == "--pids") pid_pool = next();
    else if (a == "--frame-cache") frame_cache = static_cast<size_t>(next());
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "usage: longrun_sim [--minutes N] [--processes N] [--cpus N] [--hz N] [--pids N] [--frame-cache ENTRIES] [PROGRAM...]\n");
      return 2;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) paths = {GOLENS_LONGRUN_PROGRAM_A, GOLENS_LONGRUN_PROGRAM_B};
  if (minutes < 2 || processes < 1 || cpus < 1 || hz < 1 || pid_pool < 1) {
    std::fprintf(stderr, "longrun_sim: --minutes must be at least 2, the others at least 1\n");
    return 2;
  }

  std::mt19937_64 rng(7);
  std::vector<Program> programs;
  for (const auto& p : paths) programs.push_back(LoadProgram(p, rng));

  SimProc proc;
  BinaryRegistry binaries;
  RecorderOptions options;
  options.attributes.goroutine = true;
  Recorder recorder(options, &proc, &binaries);
  FrameCache frames(frame_cache);

  const uint64_t ticks_per_s = ClockTicksPerSecond();
  const int64_t total_ms = int64_t{minutes} * 60000;
  const int64_t tick_ms = 1000 / hz ? 1000 / hz : 1;  // one sampling tick on every CPU
  // The supervisor: a long-lived process that forks every child.
  const pid_t parent_pid = 300;
  proc.Run(parent_pid, 100, programs[0].path);
  if (!recorder.Attach(parent_pid, true).ok()) {
    std::fprintf(stderr, "longrun_sim: cannot attach to the simulated parent\n");
    return 1;
  }
  // Children start evenly over the first `minutes - 1` minutes, live 1-8 s.
  const int64_t spawn_every_ms = std::max<int64_t>(1, (total_ms - 60000) / processes);
  std::vector<Child> live;
  std::vector<bool> pid_busy(static_cast<size_t>(pid_pool), false);
  int started = 0, assumed = 0;
  uint64_t fed_interval = 0, fed_total = 0, profiles = 0, profile_samples = 0;
  int64_t next_spawn = 1000;
  Usage first = ReadUsage();
  std::printf("simulated %d min, %d processes (pids reused from a pool of %d), %d CPUs at %d Hz, snapshot every 10 s\n",
              minutes, processes, pid_pool, cpus, hz);
  std::printf("%-6s %9s %9s %9s %8s %8s %6s %6s %9s %8s %8s %6s %8s\n", "minute", "RSS_MB", "HWM_MB", "heap_MB",
              "CPU_s", "started", "live", "bins", "samples", "fc_ent", "fc_hit%", "fc_gen", "bc_ent");
  std::printf("%-6s %9.1f %9.1f %9.1f %8.2f %8d %6zu %6zu %9" PRIu64 " %8s %8s %6s %8s\n", "0",
              static_cast<double>(first.rss_kb) / 1024, static_cast<double>(first.hwm_kb) / 1024,
              static_cast<double>(first.heap_in_use) / (1 << 20), first.cpu_s, 0, recorder.live_processes(),
              binaries.live(), uint64_t{0}, "-", "-", "-", "-");
  SampleRecordBuilder builder;
  uint64_t next_start_ticks = 1000;

  for (int64_t now = 0; now < total_ms; now += tick_ms) {
    // Spawn: FORK from the parent, then EXEC of a Go program. Every 10th
    // child exits before golens reads its /proc (the exec'd file is used).
    if (now >= next_spawn && started < processes) {
      size_t slot = 0;
      while (slot < pid_busy.size() && pid_busy[slot]) ++slot;
      if (slot < pid_busy.size()) {
        pid_busy[slot] = true;
        Child c;
        c.pid = static_cast<pid_t>(1000 + slot);
        c.start_ticks = next_start_ticks;
        next_start_ticks += 1 + static_cast<uint64_t>(spawn_every_ms) * ticks_per_s / 1000;
        c.program = &programs[static_cast<size_t>(started) % programs.size()];
        c.end_ms = now + 1000 + static_cast<int64_t>(rng() % 7000);
        const bool vanishes = started % 10 == 9;
        proc.Run(c.pid, c.start_ticks, programs[0].path);  // forked: the parent's program
        golens_proc_event fork = MakeProcEvent(GOLENS_PROC_EVENT_FORK, static_cast<uint32_t>(c.pid),
                                               TicksToNanos(c.start_ticks));
        fork.parent_tgid = parent_pid;
        fork.parent_start_ns = TicksToNanos(100);
        recorder.OnRecord({reinterpret_cast<const uint8_t*>(&fork), sizeof(fork)});
        if (vanishes) proc.Exit(c.pid);
        else proc.Run(c.pid, c.start_ticks, c.program->path);
        golens_proc_event exec = MakeProcEvent(GOLENS_PROC_EVENT_EXEC, static_cast<uint32_t>(c.pid),
                                               TicksToNanos(c.start_ticks));
        std::snprintf(exec.filename, sizeof(exec.filename), "%s", c.program->path.c_str());
        recorder.OnRecord({reinterpret_cast<const uint8_t*>(&exec), sizeof(exec)});
        if (vanishes) {
          // Its few samples and its exit are already in the ring buffer.
          for (int i = 0; i < 3; ++i) {
            Sample(builder, rng, c, i);
            recorder.OnRecord(builder.bytes());
            ++fed_interval;
          }
          Exit(recorder, c);
          pid_busy[slot] = false;
          ++assumed;
          ++started;
          next_spawn += spawn_every_ms;
          continue;
        }
        live.push_back(c);
        ++started;
        next_spawn += spawn_every_ms;
      }
    }
    // One sampling tick on every CPU: the children share the CPUs; an idle
    // CPU samples the parent half of the time.
    for (int cpu = 0; cpu < cpus; ++cpu) {
      const Child* c = nullptr;
      Child parent{parent_pid, 100, &programs[0], 0};
      if (static_cast<size_t>(cpu) < live.size()) {
        c = &live[(static_cast<size_t>(cpu) + static_cast<size_t>(now / tick_ms)) % live.size()];
      } else if (rng() % 2 == 0) {
        c = &parent;
      }
      if (!c) continue;
      Sample(builder, rng, *c, cpu);
      recorder.OnRecord(builder.bytes());
      ++fed_interval;
    }
    // Exits: EXIT event, the pid is free for the next child.
    for (size_t i = 0; i < live.size();) {
      if (now >= live[i].end_ms) {
        Exit(recorder, live[i]);
        proc.Exit(live[i].pid);
        pid_busy[static_cast<size_t>(live[i].pid - 1000)] = false;
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    const int64_t after = now + tick_ms;
    if (after / 5000 != now / 5000) recorder.CheckLiveness();
    // Snapshot every 10 simulated seconds.
    if (after / 10000 != now / 10000) {
      auto interval = recorder.TakeInterval(WallClockNanos());
      if (interval->total() != fed_interval) {
        std::fprintf(stderr, "longrun_sim: interval has %" PRIu64 " samples, fed %" PRIu64 "\n", interval->total(),
                     fed_interval);
        return 1;
      }
      CpuProfileOptions profile_options;
      profile_options.hz = hz;
      profile_options.frames = &frames;
      pprof::Profile profile = BuildCpuProfile(*interval, profile_options);
      uint64_t total = 0;
      for (const auto& s : profile.samples) total += static_cast<uint64_t>(s.values.at(0));
      if (total != fed_interval) {
        std::fprintf(stderr, "longrun_sim: profile has %" PRIu64 " samples, fed %" PRIu64 "\n", total, fed_interval);
        return 1;
      }
      fed_total += fed_interval;
      profile_samples += total;
      fed_interval = 0;
      ++profiles;
    }
    if (after / 60000 != now / 60000) {
      Usage u = ReadUsage();
      FrameCache::Stats fs = frames.stats();
      const double lookups = static_cast<double>(fs.hits + fs.misses);
      std::printf("%-6" PRId64 " %9.1f %9.1f %9.1f %8.2f %8d %6zu %6zu %9" PRIu64 " %8zu %8.1f %6" PRIu64 " %8zu\n",
                  after / 60000, static_cast<double>(u.rss_kb) / 1024, static_cast<double>(u.hwm_kb) / 1024,
                  static_cast<double>(u.heap_in_use) / (1 << 20), u.cpu_s, started, recorder.live_processes(),
                  binaries.live(), fed_total, fs.entries, lookups > 0 ? 100.0 * static_cast<double>(fs.hits) / lookups : 0.0,
                  fs.generations_dropped, proc.cache.stats().entries);
      std::fflush(stdout);
    }
  }
  // Everything exits; the last partial interval is written.
  for (const Child& c : live) Exit(recorder, c);
  live.clear();
  fed_total += recorder.TakeInterval(WallClockNanos())->total();
  RecorderStats s = recorder.stats();
  std::printf("end: %d processes started (%d exited before /proc was read), %" PRIu64 " snapshots, %" PRIu64
              " samples in profiles; recorder: samples %" PRIu64 " unknown_process %" PRIu64 " malformed %" PRIu64
              " leaf_restored %" PRIu64 " stacks_cut %" PRIu64 " maps_reads %" PRIu64 " unreadable %" PRIu64
              " assumed %" PRIu64 " seen %" PRIu64 " live %zu; binaries live %zu (parent's only)\n",
              started, assumed, profiles, profile_samples, s.samples, s.unknown_process, s.malformed, s.leaf_restored,
              s.stacks_cut, s.maps_reads, s.unreadable_programs, s.assumed_programs, s.processes_seen,
              s.processes_live, binaries.live());
  if (started != processes || s.samples != fed_total || s.unknown_process != 0 || s.malformed != 0) {
    std::fprintf(stderr, "longrun_sim: FAILED (started %d of %d, samples %" PRIu64 " vs fed %" PRIu64 ")\n", started,
                 processes, s.samples, fed_total);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace golens::profiler

int main(int argc, char** argv) { return golens::profiler::Main(argc, argv); }
