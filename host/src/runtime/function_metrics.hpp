// Per-function counters and a latency histogram, sharded per thread so that
// concurrent calls never write the same cache line. Reading (stats) sums the
// shards; it is not an atomic snapshot, but every counter is exact once calls
// have returned.
#pragma once

#include <edge/stats.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace edge {

// Log-linear bucketing of nanosecond durations: 16 buckets per power of two
// (relative width 1/16, so a percentile is within about 3 % of the truth),
// from 64 ns to about 18 minutes; everything beyond lands in the last bucket.
class LatencyBuckets {
 public:
  static constexpr int kSubBuckets = 16;
  static constexpr int kFirstOctave = 6;  // values below 2^6 ns share bucket 0
  static constexpr int kLastOctave = 40;  // about 1100 s
  static constexpr int kCount = (kLastOctave - kFirstOctave + 1) * kSubBuckets;

  static int index(std::int64_t nanoseconds) noexcept;
  // The midpoint of a bucket, in nanoseconds.
  static double midpoint(int index) noexcept;
  // The upper bound of a bucket, in nanoseconds.
  static double upper_bound(int index) noexcept;
};

// What happened to a process-isolated function's workers. Rare events:
// plain shared atomics, not shards.
struct SandboxCounters {
  std::atomic<std::uint64_t> worker_starts{0};
  std::atomic<std::uint64_t> timeout_kills{0};
  std::atomic<std::uint64_t> oom_kills{0};
  std::atomic<std::uint64_t> crashes{0};
  std::atomic<std::uint64_t> breaker_rejections{0};
};

class FunctionMetrics {
 public:
  static constexpr int kShards = 8;

  // Counts of the function's workers, kept across redeploys like the rest.
  SandboxCounters sandbox;

  // Called around every call, by the calling thread.
  void call_started() noexcept { local().in_flight.fetch_add(1, std::memory_order_relaxed); }
  void call_finished(std::int64_t duration_ns, bool failed, bool timed_out) noexcept;
  // A started call turned away before running (over max_in_flight): counted
  // as a failed invocation, with no duration.
  void call_refused() noexcept;
  void cold_start_done(std::int64_t duration_ns) noexcept;

  struct Totals {
    std::uint64_t invocations = 0;
    std::uint64_t errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t cold_starts = 0;
    std::int64_t in_flight = 0;
  };
  Totals totals() const noexcept;
  // Fills every numeric field of `stats` (function_id and is_warm are the caller's).
  void fill(FunctionStats& stats) const;
  // In-flight calls right now (sums the shards: not for every call).
  std::int64_t in_flight() const noexcept;

 private:
  struct alignas(64) Shard {
    std::atomic<std::uint64_t> invocations{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> cold_starts{0};
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::int64_t> duration_sum_ns{0};
    std::atomic<std::int64_t> min_ns{INT64_MAX};
    std::atomic<std::int64_t> max_ns{0};
    std::array<std::atomic<std::uint64_t>, LatencyBuckets::kCount> buckets{};
    std::atomic<std::int64_t> cold_start_sum_ns{0};
    std::array<std::atomic<std::uint64_t>, LatencyBuckets::kCount> cold_start_buckets{};
  };
  using Counts = std::array<std::uint64_t, LatencyBuckets::kCount>;
  Counts sum_buckets(
      std::array<std::atomic<std::uint64_t>, LatencyBuckets::kCount> Shard::*field) const;
  // Shards are allocated on a thread's first call, so a deployed function
  // that is never called costs a few pointers.
  Shard& local() noexcept;
  static int thread_shard_index() noexcept;

  std::array<std::atomic<Shard*>, kShards> shards_{};

 public:
  FunctionMetrics() = default;
  ~FunctionMetrics();
  FunctionMetrics(const FunctionMetrics&) = delete;
  FunctionMetrics& operator=(const FunctionMetrics&) = delete;
};

}  // namespace edge
