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
//
// Plugins load by path, or through a shared PluginStore (edge/plugin_store.hpp)
// when one is given: then by content (a copy named by its SHA-256), with the
// hash shown in the function's stats and bad contents quarantined.
#pragma once

#include <edge/models.hpp>
#include <edge/stats.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

class PluginStore;
class Sandbox;

// Whether a deploy requires the plugin file to exist now. Deferred is for a
// definition accepted earlier and placed again (failover, a new node, a
// hot reload): a file removed since then makes the next cold start fail
// with "plugin file not found" instead of failing the placement.
enum class PluginFileCheck : std::uint8_t { Required, Deferred };

class EdgeRuntime {
 public:
  explicit EdgeRuntime(EdgeNode node);
  // Loads plugins through `plugin_store` (shared: a cluster gives the same
  // store to every runtime); nullptr loads by path, as above.
  EdgeRuntime(EdgeNode node, std::shared_ptr<PluginStore> plugin_store);
  // Runs functions with `isolation: process` in `sandbox`'s workers;
  // nullptr: Sandbox::shared_default(), made when the first one is called.
  EdgeRuntime(EdgeNode node, std::shared_ptr<PluginStore> plugin_store,
              std::shared_ptr<Sandbox> sandbox);
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
  void deploy(EdgeFunction function, PluginFileCheck file_check);
  // Removes the function; false if unknown. Never unloads under a running call.
  bool undeploy(std::string_view function_id);

  // Runs the function. Unknown id: std::invalid_argument. The first call of
  // a function that is not warm loads it (a cold start). Failures throw
  // EdgeExecutionError (PluginError for load failures, TimeoutError when the
  // call took longer than timeout_seconds). Process isolation adds
  // WorkerCrashError, MemoryLimitError, CircuitOpenError and BusyError (all
  // workers busy and the queue full); its timeout kills the worker.
  std::string invoke(std::string_view function_id, std::string_view input = {});

  // The outcome of one call, for callers that need more than the output
  // (the HTTP API reports cold starts and durations).
  struct CallResult {
    std::string output;
    bool cold_start = false;
    std::int64_t duration_ns = 0;
  };
  CallResult invoke_detailed(std::string_view function_id, std::string_view input = {});

  // Loads the function's plugin and runs init without invoking it (process
  // isolation: starts a worker that does). False if the id is unknown;
  // throws PluginError if the plugin cannot be loaded.
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
  // Calls running now, on any version of any function, including functions
  // undeployed while their calls ran. Sums per-thread counters: for polling
  // (graceful shutdown), not for every call.
  std::int64_t in_flight() const;

  // The store plugins load through, or nullptr.
  const std::shared_ptr<PluginStore>& plugin_store() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edge
