// Nearest-rank percentiles of per-iteration latencies, for the benchmarks
// that time each call themselves (Google Benchmark reports means).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace edge::bench {

// The smallest value with at least `fraction` of them at or below it; 0 for none.
inline double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace edge::bench
