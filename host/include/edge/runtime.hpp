// EdgeRuntime: one node's functions, their plugins and their metrics.
//
// Thread-safety: every method may be called from any thread at once. invoke
// takes no lock on its hot path (functions are looked up in a read-mostly
// index protected by epoch-based reclamation, counters are per-thread shards),
// so concurrent invocations scale with cores.
//
// Lifetime: a replaced or undeployed function version stays alive (its plugin
// loaded) until every call that started on it has returned; its plugin's
// shutdown hook then runs and the library is unloaded.
#pragma once

#include <edge/models.hpp>
#include <edge/stats.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

class EdgeRuntime {
 public:
  explicit EdgeRuntime(EdgeNode node);
  ~EdgeRuntime();
  EdgeRuntime(const EdgeRuntime&) = delete;
  EdgeRuntime& operator=(const EdgeRuntime&) = delete;

  // A snapshot of the node this runtime serves.
  EdgeNode node() const;
  // Replaces the node's metadata (used by EdgeCluster); running functions
  // stay deployed even if they would no longer qualify.
  void update_node(const EdgeNode& node);

  // Adds the function, or replaces the deployed one with the same id (a new
  // version: calls in flight finish on the old one, the next call is a cold
  // start). Does not load the plugin. Throws DeploymentError when the
  // function is invalid, cannot run on this node, or the node is full.
  void deploy(EdgeFunction function);
  // Removes the function; false if unknown. Never unloads under a running call.
  bool undeploy(std::string_view function_id);

  // Runs the function. Unknown id: std::invalid_argument. The first call of
  // a function that is not warm loads it (a cold start). Failures throw
  // EdgeExecutionError (PluginError for load failures, TimeoutError when the
  // call took longer than timeout_seconds).
  std::string invoke(std::string_view function_id, std::string_view input = {});

  // The outcome of one call, for callers that need more than the output
  // (the HTTP API reports cold starts and durations).
  struct CallResult {
    std::string output;
    bool cold_start = false;
    std::int64_t duration_ns = 0;
  };
  CallResult invoke_detailed(std::string_view function_id, std::string_view input = {});

  // Loads the function's plugin and runs init without invoking it. False if
  // the id is unknown; throws PluginError if the plugin cannot be loaded.
  bool warm_up(std::string_view function_id);

  bool has_function(std::string_view function_id) const;
  // A copy of the deployed function's definition; std::invalid_argument if unknown.
  EdgeFunction function(std::string_view function_id) const;
  // Ids of the deployed functions, sorted.
  std::vector<std::string> function_ids() const;

  FunctionStats get_function_stats(std::string_view function_id) const;
  RuntimeSummary summary() const;

  std::size_t function_count() const;
  std::uint64_t total_invocations() const;
  std::uint64_t cold_start_count() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edge
