// NEW minus BASE as one pprof, exactly as `go tool pprof -diff_base BASE NEW`
// builds it internally: NEW's samples unchanged, BASE's samples negated and
// labelled pprof::base=true. `go tool pprof -top diff.pb.gz` then orders and
// values like `go tool pprof -top -diff_base BASE NEW` (the label also makes
// pprof use BASE's total as 100%).
#pragma once

#include "pprof/profile.h"
#include "profiler/base/result.h"

namespace golens::pprof {

inline constexpr char kDiffBaseLabel[] = "pprof::base";

// With `normalize`, NEW is first scaled per sample type so its total equals
// BASE's (pprof -normalize: round half away from zero, all-zero samples
// dropped). Sample types are intersected by name in NEW's order; a unit
// mismatch or no common type is an error, as are differing period types.
Result<Profile> DiffProfiles(const Profile& base, const Profile& current, bool normalize);

// Per sample type totals (sum of values).
std::vector<int64_t> SampleTotals(const Profile& profile);

}  // namespace golens::pprof
