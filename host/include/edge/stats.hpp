// Snapshots of a function's and a runtime's counters, as returned by
// EdgeRuntime::get_function_stats and EdgeRuntime::summary.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace edge {

// A cumulative histogram in Prometheus' shape: counts[i] calls took at most
// upper_bounds_seconds[i]; the last bound is +Inf (all calls).
struct LatencyHistogram {
  std::vector<double> upper_bounds_seconds;
  std::vector<std::uint64_t> cumulative_counts;
  double sum_seconds = 0;
  std::uint64_t count = 0;
};

struct FunctionStats {
  std::string function_id;
  std::uint64_t invocations = 0;  // every call, failed or not
  std::uint64_t errors = 0;       // failed calls, timeouts included
  std::uint64_t timeouts = 0;
  std::uint64_t cold_starts = 0;
  std::int64_t in_flight = 0;  // calls running now
  // Durations of completed calls. Percentiles come from a log-linear
  // histogram and are accurate to within about 3 %.
  double avg_duration_ms = 0;
  double min_duration_ms = 0;
  double max_duration_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  bool is_warm = false;
  // SHA-256 of the plugin the deployed version runs; empty until it is loaded
  // (and always without a PluginStore).
  std::string plugin_sha256;
  // Why the deployed version's last cold start failed; empty once loaded.
  std::string last_error;
  // The plugin file's current content is quarantined (it failed its checks
  // or init): every call fails fast until the file's content changes.
  bool quarantined = false;
  std::string quarantine_reason;
  std::string quarantine_sha256;
  // The deployed version is warm, but the plugin file now holds another
  // content that is quarantined: hot reload refused it as a replacement, and
  // this version serves on with its old code. Empty otherwise. (Refusals by
  // pin or signature are not quarantines: edge-host logs them.)
  std::string rejected_replacement_reason;
  std::string rejected_replacement_sha256;
  // "none" or "process". For process isolation, the rest of this block:
  // what enforces memory_mb here ("cgroup v1 memory.limit_in_bytes",
  // "RLIMIT_AS", ...), worker processes alive, and what happened to them.
  std::string isolation = "none";
  std::string memory_limit;
  std::size_t workers = 0;
  std::uint64_t worker_starts = 0;
  std::uint64_t timeout_kills = 0;
  std::uint64_t oom_kills = 0;
  std::uint64_t crashes = 0;
  std::uint64_t breaker_rejections = 0;
  // The crash circuit breaker: "closed", "open" (calls fail fast) or
  // "half-open" (the next call is a trial); seconds until an open one lets a
  // trial through.
  std::string breaker = "closed";
  double breaker_retry_after_seconds = 0;
  // Every call's duration, and every successful cold start's (load + init;
  // for process isolation: worker start + load + init + the first call).
  LatencyHistogram duration_histogram;
  LatencyHistogram cold_start_histogram;

  nlohmann::json to_json() const;
};

struct RuntimeSummary {
  std::string node_id;
  std::size_t function_count = 0;
  std::uint64_t total_invocations = 0;
  std::uint64_t cold_start_count = 0;
  std::uint64_t total_errors = 0;
  std::vector<FunctionStats> functions;  // sorted by function id

  nlohmann::json to_json() const;
};

}  // namespace edge
