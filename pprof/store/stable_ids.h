// Profiles as stored: ids that stay the same from one interval to the next.
//
// Our builder numbers functions and locations in first-use order, which
// differs in every interval, so two profiles of one build share names but
// hardly any byte sequence in their function and location tables: a zstd
// dictionary then saves ~25%. With ids derived from content (a location's
// address, a hash of a function's name and file) and tables sorted by them,
// consecutive profiles of a build are nearly the same bytes, and the
// per-build dictionary cuts them to a third of gzip'd pprof (bench/store).
#pragma once

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::store {

// The same profile (same samples, stacks, labels, header) with
//  - function ids: 32-bit hash of (name, system name, file, start line);
//  - location ids: the address when unique and non-zero in the profile,
//    else an id from a separate high range;
//  - mapping ids: 1..n in the given order (mappings[0] stays the main binary);
//  - functions, locations sorted by id, samples by stack.
// Collisions are resolved by probing, so ids are always unique and non-zero.
// A reference to a missing function, location or mapping is kInvalidArgument.
Result<pprof::Profile> WithStableIds(const pprof::Profile& profile);

}  // namespace golens::store
