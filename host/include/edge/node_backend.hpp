// NodeBackend: what EdgeCluster needs from the place where a node's functions
// run. Two kinds exist: a LocalNode (an EdgeRuntime in this process, see
// host/src/cluster/local_node.hpp) and a RemoteNode (a node of another
// edge-host, reached over NATS; host/src/fleet/remote_node.hpp).
//
// Placement, drain, stale detection and health never ask which kind a node
// is: they read what every backend reports.
//
// Thread-safety: deploy, undeploy and update_node are called with the
// cluster's lock held, one at a time, and must not call back into the
// cluster (a remote backend queues its network writes instead of waiting for
// them). invoke and the read-only calls may be called from any thread at once.
#pragma once

#include <edge/models.hpp>
#include <edge/runtime.hpp>
#include <edge/stats.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

class NodeBackend {
 public:
  virtual ~NodeBackend() = default;
  NodeBackend() = default;
  NodeBackend(const NodeBackend&) = delete;
  NodeBackend& operator=(const NodeBackend&) = delete;

  // The node's metadata changed (status, resources, capabilities).
  virtual void update_node(const EdgeNode& node) = 0;
  // Adds the function, or replaces the copy with the same id by a new version.
  // The cluster validated the definition; a plugin file gone since then fails
  // the copy's first call, not the deploy.
  virtual void deploy(const EdgeFunction& function) = 0;
  // Removes the function; a no-op for an unknown id.
  virtual void undeploy(std::string_view function_id) = 0;

  virtual bool has_function(std::string_view function_id) const = 0;
  virtual std::size_t function_count() const = 0;
  virtual std::vector<std::string> function_ids() const = 0;  // sorted
  // Unknown id: stats with only function_id set.
  virtual FunctionStats function_stats(std::string_view function_id) const = 0;
  virtual std::uint64_t total_invocations() const = 0;
  virtual std::uint64_t cold_start_count() const = 0;
  virtual std::int64_t in_flight() const = 0;

  // Why this node must not be given the function now (its plugin failed
  // verification there), or nullopt. Placement skips a node that refuses.
  virtual std::optional<std::string> refusal(std::string_view /*function_id*/) const {
    return std::nullopt;
  }
  // Whether a call of the function can be sent here now: false while the
  // node is still fetching the function's plugin. Invoke routing prefers
  // nodes that serve.
  virtual bool serves(std::string_view /*function_id*/) const { return true; }

  // Runs one call. Unknown function id: std::invalid_argument. A node that
  // did not answer in time, or cannot be reached: NodeUnavailableError. The
  // function's own failures: the EdgeExecutionError family, as EdgeRuntime.
  virtual EdgeRuntime::CallResult invoke(std::string_view function_id, std::string_view input) = 0;

  // The runtime when the node runs in this process, else nullptr.
  virtual EdgeRuntime* local_runtime() noexcept { return nullptr; }
};

}  // namespace edge
