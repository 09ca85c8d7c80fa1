#include "profiler/overhead_budget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace golens::profiler {
namespace {

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%%", fraction * 100);
  return buf;
}

}  // namespace

OverheadBudget::OverheadBudget(double max_fraction, BudgetState configured, int calm_intervals)
    : max_(max_fraction), configured_(configured), current_(configured), calm_needed_(std::max(1, calm_intervals)) {}

BudgetState OverheadBudget::Update(double cost, std::string* reason) {
  BudgetState next = current_;
  // Cost per Hz from the last two intervals when their rates differ (and the
  // cost went the way the rate did); otherwise all of the cost scales.
  double per_hz = cost / std::max(1, current_.hz);
  if (last_hz_ > 0 && last_hz_ != current_.hz) {
    double slope = (last_cost_ - cost) / (last_hz_ - current_.hz);
    if (slope > 0) per_hz = std::min(per_hz, slope);
  }
  const double fixed = std::max(0.0, cost - per_hz * current_.hz);
  last_hz_ = current_.hz;
  last_cost_ = cost;
  if (cost > max_) {
    calm_ = 0;
    if (current_.hz > 1) {
      // The rate that fits 80 % of the budget under the model; when the
      // model says none does (its fixed part is noisy from two points),
      // halve instead: the measurement decides again next interval.
      int fitted = static_cast<int>(std::floor((0.8 * max_ - fixed) / per_hz));
      next.hz = fitted >= 1 ? std::min(fitted, current_.hz - 1) : std::max(1, current_.hz / 2);
      *reason = "cost " + Percent(cost) + " over the budget " + Percent(max_) + ": sampling " +
                std::to_string(current_.hz) + " -> " + std::to_string(next.hz) + " Hz";
    } else if (current_.map_probes) {
      next.map_probes = false;
      *reason = "cost " + Percent(cost) + " over the budget " + Percent(max_) + " at 1 Hz: map lookup probes off";
    } else if (current_.spans) {
      next.spans = false;
      *reason = "cost " + Percent(cost) + " over the budget " + Percent(max_) + " at 1 Hz: span probes off";
    } else if (!unreachable_) {
      unreachable_ = true;
      *reason = "cost " + Percent(cost) + " stays over the budget " + Percent(max_) +
                " at 1 Hz without probes: about " + Percent(fixed) +
                " does not depend on the sampling rate (storing the profiles of many processes)";
    }
  } else if (cost < max_ / 2) {
    unreachable_ = false;
    if (++calm_ >= calm_needed_ && !(current_ == configured_)) {
      calm_ = 0;
      if (configured_.spans && !current_.spans) {
        next.spans = true;
        *reason = "cost " + Percent(cost) + " under half the budget: span probes on again";
      } else if (configured_.map_probes && !current_.map_probes) {
        next.map_probes = true;
        *reason = "cost " + Percent(cost) + " under half the budget: map lookup probes on again";
      } else if (current_.hz < configured_.hz) {
        next.hz = std::min(configured_.hz, current_.hz * 2);
        *reason = "cost " + Percent(cost) + " under half the budget: sampling " + std::to_string(current_.hz) +
                  " -> " + std::to_string(next.hz) + " Hz";
      }
    }
  } else {
    calm_ = 0;
  }
  current_ = next;
  return next;
}

}  // namespace golens::profiler
