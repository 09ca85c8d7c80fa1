#include "web/server/regression.h"

#include <algorithm>
#include <cmath>

#include "web/server/function_stats.h"

namespace golens::web {

double TwoProportionPValue(int64_t a, int64_t total_a, int64_t b, int64_t total_b, double* z_out) {
  if (z_out) *z_out = 0;
  if (total_a <= 0 || total_b <= 0) return 1;
  double pa = static_cast<double>(a) / total_a;
  double pb = static_cast<double>(b) / total_b;
  double pooled = static_cast<double>(a + b) / static_cast<double>(total_a + total_b);
  double variance = pooled * (1 - pooled) * (1.0 / total_a + 1.0 / total_b);
  if (variance <= 0) return 1;  // both 0% or both 100%: no evidence of change
  double z = (pb - pa) / std::sqrt(variance);
  if (z_out) *z_out = z;
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

RegressionTable CompareProfiles(const pprof::Profile& base, const pprof::Profile& current, size_t max_rows,
                                double alpha) {
  // Counts, not nanoseconds: the test needs numbers of samples. Profiles
  // from golens have "samples" first; others fall back to the default type.
  auto counts_index = [](const pprof::Profile& p) {
    int i = pprof::SampleTypeIndex(p, "samples");
    return i >= 0 ? i : pprof::DefaultSampleTypeIndex(p);
  };
  FunctionStats a = ComputeFunctionStats(base, counts_index(base));
  FunctionStats b = ComputeFunctionStats(current, counts_index(current));
  RegressionTable table;
  table.base_total = a.total;
  table.new_total = b.total;
  table.alpha = alpha;
  std::vector<std::string> names;
  for (const auto& [name, v] : a.functions) names.push_back(name);
  for (const auto& [name, v] : b.functions) {
    if (!a.functions.count(name)) names.push_back(name);
  }
  table.functions_compared = names.size();
  const double tests = std::max<double>(1, static_cast<double>(names.size()));
  for (const std::string& name : names) {
    RegressionRow row;
    row.function = name;
    auto ia = a.functions.find(name);
    auto ib = b.functions.find(name);
    row.base_cum = ia == a.functions.end() ? 0 : ia->second.cum;
    row.new_cum = ib == b.functions.end() ? 0 : ib->second.cum;
    row.base_share = a.total ? 100.0 * row.base_cum / a.total : 0;
    row.new_share = b.total ? 100.0 * row.new_cum / b.total : 0;
    row.delta_points = row.new_share - row.base_share;
    row.p_value = std::min(1.0, TwoProportionPValue(row.base_cum, a.total, row.new_cum, b.total, &row.z) * tests);
    row.significant = row.p_value < alpha;
    table.rows.push_back(std::move(row));
  }
  // Regressions first: significant growth (largest first), then significant
  // shrinkage (largest first), then what is within noise.
  auto rank = [](const RegressionRow& r) { return !r.significant ? 2 : r.delta_points > 0 ? 0 : 1; };
  std::sort(table.rows.begin(), table.rows.end(), [&](const RegressionRow& x, const RegressionRow& y) {
    if (rank(x) != rank(y)) return rank(x) < rank(y);
    double ax = std::fabs(x.delta_points), ay = std::fabs(y.delta_points);
    if (ax != ay) return ax > ay;
    return x.function < y.function;
  });
  if (table.rows.size() > max_rows) table.rows.resize(max_rows);
  return table;
}

}  // namespace golens::web
