#include <edge/stats.hpp>

#include <nlohmann/json.hpp>

namespace edge {

nlohmann::json FunctionStats::to_json() const {
  nlohmann::json json = {{"function_id", function_id},
                         {"invocations", invocations},
                         {"errors", errors},
                         {"timeouts", timeouts},
                         {"cold_starts", cold_starts},
                         {"in_flight", in_flight},
                         {"avg_duration_ms", avg_duration_ms},
                         {"min_duration_ms", min_duration_ms},
                         {"max_duration_ms", max_duration_ms},
                         {"p50_ms", p50_ms},
                         {"p95_ms", p95_ms},
                         {"p99_ms", p99_ms},
                         {"is_warm", is_warm},
                         {"plugin_sha256", plugin_sha256},
                         {"last_error", last_error},
                         {"quarantined", quarantined},
                         {"quarantine_reason", quarantine_reason},
                         {"quarantine_sha256", quarantine_sha256},
                         {"rejected_replacement_reason", rejected_replacement_reason},
                         {"rejected_replacement_sha256", rejected_replacement_sha256},
                         {"isolation", isolation}};
  if (isolation != "process") return json;
  json["sandbox"] = {{"memory_limit", memory_limit},
                     {"workers", workers},
                     {"worker_starts", worker_starts},
                     {"timeout_kills", timeout_kills},
                     {"oom_kills", oom_kills},
                     {"crashes", crashes},
                     {"breaker_rejections", breaker_rejections},
                     {"breaker", breaker},
                     {"breaker_retry_after_seconds", breaker_retry_after_seconds}};
  return json;
}

nlohmann::json RuntimeSummary::to_json() const {
  nlohmann::json functions_json = nlohmann::json::array();
  for (const FunctionStats& stats : functions) functions_json.push_back(stats.to_json());
  return {{"node_id", node_id},
          {"function_count", function_count},
          {"total_invocations", total_invocations},
          {"cold_start_count", cold_start_count},
          {"total_errors", total_errors},
          {"functions", std::move(functions_json)}};
}

}  // namespace edge
