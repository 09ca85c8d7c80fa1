// The profile store: embedded, on local disk, no server. Written by the agent
// (one profile per process per interval), read by `golens serve`,
// `golens store export`, tests and benchmarks.
//
// Layout (one directory): `index.db`, a SQLite database in WAL mode holding
// the index (service, build, process identity, time range, label pairs) and
// the profile data itself, zstd-compressed (per-build dictionary, ids made
// stable across intervals), as BLOBs in a table of their own written in the
// same transaction as the index row; see README "Store layout" for why (one
// transaction per profile makes it visible whole or not at all, so kill -9
// never leaves a torn one).
//
// Thread safety: one Store object may be used from several threads (calls
// are serialized inside); several processes may open the same directory (one
// writer at a time, as SQLite allows; readers never block the writer in WAL).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pprof/profile.h"
#include "pprof/sample_filter.h"
#include "profiler/base/result.h"

namespace golens::store {

// Who and when a stored profile is. Times are wall-clock Unix nanoseconds.
struct ProfileMeta {
  int64_t id = 0;            // assigned by Put
  std::string service;       // never empty
  std::string build_id;      // of the main executable ("" when it has none)
  std::string go_version;    // "go1.26.8", "" when not Go or unknown
  std::string exe_path;
  std::string host;
  std::string container_id;  // "" outside containers
  int64_t pid = 0;
  int64_t start_ns = 0;      // interval start
  int64_t end_ns = 0;        // interval end
  int64_t samples = 0;       // sum of the first sample type's values
  int64_t stored_bytes = 0;  // compressed size as stored (set by Put / Select)
};

struct BuildInfo {
  std::string build_id;
  std::string go_version;
  int64_t first_seen_ns = 0;  // earliest start_ns of its profiles
  int64_t last_seen_ns = 0;   // latest end_ns
  int64_t profiles = 0;
  int64_t samples = 0;
};

struct ServiceInfo {
  std::string service;
  std::vector<BuildInfo> builds;  // ordered by first_seen_ns
};

// Which profiles: every field optional; empty = no constraint.
struct Selection {
  std::string service;
  std::string build_id;
  std::optional<int64_t> from_ns;  // profiles whose [start, end) overlaps [from, to)
  std::optional<int64_t> to_ns;
  // Sample-level label filter (pprof/sample_filter.h semantics): profiles are
  // pre-selected by the label pairs recorded for them, then samples filtered.
  std::vector<pprof::TagFilter> tags;
  int64_t limit = 0;  // at most this many profiles (newest first); 0 = no limit
};

struct MergeResult {
  pprof::Profile profile;     // one profile; empty (no samples) when nothing matched
  int64_t profiles = 0;       // merged
  int64_t skipped_corrupt = 0;  // entries that could not be read (each warned once in the log)
};

struct StoreOptions {
  bool read_only = false;
  int zstd_level = 3;
  // Per (service, build) zstd dictionary trained from the first profiles of
  // that build; 0 turns dictionaries off.
  int dictionary_after_profiles = 8;
};

struct PutStats {
  int64_t raw_bytes = 0;     // uncompressed pprof protobuf
  int64_t stored_bytes = 0;  // what went to disk for the data
  bool used_dictionary = false;
};

class Store {
 public:
  // Creates the directory (and parents) and database when missing (unless read_only).
  // kCorrupt when index.db is not a golens store; kPermissionDenied,
  // kResourceExhausted (disk full) as the errors say.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores one profile atomically (one transaction): after a crash it is
  // either wholly there or absent. Disk full -> kResourceExhausted, nothing
  // stored, the store stays usable (a later Put succeeds when space returns).
  // Sets meta.id and meta.stored_bytes on the stored copy; returns the id.
  Result<int64_t> Put(const ProfileMeta& meta, const pprof::Profile& profile, PutStats* stats = nullptr);

  Result<std::vector<ServiceInfo>> ListServices();
  // Label keys and their most frequent values in a selection (for filters in
  // the UI): key -> values, at most `max_values` per key.
  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> LabelValues(const Selection& selection,
                                                                                      size_t max_values = 50);
  // Metadata of matching profiles, ordered by start_ns.
  Result<std::vector<ProfileMeta>> Select(const Selection& selection);
  // One stored profile; kCorrupt when its data cannot be decoded, kNotFound
  // when it was deleted.
  Result<pprof::Profile> Load(int64_t id);
  // All matching profiles merged into one (samples with equal stacks and
  // labels summed; time_nanos = earliest, duration = span covered), with the
  // selection's tag filter applied to samples. Corrupt entries are skipped
  // and counted, never fatal.
  Result<MergeResult> Merge(const Selection& selection);
  // Per matching profile (by id): the sum of its first sample value over the
  // samples that pass the selection's tag filter (the index counts whole
  // profiles only). Read in place, no Profile built; corrupt entries are
  // left out.
  Result<std::map<int64_t, int64_t>> TaggedSampleCounts(const Selection& selection);

  // Deletes profiles that ended before `cutoff_ns`; returns how many.
  Result<int64_t> DeleteEndedBefore(int64_t cutoff_ns);
  // A change counter: differs after any Put or delete (cache key for serve).
  Result<int64_t> Generation();

  const std::string& dir() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace golens::store
