// Merging many profiles into one (the store's Merge, `store export`):
// mappings, functions and locations interned by content (pprof/builder.h),
// samples with the same stack and labels summed.
//
// Sample types are matched by type name: the result keeps the types every
// merged profile has (in the first profile's order); the same name with a
// different unit is an error, as is no common type at all. time_nanos is the
// earliest, duration the span covered (earliest start to latest end); period,
// period type, drop/keep frames and doc URL come from the first profile;
// comments are de-duplicated and bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "pprof/profile.h"
#include "pprof/sample_filter.h"
#include "profiler/base/result.h"

namespace golens::pprof {

inline constexpr size_t kMaxMergedComments = 32;

// Incremental: Add profiles one at a time (no need to hold them all), then
// Finish. Cost is linear in the samples and locations added.
class ProfileMerger {
 public:
  ProfileMerger();
  ~ProfileMerger();
  ProfileMerger(const ProfileMerger&) = delete;
  ProfileMerger& operator=(const ProfileMerger&) = delete;

  // Adds `profile`'s samples that pass `filters` (sample_filter.h semantics;
  // empty = all). A unit mismatch with earlier profiles is kInvalidArgument,
  // a dangling or duplicate id kCorrupt; either leaves the merged result as
  // it was.
  Result<void> Add(const Profile& profile, const std::vector<TagFilter>& filters = {});
  // The same for raw (not gzipped) profile.proto bytes, read in place without
  // building a Profile first: ~10x faster than ParsePprof + Add. Malformed
  // bytes are kCorrupt (and change nothing merged so far).
  Result<void> AddSerialized(std::span<const uint8_t> pprof_bytes, const std::vector<TagFilter>& filters = {});
  int64_t profiles() const;
  // The merged profile; no profiles added -> an empty profile.
  // kInvalidArgument when the profiles share no sample type.
  Result<Profile> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// All at once.
Result<Profile> MergeProfiles(std::span<const Profile> profiles);

}  // namespace golens::pprof
