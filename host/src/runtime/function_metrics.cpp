#include "runtime/function_metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace edge {

int LatencyBuckets::index(std::int64_t nanoseconds) noexcept {
  if (nanoseconds < (std::int64_t{1} << kFirstOctave)) return 0;
  const auto value = static_cast<std::uint64_t>(nanoseconds);
  const int octave = 63 - std::countl_zero(value);
  if (octave > kLastOctave) return kCount - 1;
  // The 4 bits below the leading one pick the sub-bucket.
  const int sub = static_cast<int>((value >> (octave - 4)) & (kSubBuckets - 1));
  return (octave - kFirstOctave) * kSubBuckets + sub;
}

double LatencyBuckets::upper_bound(int index) noexcept {
  const int octave = index / kSubBuckets + kFirstOctave;
  const int sub = index % kSubBuckets;
  return std::ldexp(1.0 + (sub + 1) / static_cast<double>(kSubBuckets), octave);
}

double LatencyBuckets::midpoint(int index) noexcept {
  const int octave = index / kSubBuckets + kFirstOctave;
  const int sub = index % kSubBuckets;
  return std::ldexp(1.0 + (sub + 0.5) / static_cast<double>(kSubBuckets), octave);
}

FunctionMetrics::~FunctionMetrics() {
  for (auto& shard : shards_) delete shard.load(std::memory_order_relaxed);
}

namespace {

// Live threads get distinct shard indices: each claims the lowest free bit of
// a process-wide mask and frees it when it exits. (A plain counter would let
// two live threads, e.g. the 3rd and the 11th ever started, share a shard and
// bounce its cache line.) Past 64 live threads indices repeat, which only
// costs speed.
class ShardLease {
 public:
  ShardLease() {
    std::uint64_t used = mask().load(std::memory_order_relaxed);
    for (;;) {
      if (~used == 0) {
        bit_ = -1;
        index_ = static_cast<int>(overflow().fetch_add(1, std::memory_order_relaxed));
        return;
      }
      const int bit = std::countr_one(used);
      if (mask().compare_exchange_weak(used, used | (std::uint64_t{1} << bit),
                                       std::memory_order_acq_rel)) {
        bit_ = bit;
        index_ = bit;
        return;
      }
    }
  }
  ~ShardLease() {
    if (bit_ >= 0) mask().fetch_and(~(std::uint64_t{1} << bit_), std::memory_order_acq_rel);
  }
  ShardLease(const ShardLease&) = delete;
  ShardLease& operator=(const ShardLease&) = delete;
  int index() const noexcept { return index_; }

 private:
  static std::atomic<std::uint64_t>& mask() {
    static std::atomic<std::uint64_t> used{0};
    return used;
  }
  static std::atomic<unsigned>& overflow() {
    static std::atomic<unsigned> next{0};
    return next;
  }
  int bit_ = -1;
  int index_ = 0;
};

}  // namespace

int FunctionMetrics::thread_shard_index() noexcept {
  thread_local const ShardLease lease;
  return lease.index() % kShards;
}

FunctionMetrics::Shard& FunctionMetrics::local() noexcept {
  std::atomic<Shard*>& slot = shards_[static_cast<std::size_t>(thread_shard_index())];
  Shard* shard = slot.load(std::memory_order_acquire);
  if (shard != nullptr) [[likely]] {
    return *shard;
  }
  // Recording is noexcept (it runs on every call's path): failing to find
  // memory for a shard once per thread and function terminates, like any
  // allocation failure in a noexcept function.
  // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new)
  auto* fresh = new Shard();
  if (slot.compare_exchange_strong(shard, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;  // another thread of the same shard index won
  return *shard;
}

void FunctionMetrics::call_finished(std::int64_t duration_ns, bool failed,
                                    bool timed_out) noexcept {
  Shard& shard = local();
  shard.in_flight.fetch_sub(1, std::memory_order_relaxed);
  shard.invocations.fetch_add(1, std::memory_order_relaxed);
  if (failed) shard.errors.fetch_add(1, std::memory_order_relaxed);
  if (timed_out) shard.timeouts.fetch_add(1, std::memory_order_relaxed);
  shard.duration_sum_ns.fetch_add(duration_ns, std::memory_order_relaxed);
  shard.buckets[static_cast<std::size_t>(LatencyBuckets::index(duration_ns))].fetch_add(
      1, std::memory_order_relaxed);
  // min/max change rarely once warm: read first, write only when improved.
  std::int64_t seen = shard.min_ns.load(std::memory_order_relaxed);
  while (duration_ns < seen &&
         !shard.min_ns.compare_exchange_weak(seen, duration_ns, std::memory_order_relaxed)) {
  }
  seen = shard.max_ns.load(std::memory_order_relaxed);
  while (duration_ns > seen &&
         !shard.max_ns.compare_exchange_weak(seen, duration_ns, std::memory_order_relaxed)) {
  }
}

void FunctionMetrics::call_refused() noexcept {
  Shard& shard = local();
  shard.in_flight.fetch_sub(1, std::memory_order_relaxed);
  shard.invocations.fetch_add(1, std::memory_order_relaxed);
  shard.errors.fetch_add(1, std::memory_order_relaxed);
}

FunctionMetrics::Totals FunctionMetrics::totals() const noexcept {
  Totals totals;
  for (const auto& slot : shards_) {
    const Shard* shard = slot.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    totals.invocations += shard->invocations.load(std::memory_order_relaxed);
    totals.errors += shard->errors.load(std::memory_order_relaxed);
    totals.timeouts += shard->timeouts.load(std::memory_order_relaxed);
    totals.cold_starts += shard->cold_starts.load(std::memory_order_relaxed);
    totals.in_flight += shard->in_flight.load(std::memory_order_relaxed);
  }
  return totals;
}

FunctionMetrics::Counts FunctionMetrics::sum_buckets(
    std::array<std::atomic<std::uint64_t>, LatencyBuckets::kCount> Shard::*field) const {
  Counts counts{};
  for (const auto& slot : shards_) {
    const Shard* shard = slot.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      counts[i] += (shard->*field)[i].load(std::memory_order_relaxed);
    }
  }
  return counts;
}

std::int64_t FunctionMetrics::in_flight() const noexcept {
  std::int64_t total = 0;
  for (const auto& slot : shards_) {
    if (const Shard* shard = slot.load(std::memory_order_acquire)) {
      total += shard->in_flight.load(std::memory_order_relaxed);
    }
  }
  return total;
}

void FunctionMetrics::cold_start_done(std::int64_t duration_ns) noexcept {
  Shard& shard = local();
  shard.cold_starts.fetch_add(1, std::memory_order_relaxed);
  shard.cold_start_sum_ns.fetch_add(duration_ns, std::memory_order_relaxed);
  shard.cold_start_buckets[static_cast<std::size_t>(LatencyBuckets::index(duration_ns))].fetch_add(
      1, std::memory_order_relaxed);
}

namespace {

// Prometheus-style bounds, in seconds, from 50 µs (a warm in-process call) to
// 30 s (the default timeout).
constexpr double kHistogramBoundsSeconds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                              0.5,     1,      2.5,     5,      10,    30};

// Folds log-linear buckets into the fixed bounds. A fine bucket counts under
// the first bound at or above its own upper bound, so a call is never counted
// below its true duration (at worst one fine bucket, about 6 %, too high).
LatencyHistogram to_histogram(const std::array<std::uint64_t, LatencyBuckets::kCount>& fine,
                              std::int64_t sum_ns) {
  LatencyHistogram histogram;
  for (double bound : kHistogramBoundsSeconds) histogram.upper_bounds_seconds.push_back(bound);
  histogram.upper_bounds_seconds.push_back(std::numeric_limits<double>::infinity());
  histogram.cumulative_counts.assign(histogram.upper_bounds_seconds.size(), 0);
  for (int i = 0; i < LatencyBuckets::kCount; ++i) {
    const std::uint64_t count = fine[static_cast<std::size_t>(i)];
    if (count == 0) continue;
    const double upper_seconds = LatencyBuckets::upper_bound(i) * 1e-9;
    std::size_t target = 0;
    while (histogram.upper_bounds_seconds[target] < upper_seconds) ++target;
    histogram.cumulative_counts[target] += count;
    histogram.count += count;
  }
  for (std::size_t i = 1; i < histogram.cumulative_counts.size(); ++i) {
    histogram.cumulative_counts[i] += histogram.cumulative_counts[i - 1];
  }
  histogram.sum_seconds = static_cast<double>(sum_ns) * 1e-9;
  return histogram;
}

}  // namespace

void FunctionMetrics::fill(FunctionStats& stats) const {
  const Totals sums = totals();
  stats.invocations = sums.invocations;
  stats.errors = sums.errors;
  stats.timeouts = sums.timeouts;
  stats.cold_starts = sums.cold_starts;
  stats.in_flight = sums.in_flight;

  std::int64_t duration_sum = 0;
  std::int64_t min_ns = INT64_MAX;
  std::int64_t max_ns = 0;
  for (const auto& slot : shards_) {
    const Shard* shard = slot.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    duration_sum += shard->duration_sum_ns.load(std::memory_order_relaxed);
    min_ns = std::min(min_ns, shard->min_ns.load(std::memory_order_relaxed));
    max_ns = std::max(max_ns, shard->max_ns.load(std::memory_order_relaxed));
  }
  std::int64_t cold_start_sum = 0;
  for (const auto& slot : shards_) {
    if (const Shard* shard = slot.load(std::memory_order_acquire)) {
      cold_start_sum += shard->cold_start_sum_ns.load(std::memory_order_relaxed);
    }
  }
  const Counts counts = sum_buckets(&Shard::buckets);
  stats.duration_histogram = to_histogram(counts, duration_sum);
  stats.cold_start_histogram =
      to_histogram(sum_buckets(&Shard::cold_start_buckets), cold_start_sum);
  std::uint64_t recorded = 0;
  for (auto count : counts) recorded += count;
  if (recorded == 0) return;

  constexpr double kMs = 1e-6;
  stats.avg_duration_ms = static_cast<double>(duration_sum) / static_cast<double>(recorded) * kMs;
  stats.min_duration_ms = static_cast<double>(min_ns) * kMs;
  stats.max_duration_ms = static_cast<double>(max_ns) * kMs;
  // The rank-th smallest duration's bucket midpoint, clamped to [min, max].
  const auto percentile = [&](double fraction) {
    const auto rank =
        static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(recorded)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= std::max<std::uint64_t>(rank, 1)) {
        const double value = LatencyBuckets::midpoint(static_cast<int>(i));
        return std::clamp(value, static_cast<double>(min_ns), static_cast<double>(max_ns)) * kMs;
      }
    }
    return static_cast<double>(max_ns) * kMs;
  };
  stats.p50_ms = percentile(0.50);
  stats.p95_ms = percentile(0.95);
  stats.p99_ms = percentile(0.99);
}

}  // namespace edge
