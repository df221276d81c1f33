#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>

#include "cluster/heartbeat_table.hpp"
#include "cluster/placement.hpp"
#include "concurrency/epoch.hpp"
#include "concurrency/read_mostly_map.hpp"
#include "runtime/function_validation.hpp"

#include <time.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

namespace edge {

using concurrency::EpochDomain;
using concurrency::EpochGuard;
using Clock = std::chrono::steady_clock;

namespace {

// Heartbeat times come from the coarse monotonic clock: the same clock as
// steady_clock (CLOCK_MONOTONIC) at a few milliseconds' resolution, read
// without the TSC arithmetic. Staleness is judged in seconds, and heartbeat()
// is the hottest call of a large cluster.
std::int64_t now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// A registered node. The atomics are written under the cluster mutex and read
// lock-free by invoke routing; everything else is guarded by the mutex.
struct NodeEntry {
  NodeEntry(EdgeNode node, const ClusterOptions& options)
      : id(node.id),
        runtime(std::make_unique<EdgeRuntime>(node, options.plugin_store, options.sandbox)),
        meta(std::move(node)) {}

  const std::string id;
  const std::unique_ptr<EdgeRuntime> runtime;
  std::atomic<EdgeNodeStatus> status{EdgeNodeStatus::Online};
  std::atomic<bool> healthy{false};
  std::atomic<double> score{0};
  std::atomic<std::int64_t>* last_heartbeat = nullptr;  // a HeartbeatTable slot

  // Guarded by the cluster mutex.
  EdgeNode meta;
  std::size_t heartbeat_index = 0;
  bool indexed = false;  // in the placement index, under the key below
  double indexed_score = 0;
  std::size_t indexed_count = 0;
};

// Least-loaded order: score, then fewer functions, then id.
struct IndexKey {
  double score;
  std::size_t function_count;
  NodeEntry* entry;
  bool operator<(const IndexKey& other) const {
    if (score != other.score) return score < other.score;
    if (function_count != other.function_count) return function_count < other.function_count;
    return entry->id < other.entry->id;
  }
};

// Where a function runs now, published for lock-free invoke routing.
struct Route {
  std::vector<NodeEntry*> nodes;
};

// What the cluster was asked to do with a function. Guarded by the mutex.
struct Intent {
  EdgeFunction function;
  Placement placement = Placement::All;
  std::vector<NodeEntry*> nodes;  // where it runs; empty least-loaded = pending
};

}  // namespace

std::string_view to_string(Placement placement) noexcept {
  return placement == Placement::All ? "all" : "least_loaded";
}

struct EdgeCluster::State {
  explicit State(ClusterOptions cluster_options) : options(std::move(cluster_options)) {}

  const ClusterOptions options;
  mutable std::mutex mutex;  // serialises every change below
  concurrency::ReadMostlyMap<NodeEntry> nodes;
  concurrency::ReadMostlyMap<Route> routes;
  HeartbeatTable<NodeEntry> heartbeats;                // guarded by mutex
  std::set<IndexKey> placement_index;                  // guarded by mutex
  std::map<std::string, Intent, std::less<>> intents;  // guarded by mutex

  NodeEntry* find(std::string_view node_id) const {
    EpochGuard guard;  // the mutex keeps the entry alive once we return
    return nodes.find(node_id);
  }
  NodeEntry& existing(std::string_view node_id) const {
    NodeEntry* entry = find(node_id);
    if (entry == nullptr)
      throw std::invalid_argument("unknown node '" + std::string(node_id) + "'");
    return *entry;
  }

  NodeLoad load_of(const NodeEntry& entry, std::string_view function_id) const {
    return {entry.meta, entry.runtime->function_count(), entry.runtime->has_function(function_id)};
  }

  // Recomputes a node's published status, health and score, and its place in
  // the placement index. Call after any change to the node or its functions.
  void refresh(NodeEntry& entry) {
    unindex(entry);
    const std::size_t count = entry.runtime->function_count();
    const double score = load_score(entry.meta.resources, count, entry.meta.max_functions);
    entry.status.store(entry.meta.status, std::memory_order_relaxed);
    entry.healthy.store(entry.meta.is_healthy(), std::memory_order_relaxed);
    entry.score.store(score, std::memory_order_relaxed);
    if (entry.meta.is_healthy() &&
        count < static_cast<std::size_t>(std::max(entry.meta.max_functions, 0))) {
      placement_index.insert({score, count, &entry});
      entry.indexed = true;
      entry.indexed_score = score;
      entry.indexed_count = count;
    }
  }

  // Takes the node out of the placement index (before it is freed, too).
  void unindex(NodeEntry& entry) {
    if (entry.indexed) {
      placement_index.erase({entry.indexed_score, entry.indexed_count, &entry});
      entry.indexed = false;
    }
  }

  // The status of a node in service: Degraded while overloaded.
  static EdgeNodeStatus in_service_status(const EdgeNode& node) {
    return node.resources.is_overloaded() ? EdgeNodeStatus::Degraded : EdgeNodeStatus::Online;
  }

  void set_status(NodeEntry& entry, EdgeNodeStatus status) {
    entry.meta.status = status;
    entry.runtime->update_node(entry.meta);
    refresh(entry);
  }

  void publish_route(const std::string& function_id, const Intent& intent) {
    routes.insert_or_replace(function_id, Route{intent.nodes});
  }

  // The least-loaded node that can take `function`, other than `excluded`.
  // A node already running the function competes with its count minus one.
  NodeEntry* choose(const EdgeFunction& function, const Intent* current,
                    const NodeEntry* excluded) {
    NodeEntry* best = nullptr;
    IndexKey best_key{0, 0, nullptr};
    for (const IndexKey& key : placement_index) {
      if (key.entry == excluded) continue;
      const bool runs = current != nullptr &&
                        std::count(current->nodes.begin(), current->nodes.end(), key.entry) != 0;
      if (runs) continue;  // judged below with its adjusted load
      if (!least_loaded_rejection(load_of(*key.entry, function.id), function)) {
        best = key.entry;
        best_key = key;
        break;
      }
    }
    if (current != nullptr) {
      for (NodeEntry* holder : current->nodes) {
        if (holder == excluded || least_loaded_rejection(load_of(*holder, function.id), function))
          continue;
        const std::size_t count = holder->runtime->function_count() - 1;
        const IndexKey key{load_score(holder->meta.resources, count, holder->meta.max_functions),
                           count, holder};
        if (best == nullptr || key < best_key) {
          best = holder;
          best_key = key;
        }
      }
    }
    return best;
  }

  // The cluster's API validated the definition (plugin file included) when
  // it was given; placing it again later must not fail because the file has
  // gone since: that copy's cold start reports it instead.
  void deploy_on(NodeEntry& entry, const EdgeFunction& function) {
    entry.runtime->deploy(function, PluginFileCheck::Deferred);
    refresh(entry);
  }
  void undeploy_from(NodeEntry& entry, std::string_view function_id) {
    entry.runtime->undeploy(function_id);
    refresh(entry);
  }

  // What converge does with a copy already on a target: replace it (a new
  // definition), or keep it warm (the same definition, only nodes change).
  enum class ExistingCopies : std::uint8_t { Replace, Keep };

  // Makes `intent` run on exactly `targets`: deploys (or replaces) there and
  // removes it from every other node, then publishes the route.
  // Order matters for calls in flight: new copies first, then the route,
  // then removal of the old copies, so a call always finds one to run.
  void converge(const std::string& function_id, Intent& intent,
                const std::vector<NodeEntry*>& targets,
                ExistingCopies existing = ExistingCopies::Replace) {
    for (NodeEntry* node : targets) {
      const bool has_copy =
          std::find(intent.nodes.begin(), intent.nodes.end(), node) != intent.nodes.end();
      if (existing == ExistingCopies::Replace || !has_copy) deploy_on(*node, intent.function);
    }
    const std::vector<NodeEntry*> previous = std::exchange(intent.nodes, targets);
    publish_route(function_id, intent);
    for (NodeEntry* node : previous) {
      if (std::find(targets.begin(), targets.end(), node) == targets.end())
        undeploy_from(*node, function_id);
    }
  }

  // Places a least-loaded function anew, avoiding `excluded`; it becomes
  // pending when no node qualifies.
  void place_least_loaded(const std::string& function_id, Intent& intent,
                          const NodeEntry* excluded) {
    NodeEntry* chosen = choose(intent.function, &intent, excluded);
    converge(function_id, intent,
             chosen ? std::vector<NodeEntry*>{chosen} : std::vector<NodeEntry*>{});
  }

  // Gives a node that became able to serve the deploy_to_all functions it
  // qualifies for, and places pending functions anywhere they now fit.
  void apply_intents(NodeEntry& entry) {
    for (auto& [function_id, intent] : intents) {
      if (intent.placement != Placement::All) continue;
      if (std::find(intent.nodes.begin(), intent.nodes.end(), &entry) != intent.nodes.end())
        continue;
      if (deploy_to_all_rejection(load_of(entry, function_id), intent.function)) continue;
      deploy_on(entry, intent.function);
      intent.nodes.push_back(&entry);
      publish_route(function_id, intent);
    }
    place_pending();
  }
  void place_pending() {
    for (auto& [function_id, intent] : intents) {
      if (intent.placement == Placement::LeastLoaded && intent.nodes.empty()) {
        if (NodeEntry* chosen = choose(intent.function, nullptr, nullptr)) {
          converge(function_id, intent, {chosen});
        }
      }
    }
  }

  // Empties a node about to leave service: its least-loaded functions move
  // elsewhere (or become pending); its deploy_to_all functions are removed
  // too when `remove_all_copies`, else left in place. The node is never
  // chosen, whatever its status still says.
  void evacuate(NodeEntry& entry, bool remove_all_copies) {
    for (auto& [function_id, intent] : intents) {
      if (std::find(intent.nodes.begin(), intent.nodes.end(), &entry) == intent.nodes.end())
        continue;
      if (intent.placement == Placement::LeastLoaded) {
        place_least_loaded(function_id, intent, &entry);
      } else if (remove_all_copies) {
        std::vector<NodeEntry*> remaining;
        for (NodeEntry* node : intent.nodes) {
          if (node != &entry) remaining.push_back(node);
        }
        // The other copies stay warm: one node leaving costs no cold starts.
        converge(function_id, intent, remaining, ExistingCopies::Keep);
      }
    }
  }

  EdgeNode snapshot(const NodeEntry& entry) const {
    EdgeNode node = entry.meta;
    node.last_heartbeat =
        Clock::time_point(Clock::duration(entry.last_heartbeat->load(std::memory_order_relaxed)));
    return node;
  }
};

EdgeCluster::EdgeCluster() : EdgeCluster(ClusterOptions{}) {}

EdgeCluster::EdgeCluster(ClusterOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

EdgeCluster::~EdgeCluster() {
  // Callers guarantee that no call is running; runtimes unload their plugins.
  state_.reset();
  if (!EpochGuard::active()) EpochDomain::global().synchronize();
}

void EdgeCluster::register_node(EdgeNode node) {
  if (node.id.empty()) throw std::invalid_argument("cannot register a node with an empty id");
  if (node.name.empty()) node.name = node.id;
  if (!node.resources.is_valid()) {
    throw std::invalid_argument("node '" + node.id + "' reports invalid resource figures");
  }
  {
    std::lock_guard lock(state_->mutex);
    // In service means Online, or Degraded while overloaded, as heartbeats decide.
    if (node.status == EdgeNodeStatus::Online || node.status == EdgeNodeStatus::Degraded) {
      node.status = State::in_service_status(node);
    }
    NodeEntry* entry = state_->find(node.id);
    if (entry != nullptr) {
      // A drain is the operator's decision: re-registering does not undo it.
      if (entry->meta.status == EdgeNodeStatus::Maintenance)
        node.status = EdgeNodeStatus::Maintenance;
      entry->meta = std::move(node);
    } else {
      std::string id = node.id;
      entry = &state_->nodes.insert_or_replace(std::move(id), std::move(node), state_->options);
      entry->heartbeat_index = state_->heartbeats.allocate(entry, now_ns());
      entry->last_heartbeat = &state_->heartbeats.slot(entry->heartbeat_index);
    }
    entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    entry->runtime->update_node(entry->meta);
    state_->refresh(*entry);
    state_->apply_intents(*entry);
  }
  EpochDomain::global().reclaim();
}

bool EdgeCluster::deregister_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    state_->evacuate(*entry, /*remove_all_copies=*/true);
    // The entry is still in the placement index (every refresh, evacuating's
    // too, puts it there): take it out, or a later placement would pick a
    // freed node.
    state_->unindex(*entry);
    state_->heartbeats.release(entry->heartbeat_index);
    state_->nodes.erase(node_id);  // retired: in-flight calls finish first
  }
  EpochDomain::global().reclaim();
  return true;
}

void EdgeCluster::heartbeat(std::string_view node_id) {
  {
    EpochGuard guard;
    NodeEntry* entry = state_->nodes.find(node_id);
    if (entry == nullptr)
      throw std::invalid_argument("heartbeat from unknown node '" + std::string(node_id) + "'");
    if (entry->status.load(std::memory_order_relaxed) != EdgeNodeStatus::Offline) [[likely]] {
      entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
      return;
    }
  }
  // An Offline node is back: the slow path changes its status under the lock.
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry& entry = state_->existing(node_id);
    entry.last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    if (entry.meta.status == EdgeNodeStatus::Offline) {
      state_->set_status(entry, State::in_service_status(entry.meta));
      state_->apply_intents(entry);
    }
  }
  EpochDomain::global().reclaim();
}

void EdgeCluster::heartbeat(std::string_view node_id, const ResourceUsage& usage) {
  if (!usage.is_valid()) {
    throw std::invalid_argument("heartbeat from node '" + std::string(node_id) +
                                "' has invalid resource figures (expected finite, non-negative "
                                "numbers and cpu_percent <= 100)");
  }
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry& entry = state_->existing(node_id);
    entry.last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    const bool was_healthy = entry.meta.is_healthy();
    entry.meta.resources = usage;
    EdgeNodeStatus status = entry.meta.status;
    if (status == EdgeNodeStatus::Offline) status = EdgeNodeStatus::Online;
    if (status == EdgeNodeStatus::Online && usage.is_overloaded())
      status = EdgeNodeStatus::Degraded;
    if (status == EdgeNodeStatus::Degraded && !usage.is_overloaded())
      status = EdgeNodeStatus::Online;
    state_->set_status(entry, status);
    if (!was_healthy && entry.meta.is_healthy()) state_->apply_intents(entry);
  }
  EpochDomain::global().reclaim();
}

int EdgeCluster::deploy_to_all(const EdgeFunction& function) {
  validate_function(function);
  std::size_t placed = 0;
  {
    std::lock_guard lock(state_->mutex);
    Intent& intent = state_->intents[function.id];
    intent.function = function;
    intent.placement = Placement::All;
    std::vector<NodeEntry*> targets;
    state_->nodes.for_each([&](std::string_view, NodeEntry& entry) {
      if (!deploy_to_all_rejection(state_->load_of(entry, function.id), function))
        targets.push_back(&entry);
    });
    state_->converge(function.id, intent, targets);
    placed = targets.size();
  }
  EpochDomain::global().reclaim();
  return static_cast<int>(placed);
}

std::optional<std::string> EdgeCluster::deploy_least_loaded(const EdgeFunction& function) {
  validate_function(function);
  std::optional<std::string> placed;
  {
    std::lock_guard lock(state_->mutex);
    auto [position, inserted] = state_->intents.try_emplace(function.id);
    Intent& intent = position->second;
    intent.function = function;
    intent.placement = Placement::LeastLoaded;
    state_->place_least_loaded(function.id, intent, nullptr);
    if (!intent.nodes.empty()) placed = intent.nodes.front()->id;
  }
  EpochDomain::global().reclaim();
  return placed;
}

PlacementPlan EdgeCluster::plan(const EdgeFunction& function, Placement placement) const {
  validate_function(function);
  PlacementPlan plan;
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function.id);
  const Intent* current = position != state_->intents.end() ? &position->second : nullptr;
  const NodeEntry* best = nullptr;
  IndexKey best_key{0, 0, nullptr};
  state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
    const NodeLoad load = state_->load_of(entry, function.id);
    const auto rejection = placement == Placement::All ? deploy_to_all_rejection(load, function)
                                                       : least_loaded_rejection(load, function);
    if (rejection) {
      plan.rejected.emplace_back(entry.id, *rejection);
      return;
    }
    if (placement == Placement::All) {
      plan.nodes.push_back(entry.id);
      return;
    }
    // As choose(): a node already running it competes without that copy.
    const bool runs =
        current != nullptr && std::count(current->nodes.begin(), current->nodes.end(), &entry) != 0;
    const std::size_t count = load.function_count - (runs ? 1 : 0);
    const IndexKey key{load_score(entry.meta.resources, count, entry.meta.max_functions), count,
                       const_cast<NodeEntry*>(&entry)};
    if (best == nullptr || key < best_key) {
      best = &entry;
      best_key = key;
    }
  });
  if (best != nullptr) plan.nodes.push_back(best->id);
  std::sort(plan.nodes.begin(), plan.nodes.end());
  std::sort(plan.rejected.begin(), plan.rejected.end());
  return plan;
}

nlohmann::json PlacementPlan::to_json() const {
  nlohmann::json rejected_json = nlohmann::json::object();
  for (const auto& [node, reason] : rejected) rejected_json[node] = reason;
  return {{"nodes", nodes}, {"rejected", std::move(rejected_json)}};
}

bool EdgeCluster::remove_function(std::string_view function_id) {
  {
    std::lock_guard lock(state_->mutex);
    auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return false;
    for (NodeEntry* node : position->second.nodes) state_->undeploy_from(*node, function_id);
    state_->routes.erase(function_id);
    state_->intents.erase(position);
  }
  EpochDomain::global().reclaim();
  return true;
}

std::size_t EdgeCluster::redeploy(std::string_view function_id) {
  return redeploy_unless_running(function_id, {});
}

std::size_t EdgeCluster::redeploy_unless_running(std::string_view function_id,
                                                 std::string_view sha256) {
  std::size_t replaced = 0;
  {
    std::lock_guard lock(state_->mutex);
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return 0;
    const Intent& intent = position->second;
    if (!sha256.empty() &&
        std::all_of(intent.nodes.begin(), intent.nodes.end(), [&](const NodeEntry* node) {
          const FunctionStats stats = node->runtime->get_function_stats(function_id);
          return stats.is_warm && stats.plugin_sha256 == sha256;
        })) {
      return 0;
    }
    for (NodeEntry* node : intent.nodes) {
      state_->deploy_on(*node, intent.function);
      ++replaced;
    }
  }
  EpochDomain::global().reclaim();
  return replaced;
}

bool EdgeCluster::drain_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    // Functions move first and the status changes after, so that a call
    // always finds a route to a node in service.
    state_->evacuate(*entry, /*remove_all_copies=*/true);
    state_->set_status(*entry, EdgeNodeStatus::Maintenance);
  }
  // Every call that could still run on the drained node started before this
  // point: wait for them to return (and their plugins to shut down).
  EpochDomain::global().synchronize();
  return true;
}

bool EdgeCluster::resume_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    if (entry->meta.status == EdgeNodeStatus::Maintenance) {
      entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
      state_->set_status(*entry, State::in_service_status(entry->meta));
    }
    state_->apply_intents(*entry);
  }
  EpochDomain::global().reclaim();
  return true;
}

std::vector<std::string> EdgeCluster::detect_stale_nodes(double timeout_seconds) {
  if (!std::isfinite(timeout_seconds) || timeout_seconds < 0) {
    throw std::invalid_argument("stale timeout must be a finite, non-negative number of seconds");
  }
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const std::int64_t cutoff = now_ns() - timeout.count();
  std::vector<std::string> stale;
  {
    std::lock_guard lock(state_->mutex);
    std::vector<NodeEntry*> candidates;
    state_->heartbeats.for_each_older_than(cutoff,
                                           [&](NodeEntry* entry) { candidates.push_back(entry); });
    std::vector<NodeEntry*> newly_offline;
    for (NodeEntry* entry : candidates) {
      if (entry->meta.status == EdgeNodeStatus::Maintenance) continue;
      stale.push_back(entry->id);
      if (entry->meta.status != EdgeNodeStatus::Offline) newly_offline.push_back(entry);
    }
    // All of them leave the placement index before any function moves, so
    // nothing fails over onto a node that is itself going offline.
    for (NodeEntry* entry : newly_offline) state_->set_status(*entry, EdgeNodeStatus::Offline);
    for (NodeEntry* entry : newly_offline) state_->evacuate(*entry, /*remove_all_copies=*/false);
  }
  std::sort(stale.begin(), stale.end());
  if (!stale.empty()) EpochDomain::global().reclaim();
  return stale;
}

ClusterHealth EdgeCluster::health() const {
  ClusterHealth health;
  std::lock_guard lock(state_->mutex);
  double cpu_sum = 0;
  double memory_sum = 0;
  state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
    const EdgeNode& node = entry.meta;
    ++health.total_nodes;
    switch (node.status) {
      case EdgeNodeStatus::Online:
        ++health.online;
        break;
      case EdgeNodeStatus::Offline:
        ++health.offline;
        break;
      case EdgeNodeStatus::Degraded:
        ++health.degraded;
        break;
      case EdgeNodeStatus::Syncing:
        ++health.syncing;
        break;
      case EdgeNodeStatus::Maintenance:
        ++health.maintenance;
        break;
    }
    if (node.is_healthy()) ++health.healthy_nodes;
    if (node.resources.is_overloaded()) ++health.overloaded_nodes;
    health.total_functions += entry.runtime->function_count();
    health.total_invocations += entry.runtime->total_invocations();
    health.cold_starts += entry.runtime->cold_start_count();
    cpu_sum += node.resources.cpu_percent;
    memory_sum += node.resources.memory_percent();
  });
  for (const auto& [id, intent] : state_->intents) {
    if (intent.nodes.empty()) ++health.pending_functions;
  }
  if (health.total_nodes == 0) {
    health.status = "empty";
    return health;
  }
  const auto nodes = static_cast<double>(health.total_nodes);
  health.avg_cpu_percent = cpu_sum / nodes;
  health.avg_memory_percent = memory_sum / nodes;
  if (health.healthy_nodes == health.total_nodes) {
    health.status = "healthy";
  } else if (health.healthy_nodes * 2 >= health.total_nodes) {
    health.status = "degraded";
  } else {
    health.status = "critical";
  }
  return health;
}

std::optional<EdgeNode> EdgeCluster::node(std::string_view node_id) const {
  std::lock_guard lock(state_->mutex);
  const NodeEntry* entry = state_->find(node_id);
  if (entry == nullptr) return std::nullopt;
  return state_->snapshot(*entry);
}

std::vector<EdgeNode> EdgeCluster::nodes() const {
  std::vector<EdgeNode> result;
  {
    std::lock_guard lock(state_->mutex);
    state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
      result.push_back(state_->snapshot(entry));
    });
  }
  std::sort(result.begin(), result.end(),
            [](const EdgeNode& a, const EdgeNode& b) { return a.id < b.id; });
  return result;
}

EdgeRuntime* EdgeCluster::runtime(std::string_view node_id) {
  NodeEntry* entry = state_->find(node_id);
  return entry != nullptr ? entry->runtime.get() : nullptr;
}

std::vector<std::string> EdgeCluster::nodes_running(std::string_view function_id) const {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(state_->mutex);
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return ids;
    for (const NodeEntry* node : position->second.nodes) ids.push_back(node->id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> EdgeCluster::function_ids() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> ids;
  for (const auto& [id, intent] : state_->intents) ids.push_back(id);
  return ids;  // std::map keeps them sorted
}

std::optional<EdgeFunction> EdgeCluster::function(std::string_view function_id) const {
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function_id);
  if (position == state_->intents.end()) return std::nullopt;
  return position->second.function;
}

std::optional<Placement> EdgeCluster::placement(std::string_view function_id) const {
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function_id);
  if (position == state_->intents.end()) return std::nullopt;
  return position->second.placement;
}

std::vector<std::pair<std::string, FunctionStats>> EdgeCluster::function_stats(
    std::string_view function_id) const {
  std::vector<std::pair<std::string, FunctionStats>> result;
  {
    std::lock_guard lock(state_->mutex);  // keeps the nodes (and runtimes) registered
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return result;
    for (const NodeEntry* node : position->second.nodes) {
      result.emplace_back(node->id, node->runtime->get_function_stats(function_id));
    }
  }
  std::sort(result.begin(), result.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return result;
}

const std::shared_ptr<PluginStore>& EdgeCluster::plugin_store() const noexcept {
  return state_->options.plugin_store;
}

std::int64_t EdgeCluster::in_flight() const {
  std::int64_t total = 0;
  std::lock_guard lock(state_->mutex);
  state_->nodes.for_each(
      [&](std::string_view, const NodeEntry& entry) { total += entry.runtime->in_flight(); });
  return total;
}

bool EdgeCluster::wait_for_idle(std::chrono::milliseconds timeout) const {
  // Polling: a call's end is not signalled (that would cost every call a
  // shared write); a few milliseconds of delay only matter at shutdown.
  constexpr std::chrono::milliseconds kPollInterval{5};
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    if (in_flight() <= 0) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(kPollInterval, deadline - now));
  }
}

std::string EdgeCluster::invoke(std::string_view function_id, std::string_view input) {
  return invoke_routed(function_id, input).result.output;
}

EdgeCluster::RoutedCall EdgeCluster::invoke_routed(std::string_view function_id,
                                                   std::string_view input) {
  // A route can change between reading it and calling the node (a drain or a
  // move): the node then no longer has the function, or is no longer in
  // service, and we read the route again.
  constexpr int kAttempts = 3;
  EpochGuard guard;  // across attempts, so a route's address is never reused meanwhile
  const Route* previous_route = nullptr;
  for (int attempt = 1;; ++attempt) {
    const Route* route = state_->routes.find(function_id);
    if (route == nullptr)
      throw std::invalid_argument("unknown function '" + std::string(function_id) + "'");
    const bool route_changed = std::exchange(previous_route, route) != route;
    NodeEntry* best = nullptr;
    bool best_healthy = false;
    double best_score = 0;
    for (NodeEntry* node : route->nodes) {
      const EdgeNodeStatus status = node->status.load(std::memory_order_relaxed);
      if (status != EdgeNodeStatus::Online && status != EdgeNodeStatus::Degraded) continue;
      const bool healthy = node->healthy.load(std::memory_order_relaxed);
      const double score = node->score.load(std::memory_order_relaxed);
      if (best == nullptr || (healthy && !best_healthy) ||
          (healthy == best_healthy && score < best_score)) {
        best = node;
        best_healthy = healthy;
        best_score = score;
      }
    }
    if (best == nullptr) {
      if (attempt < kAttempts && route_changed) continue;  // one more look at a fresh route
      throw EdgeExecutionError(
          "function '" + std::string(function_id) + "' cannot be served now: " +
          (route->nodes.empty() ? std::string("it is pending, no node qualifies for it")
                                : "every node running it is offline or in maintenance"));
    }
    try {
      return {best->id, best->runtime->invoke_detailed(function_id, input)};
    } catch (const std::invalid_argument&) {
      if (attempt == kAttempts) {
        throw EdgeExecutionError("function '" + std::string(function_id) +
                                 "' kept moving while being called; try again");
      }
    }
  }
}

nlohmann::json ClusterHealth::to_json() const {
  return {{"total_nodes", total_nodes},
          {"online", online},
          {"offline", offline},
          {"degraded", degraded},
          {"syncing", syncing},
          {"maintenance", maintenance},
          {"healthy_nodes", healthy_nodes},
          {"overloaded_nodes", overloaded_nodes},
          {"total_functions", total_functions},
          {"total_invocations", total_invocations},
          {"cold_starts", cold_starts},
          {"avg_cpu_percent", avg_cpu_percent},
          {"avg_memory_percent", avg_memory_percent},
          {"pending_functions", pending_functions},
          {"status", status}};
}

}  // namespace edge
