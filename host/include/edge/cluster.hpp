// EdgeCluster: many nodes, each backed by a NodeBackend (edge/node_backend.hpp:
// an EdgeRuntime in this process, or a node of another host); heartbeats,
// least-loaded placement, drain, stale-node detection and health.
//
// Placement and health use only what a node reports (status, capabilities,
// resources, function count, what its backend refuses), never where its
// functions run, so that a node of another host is a node like any other.
//
// Thread-safety: every method may be called from any thread. heartbeat(id)
// and invoke take no lock; control-plane changes (register, deploy, drain,
// heartbeats with usage, stale detection) are serialised.
#pragma once

#include <edge/models.hpp>
#include <edge/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge {

struct ClusterHealth {
  std::size_t total_nodes = 0;
  std::size_t online = 0;
  std::size_t offline = 0;
  std::size_t degraded = 0;
  std::size_t syncing = 0;
  std::size_t maintenance = 0;
  std::size_t healthy_nodes = 0;
  std::size_t overloaded_nodes = 0;
  std::size_t total_functions = 0;  // deployed copies, summed over nodes
  std::uint64_t total_invocations = 0;
  std::uint64_t cold_starts = 0;
  double avg_cpu_percent = 0;
  double avg_memory_percent = 0;
  std::size_t pending_functions = 0;  // functions running on no node, waiting for one to qualify
  std::string status = "empty";       // empty, healthy, degraded, critical

  nlohmann::json to_json() const;
};

// How a function was placed; the cluster remembers it as an intent.
// Pinned: placed by someone else (a controller, through assign), on exactly
// the nodes assigned; this cluster never moves or copies it.
enum class Placement : std::uint8_t { All, LeastLoaded, Pinned };
std::string_view to_string(Placement placement) noexcept;

// A dry run of a placement: where a function would go and, for every node
// that does not qualify, why not ("missing capability 'gpu'", "overloaded",
// "node is maintenance", "full: ...", "not enough memory: ...").
struct PlacementPlan {
  std::vector<std::string> nodes;  // where it would run (one for least-loaded)
  std::vector<std::pair<std::string, std::string>> rejected;  // node id, reason; sorted
  nlohmann::json to_json() const;
};

class NodeBackend;
class PluginStore;
class Sandbox;

struct ClusterOptions {
  // Given to every node's runtime: plugins load by content through it (see
  // edge/plugin_store.hpp). nullptr: runtimes load plugins by path.
  std::shared_ptr<PluginStore> plugin_store;
  // Runs every node's process-isolated functions (edge/sandbox.hpp).
  // nullptr: Sandbox::shared_default(), made when the first one is called.
  std::shared_ptr<Sandbox> sandbox;
};

class EdgeCluster {
 public:
  EdgeCluster();
  explicit EdgeCluster(ClusterOptions options);
  ~EdgeCluster();
  EdgeCluster(const EdgeCluster&) = delete;
  EdgeCluster& operator=(const EdgeCluster&) = delete;

  // Adds a node, or updates the metadata of a known one and keeps its
  // runtime (a restarting node must not lose its functions). Empty id:
  // std::invalid_argument. Pending and deploy_to_all functions that now
  // qualify are placed on it.
  void register_node(EdgeNode node);
  // As above, for a node whose functions run in `backend` (a remote host,
  // see edge/node_backend.hpp) instead of a runtime of its own (nullptr: a
  // runtime of its own, as above). A known node keeps the backend it has
  // and `backend` is dropped.
  void register_node(EdgeNode node, std::unique_ptr<NodeBackend> backend);
  // Removes the node and its runtime; its least-loaded functions move
  // elsewhere (or become pending). False if unknown.
  bool deregister_node(std::string_view node_id);

  // Refreshes the node's heartbeat. An Offline node comes back Online.
  // Unknown id: std::invalid_argument.
  void heartbeat(std::string_view node_id);
  // As above, and records the node's resource usage: an overloaded Online
  // node becomes Degraded, a Degraded one that recovered becomes Online.
  // Invalid figures (NaN, negative, cpu > 100): std::invalid_argument.
  void heartbeat(std::string_view node_id, const ResourceUsage& usage);

  // Deploys to every Online or Degraded node that can run it and has room
  // (or already runs it), and remembers the intent for nodes that come later.
  // Returns how many nodes run it now. Invalid function: DeploymentError.
  int deploy_to_all(const EdgeFunction& function);
  // Deploys to the one least-loaded qualifying node (replacing any earlier
  // placement of the same id). Returns its id, or nullopt when none
  // qualifies; the function then stays pending until one does.
  std::optional<std::string> deploy_least_loaded(const EdgeFunction& function);
  // Where `function` would be placed now, changing nothing; for Pinned,
  // every node an assign would accept. Invalid function: DeploymentError.
  PlacementPlan plan(const EdgeFunction& function, Placement placement) const;
  // Runs `function` on `node_id`, as decided elsewhere (a controller): a
  // Pinned intent whose nodes are exactly the ones assigned. Assigning again
  // replaces the copy (a new version) when the definition changed (compared
  // as EdgeFunction::to_json); the cluster keeps one definition per function,
  // so every other assigned copy is replaced too. Unknown node:
  // std::invalid_argument; a function of the same id placed another way, or
  // a node that cannot run it or is full: DeploymentError. The node's status
  // is not checked: whoever assigns decides. Drain and deregister take a
  // pinned copy off the node; a stale node keeps it (nothing is moved).
  void assign(const EdgeFunction& function, std::string_view node_id);
  // Takes a Pinned function off one node; the intent goes with its last
  // node. False if it was not assigned there (unknown node or function, or
  // placed another way).
  bool unassign(std::string_view function_id, std::string_view node_id);
  // Adopts a placement decided before (a controller rebuilding its view from
  // its desired state after a restart): the function runs on those of
  // `node_ids` that are registered, in service (Online, Degraded, Syncing)
  // and do not refuse it; a copy a node already runs is kept as it is (no
  // new version, nothing moves). LeastLoaded keeps the least loaded of them
  // (and takes it off the others), or is placed anew when none is left; All
  // also goes to every other qualifying node; Pinned runs on exactly them.
  // Invalid function: DeploymentError.
  void restore(const EdgeFunction& function, Placement placement,
               const std::vector<std::string>& node_ids);
  // Forgets the function everywhere (intent included). False if unknown.
  bool remove_function(std::string_view function_id);
  // Makes every copy of the function a new version of the same definition
  // on the same nodes (a plugin file changed): calls in flight finish on the
  // old code, the next call on each node is a cold start. The plugin file
  // need not exist now (its cold start then fails). Returns how many copies
  // were replaced; 0 if the function is unknown or pending.
  std::size_t redeploy(std::string_view function_id);
  // As redeploy, unless every copy already runs (warm) the plugin content
  // with this SHA-256: a plugin file changed to `sha256`, and only copies
  // running something else need a new version. Copies not loaded yet are
  // replaced too (free: nothing was loaded), so that a cold start racing
  // with the change cannot leave old code warm.
  std::size_t redeploy_unless_running(std::string_view function_id, std::string_view sha256);

  // Puts the node in Maintenance and empties it (see the spec): least-loaded
  // functions are re-placed first, deploy_to_all ones removed; waits for
  // calls in flight. False if unknown.
  bool drain_node(std::string_view node_id);
  // Returns a drained node to Online and re-applies deploy_to_all intents.
  bool resume_node(std::string_view node_id);

  // Nodes (not in Maintenance) whose last heartbeat is older than
  // timeout_seconds, sorted. They become Offline and their least-loaded
  // functions fail over. Negative or non-finite timeout: std::invalid_argument.
  std::vector<std::string> detect_stale_nodes(double timeout_seconds);

  ClusterHealth health() const;

  std::optional<EdgeNode> node(std::string_view node_id) const;
  std::vector<EdgeNode> nodes() const;  // sorted by id
  // The node's runtime, or nullptr. Valid while the node is registered; code
  // inside the host that may race with deregister_node holds an EpochGuard
  // (host/src/concurrency/epoch.hpp) while it uses the pointer.
  // nullptr too for a node whose functions run elsewhere (a remote backend).
  EdgeRuntime* runtime(std::string_view node_id);
  // The functions deployed on the node, sorted; empty if the node is unknown.
  std::vector<std::string> functions_on(std::string_view node_id) const;
  // Ids of the nodes running the function, sorted.
  std::vector<std::string> nodes_running(std::string_view function_id) const;
  // Ids of every function the cluster knows (deployed or pending), sorted.
  std::vector<std::string> function_ids() const;
  // The function's definition and intent, if known.
  std::optional<EdgeFunction> function(std::string_view function_id) const;
  std::optional<Placement> placement(std::string_view function_id) const;
  // The function's stats on every node running it (node id, stats), sorted
  // by node id: where it is warm, which plugin hash each copy runs, why a
  // copy fails to load. Empty if unknown or pending.
  std::vector<std::pair<std::string, FunctionStats>> function_stats(
      std::string_view function_id) const;

  // The store every runtime loads plugins through, or nullptr.
  const std::shared_ptr<PluginStore>& plugin_store() const noexcept;

  // Calls running now, summed over every node (see EdgeRuntime::in_flight;
  // calls still running on a node deregistered meanwhile are not counted).
  std::int64_t in_flight() const;
  // Polls until no call is running or `timeout` has passed; true if idle.
  // For a graceful shutdown: stop accepting calls first, then wait, then
  // destroy the cluster (which runs every plugin's shutdown hook).
  bool wait_for_idle(std::chrono::milliseconds timeout) const;
  // Runs the function on the least-loaded healthy node running it (a
  // Degraded or Syncing one if no healthy one does; never Offline or
  // Maintenance, nor a node whose backend does not serve it yet).
  // Unknown everywhere: std::invalid_argument; known but nowhere servable
  // now: EdgeExecutionError.
  std::string invoke(std::string_view function_id, std::string_view input = {});
  struct RoutedCall {
    std::string node_id;
    EdgeRuntime::CallResult result;
  };
  // Whether a call of the function would find a node now (by the routing
  // rule invoke uses: in service and, for a remote node, holding a verified
  // copy). False for an unknown function.
  bool can_serve(std::string_view function_id) const;
  // A call that the chosen node did not answer (NodeUnavailableError) is
  // tried once more on another node only when the function is idempotent.
  RoutedCall invoke_routed(std::string_view function_id, std::string_view input = {});
  // Runs the function on that node, whatever its load. Unknown node or a
  // node that does not run it: std::invalid_argument.
  RoutedCall invoke_on(std::string_view node_id, std::string_view function_id,
                       std::string_view input = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edge
