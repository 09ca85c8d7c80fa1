// "What changed between two deploys": per function, the share of CPU in
// BASE and in NEW, the change in percentage points, and whether that change
// is more than sampling noise.
//
// The test: samples are draws from the program's CPU time, so a function's
// inclusive sample count in a profile of N samples is binomial with its true
// share p. For BASE (a of A) and NEW (b of B) the two-proportion z-test with
// pooled variance gives z = (b/B - a/A) / sqrt(p(1-p)(1/A + 1/B)), p =
// (a+b)/(A+B), and a two-sided p-value. Every function is a test, so the
// p-values are Bonferroni-corrected by the number of functions compared; a
// change is significant when the corrected p-value is below 0.01. A function
// that doubles from 3 to 6 samples out of 1,000 is noise; one that grows from
// 20% to 30% of 5,000 samples is not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pprof/profile.h"

namespace golens::web {

struct RegressionRow {
  std::string function;
  int64_t base_cum = 0;
  int64_t new_cum = 0;
  double base_share = 0;    // cum / total, in percent
  double new_share = 0;
  double delta_points = 0;  // new_share - base_share
  double z = 0;
  double p_value = 1;       // Bonferroni-corrected, capped at 1
  bool significant = false;
};

struct RegressionTable {
  int64_t base_total = 0;
  int64_t new_total = 0;
  size_t functions_compared = 0;
  double alpha = 0.01;
  std::vector<RegressionRow> rows;  // significant growth, significant shrinkage, noise; each by |delta_points|
};

// Compares the default sample type (or `sample_type`) of both profiles.
RegressionTable CompareProfiles(const pprof::Profile& base, const pprof::Profile& current, size_t max_rows = 50,
                                double alpha = 0.01);

// Two-sided p-value of the two-proportion z-test (uncorrected).
double TwoProportionPValue(int64_t a, int64_t total_a, int64_t b, int64_t total_b, double* z = nullptr);

}  // namespace golens::web
