#include "bench/flame/profile_generator.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pprof/builder.h"

namespace golens::bench {

pprof::Profile GenerateProfile(const GeneratorOptions& options) {
  std::mt19937_64 rng(options.seed);
  pprof::ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  pprof::Profile& h = b.header();
  h.period_type = {"cpu", "nanoseconds"};
  h.period = 10'000'000;
  h.duration_nanos = 60'000'000'000;
  pprof::Mapping exe;
  exe.memory_start = 0x400000;
  exe.memory_limit = 0x2000000;
  exe.filename = "/usr/local/bin/service";
  exe.build_id = "5eed5eed5eed5eed";
  exe.has_functions = exe.has_filenames = exe.has_line_numbers = exe.has_inline_frames = true;
  uint64_t exe_id = b.AddMapping(exe);
  pprof::Mapping kernel;
  kernel.filename = "[kernel]";
  kernel.has_functions = true;
  uint64_t kernel_id = b.AddMapping(kernel);

  // Locations: Go user functions, runtime, map lookups, kernel, a few with an inlined callee.
  std::vector<uint64_t> user, runtime, kernel_locs;
  uint64_t address = 0x401000;
  auto add_loc = [&](const std::string& name, const std::string& file, uint64_t mapping,
                     const std::string& inlined) {
    std::vector<pprof::Line> lines;
    if (!inlined.empty()) {
      lines.push_back({b.AddFunction(inlined, inlined, file, 5), 7, 0});
    }
    lines.push_back({b.AddFunction(name, name, file, 10), static_cast<int64_t>(20 + address % 200), 0});
    address += 0x40;
    return b.AddLocation(mapping, address, std::move(lines));
  };
  for (int pkg = 0; pkg < 60; ++pkg) {
    for (int fn = 0; fn < 36; ++fn) {
      std::string base = "github.com/acme/service/internal/pkg" + std::to_string(pkg);
      std::string name = base + ".(*Handler" + std::to_string(fn % 6) + ").Method" + std::to_string(fn);
      std::string inl = fn % 9 == 0 ? base + ".helper" + std::to_string(fn) : "";
      user.push_back(add_loc(name, "/src/internal/pkg" + std::to_string(pkg) + "/h.go", exe_id, inl));
    }
  }
  const char* rt_names[] = {"runtime.mallocgc", "runtime.memmove", "runtime.mapaccess2_faststr",
                            "runtime.mapassign_fast64", "internal/runtime/maps.(*Map).getWithKeySmall",
                            "runtime.growslice", "runtime.gcBgMarkWorker", "runtime.scanobject",
                            "runtime.futex", "runtime.nanotime", "runtime.selectgo", "runtime.chansend1"};
  for (const char* n : rt_names) {
    for (int v = 0; v < 8; ++v) runtime.push_back(add_loc(n, "/usr/local/go/src/runtime/x.go", exe_id, ""));
  }
  const char* k_names[] = {"entry_SYSCALL_64", "do_syscall_64", "__x64_sys_write", "ksys_write", "vfs_write",
                           "tcp_sendmsg", "__schedule", "futex_wait"};
  for (const char* n : k_names) kernel_locs.push_back(add_loc(n, "", kernel_id, ""));

  std::uniform_int_distribution<size_t> pick_user(0, user.size() - 1);
  std::uniform_int_distribution<size_t> pick_rt(0, runtime.size() - 1);
  std::uniform_int_distribution<int> depth_dist(8, 36);
  std::uniform_real_distribution<double> unit(0, 1);

  std::set<std::vector<uint64_t>> seen;
  std::vector<std::vector<uint64_t>> stacks;  // root first
  stacks.reserve(options.stacks);
  std::vector<uint64_t> roots;
  for (int i = 0; i < 12; ++i) roots.push_back(user[pick_user(rng)]);
  while (stacks.size() < options.stacks) {
    std::vector<uint64_t> s;
    if (!stacks.empty() && unit(rng) < 0.93) {
      // Share a prefix with an earlier stack: call trees branch.
      const auto& other = stacks[static_cast<size_t>(unit(rng) * static_cast<double>(stacks.size()))];
      size_t keep = static_cast<size_t>(unit(rng) * static_cast<double>(other.size()));
      s.assign(other.begin(), other.begin() + static_cast<std::ptrdiff_t>(std::max<size_t>(keep, 1)));
    } else {
      s.push_back(roots[static_cast<size_t>(unit(rng) * static_cast<double>(roots.size()))]);
    }
    int depth = depth_dist(rng);
    while (static_cast<int>(s.size()) < depth - 3) s.push_back(user[pick_user(rng)]);
    double tail = unit(rng);
    if (tail < 0.45) {
      s.push_back(runtime[pick_rt(rng)]);
      if (unit(rng) < 0.3) s.push_back(runtime[pick_rt(rng)]);
    } else if (tail < 0.55) {
      for (size_t k = 0; k < 3 + static_cast<size_t>(unit(rng) * 4); ++k) {
        s.push_back(kernel_locs[std::min(k, kernel_locs.size() - 1)]);
      }
    }
    if (seen.insert(s).second) stacks.push_back(std::move(s));
  }

  // Zipf-like weights: every stack gets >= 1 sample; totals exact.
  std::shuffle(stacks.begin(), stacks.end(), rng);
  std::vector<double> weight(stacks.size());
  double sum = 0;
  for (size_t i = 0; i < stacks.size(); ++i) sum += weight[i] = 1.0 / std::pow(static_cast<double>(i + 1), 0.8);
  int64_t spare = options.samples - static_cast<int64_t>(stacks.size());
  std::vector<int64_t> counts(stacks.size(), 1);
  int64_t given = 0;
  for (size_t i = 0; i < stacks.size(); ++i) {
    int64_t extra = static_cast<int64_t>(std::floor(static_cast<double>(spare) * weight[i] / sum));
    counts[i] += extra;
    given += extra;
  }
  counts[0] += spare - given;
  std::vector<uint64_t> leaf_first;
  for (size_t i = 0; i < stacks.size(); ++i) {
    leaf_first.assign(stacks[i].rbegin(), stacks[i].rend());
    std::vector<int64_t> values{counts[i], counts[i] * h.period};
    b.AddSample(leaf_first, values);
  }
  return b.Build();
}

}  // namespace golens::bench
