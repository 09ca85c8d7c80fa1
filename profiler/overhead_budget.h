// The agent's overhead budget (--max-overhead): from the cost measured over
// each interval (its own CPU time plus the in-kernel time of its BPF
// programs, as a fraction of the host's CPU capacity: wall time x online
// CPUs), decide what to turn down or up. Pure logic: the agent measures and
// applies; tests drive it with made-up costs.
//
// Turned down in this order: the sampling rate, then deep map mode's lookup
// probes, then the span probes (a uprobe hit costs ~9 us whatever the rate:
// per probed lookup in deep mode's windows, per request with spans). The
// cost is modelled
// as fixed + per_hz x rate (storing profiles costs the same at any rate):
// per_hz comes from the last two (rate, cost) points once the rate has
// changed (at first, all of the cost is taken to scale), and the rate is set
// to what fits 80 % of the budget (halved when the model says no rate fits:
// two noisy points are a weak model). When even 1 Hz without span probes is
// over the budget, the state says the budget cannot be met (logged once). Turned
// up again, in reverse order, after `calm_intervals` intervals under half the
// budget, one step at a time (spans back, then map probes, then the rate
// doubled up to the configured one), so a busy moment does not make it
// oscillate.
#pragma once

#include <string>

namespace golens::profiler {

struct BudgetState {
  int hz = 19;
  bool spans = false;  // span probes attached (only when requested)
  bool map_probes = false;  // deep map mode's probes cycling (only when requested)
  bool operator==(const BudgetState&) const = default;
};

class OverheadBudget {
 public:
  // `max_fraction`: e.g. 0.01 for 1 %. `configured`: what the user asked for.
  OverheadBudget(double max_fraction, BudgetState configured, int calm_intervals = 3);

  // The cost of the interval just ended (fraction of the host's CPU);
  // returns the state to be in now (== current() when nothing changes) and
  // says why in *reason when it changes.
  BudgetState Update(double cost, std::string* reason);
  const BudgetState& current() const { return current_; }
  double max_fraction() const { return max_; }
  // True while the cost that does not scale with the rate is over the budget.
  bool unreachable() const { return unreachable_; }

 private:
  double max_;
  BudgetState configured_;
  BudgetState current_;
  int calm_needed_;
  int calm_ = 0;
  int last_hz_ = 0;  // the rate of the interval before this one, and its cost
  double last_cost_ = 0;
  bool unreachable_ = false;
};

}  // namespace golens::profiler
