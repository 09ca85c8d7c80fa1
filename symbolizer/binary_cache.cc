// BinaryCache: parsed binaries shared across processes, LRU-bounded.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <list>
#include <mutex>
#include <unordered_map>

#include "profiler/base/scoped_fd.h"
#include "symbolizer/binary_internal.h"
#include "symbolizer/symbolizer.h"

namespace golens::symbolizer {
namespace {

std::string StatKey(const struct stat& st) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%" PRIu64 ":%" PRIu64 ":%" PRId64 ":%" PRId64 ".%09ld",
                static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
                st.st_mtim.tv_nsec);
  return buf;
}

}  // namespace

struct BinaryCache::Impl {
  struct Entry {
    std::shared_ptr<const Binary> binary;
    std::list<std::string>::iterator lru;  // position in `lru`
  };

  size_t max_binaries;
  mutable std::mutex mu;
  std::unordered_map<std::string, Entry> entries;          // primary key -> binary
  std::unordered_map<std::string, std::string> by_stat;    // dev:inode:size:mtime -> primary key
  std::list<std::string> lru;                              // most recent first
  Stats stats;

  // Caller holds mu.
  std::shared_ptr<const Binary> Lookup(const std::string& stat_key) {
    auto s = by_stat.find(stat_key);
    if (s == by_stat.end()) return nullptr;
    auto e = entries.find(s->second);
    if (e == entries.end()) {
      by_stat.erase(s);
      return nullptr;
    }
    lru.splice(lru.begin(), lru, e->second.lru);
    return e->second.binary;
  }

  // Caller holds mu. Returns the cached binary for the same build ID if there is one.
  std::shared_ptr<const Binary> Insert(const std::string& stat_key, std::shared_ptr<const Binary> binary) {
    std::string key = binary->build_id().empty() ? "file:" + stat_key : "id:" + binary->build_id();
    by_stat[stat_key] = key;
    auto e = entries.find(key);
    if (e != entries.end()) {
      lru.splice(lru.begin(), lru, e->second.lru);
      return e->second.binary;  // same build ID seen through another file
    }
    lru.push_front(key);
    entries.emplace(key, Entry{binary, lru.begin()});
    while (entries.size() > max_binaries && !lru.empty()) {
      const std::string victim = lru.back();
      lru.pop_back();
      entries.erase(victim);
      ++stats.evictions;
      for (auto it = by_stat.begin(); it != by_stat.end();) {
        if (it->second == victim)
          it = by_stat.erase(it);
        else
          ++it;
      }
    }
    return binary;
  }

  Result<std::shared_ptr<const Binary>> GetVdso(pid_t pid, const Mapping& mapping);

  Result<std::shared_ptr<const Binary>> Get(const std::string& open_path, const std::string& display) {
    struct stat st {};
    if (::stat(open_path.c_str(), &st) != 0) return ErrnoError("stat " + display);
    const std::string stat_key = StatKey(st);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (auto hit = Lookup(stat_key)) {
        ++stats.hits;
        return hit;
      }
      ++stats.misses;
    }
    // Parse outside the lock: it can take a while for large binaries.
    auto parsed = OpenBinaryAs(open_path, display);
    if (!parsed.ok()) return parsed.error();
    std::lock_guard<std::mutex> lock(mu);
    return Insert(stat_key, std::move(parsed).value());
  }
};

BinaryCache::BinaryCache(size_t max_binaries) : impl_(std::make_unique<Impl>()) {
  impl_->max_binaries = max_binaries == 0 ? 1 : max_binaries;
}

BinaryCache::~BinaryCache() = default;

Result<std::shared_ptr<const Binary>> BinaryCache::GetForPath(const std::string& path) {
  return impl_->Get(path, path);
}

// The vDSO has no file: read its image from the process (it is the same for
// every process of one kernel, so the bytes' hash is a good cache key).
Result<std::shared_ptr<const Binary>> BinaryCache::Impl::GetVdso(pid_t pid, const Mapping& mapping) {
  const uint64_t size = mapping.end - mapping.start;
  if (size == 0 || size > (64u << 10)) return MakeError("[vdso]: unexpected size");
  const std::string mem = "/proc/" + std::to_string(pid) + "/mem";
  ScopedFd fd(::open(mem.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + mem);
  std::vector<uint8_t> bytes(size);
  if (::pread(fd.get(), bytes.data(), size, static_cast<off_t>(mapping.start)) != static_cast<ssize_t>(size))
    return ErrnoError("read [vdso] from " + mem);
  uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (uint8_t b : bytes) hash = (hash ^ b) * 1099511628211ull;
  char key[64];
  std::snprintf(key, sizeof key, "vdso:%" PRIx64 ":%" PRIu64, hash, size);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto hit = Lookup(key)) {
      ++stats.hits;
      return hit;
    }
    ++stats.misses;
  }
  auto parsed = Binary::FromBytes(std::move(bytes), "[vdso]");
  if (!parsed.ok()) return parsed.error();
  std::lock_guard<std::mutex> lock(mu);
  return Insert(key, std::move(parsed).value());
}

Result<std::shared_ptr<const Binary>> BinaryCache::GetForMapping(pid_t pid, const Mapping& mapping) {
  if (mapping.path == "[vdso]") return impl_->GetVdso(pid, mapping);
  if (mapping.path.empty() || mapping.path[0] != '/')
    return MakeError("mapping " + (mapping.path.empty() ? std::string("[anon]") : mapping.path) +
                     " is not backed by a file");
  char range[64];
  std::snprintf(range, sizeof range, "%" PRIx64 "-%" PRIx64, mapping.start, mapping.end);
  const std::string proc = "/proc/" + std::to_string(pid);
  // The exact file the process mapped, even if deleted or replaced on disk.
  auto r = impl_->Get(proc + "/map_files/" + range, mapping.path);
  if (r.ok()) return r;
  // Through the process's root: the same file for most processes, the container's for others.
  auto r2 = impl_->Get(proc + "/root" + mapping.path, mapping.path);
  if (r2.ok()) return r2;
  // Both failed (often: not root, so no map_files): say what was tried.
  return MakeError(mapping.path + ": via /proc/" + std::to_string(pid) + "/map_files: " + r.error().message +
                   "; via /proc/" + std::to_string(pid) + "/root: " + r2.error().message);
}

BinaryCache::Stats BinaryCache::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stats s = impl_->stats;
  s.entries = impl_->entries.size();
  return s;
}

}  // namespace golens::symbolizer
